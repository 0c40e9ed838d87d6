// The Gemma 4 chat template, rendered in C++ byte for byte as jinja2 renders the official
// `chat_template.jinja` (the revision in ../shared/fixtures/chat_templates, checked against the
// goldens in reference_outputs/chat_template/renderings.json), the way transformers'
// apply_chat_template calls it. This is a renderer of that one template's semantics, not a Jinja
// interpreter: each macro of the template is one function below, under the macro's name.
//
// Input: messages and tools in the OpenAI / HF shape, e.g.
//   [{"role": "system", "content": "..."},
//    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "..."}]},
//    {"role": "assistant", "reasoning_content": "...", "tool_calls": [{"id": "c1", "type": "function",
//        "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
//    {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]
// Output, e.g. for one user turn with thinking off:
//   <bos><|turn>user\n{text}<turn|>\n<|turn>model\n<|channel>thought\n<channel|>
//
// What the template does (docs/gemma4-architecture.md §7.2, runtime-bugs.md §3):
//  * a system turn when thinking is on, tools are given, or the first message is system/developer:
//    "<|think|>\n" (thinking), the trimmed system text, then "<|tool>declaration:NAME{...}<tool|>";
//  * assistant turns are "model"; earlier thinking ("<|channel>...<channel|>") is stripped from
//    their text; reasoning is replayed only on tool-calling turns after the last user message;
//  * tool calls "<|tool_call>call:NAME{k:v,...}<tool_call|>" and the responses of the role:"tool"
//    messages that follow, "<|tool_response>response:NAME{...}<tool_response|>", stay in the model
//    turn; a model turn that only carries responses is left open, and so is the generation prompt;
//  * images, audio and video become "<|image|>", "<|audio|>", "<|video|>" (the processor expands
//    them into soft tokens later);
//  * the generation prompt "<|turn>model\n" adds an empty thought channel
//    "<|channel>thought\n<channel|>" unless enable_thinking is true.
//
// Python semantics the output depends on are reproduced: str() of numbers (1e-07, 1e+16, 3.0),
// None/True/False, repr() of lists ("['STRING', 'NULL']"), str.strip() with Unicode whitespace,
// and `dictsort` (keys ordered case-insensitively, ties in insertion order — hence ordered_json).
// Where the template itself would fail (a tool response whose name cannot be resolved, a tool call
// without a name), the renderer throws ChatTemplateError. Known limits: upper()/lower() fold ASCII
// only; message content that is a JSON object (not a string or a list) is rejected.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gemma4 {

struct ChatTemplateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ChatTemplateOptions {
  bool add_generation_prompt = false;
  std::optional<bool> enable_thinking;  // nullopt: not passed to the template (thinking off)
  std::string bos_token = "<bos>";
};

namespace chat_template_detail {

using Json = nlohmann::ordered_json;

// ---- Python string and number semantics ------------------------------------------------------

// Decodes one UTF-8 code point at s[i] (invalid bytes decode as themselves, length 1).
inline std::uint32_t code_point_at(std::string_view s, std::size_t i, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  len = n;
  return cp;
}

// Python's str.isspace() (what str.strip() removes).
inline bool is_python_space(std::uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

// Python str.strip() / Jinja `trim`.
inline std::string strip(std::string_view s) {
  std::size_t begin = 0, end = s.size();
  while (begin < end) {
    std::size_t len;
    if (!is_python_space(code_point_at(s, begin, len))) break;
    begin += len;
  }
  while (end > begin) {
    std::size_t start = end - 1;  // back up to the lead byte of the last character
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80 && end - start < 4) --start;
    std::size_t len;
    const std::uint32_t cp = code_point_at(s, start, len);
    if (start + len != end || !is_python_space(cp)) break;
    end = start;
  }
  return std::string(s.substr(begin, end - begin));
}

inline std::string ascii_upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

inline std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// Python repr(float): the shortest round-trip digits, fixed notation when the decimal exponent
// is in [-4, 16), otherwise d.ddde+XX (CPython's float_repr_style "short").
inline std::string python_float(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // e.g. "-1.2345e+02"
  if (sci == "inf" || sci == "-inf") return sci;
  if (sci.find("nan") != std::string::npos) return "nan";
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const std::size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(sci.substr(e + 1));
  const int decpt = exponent + 1;  // value = 0.DIGITS * 10^decpt
  const int n = static_cast<int>(digits.size());
  std::string out;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) out = "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
    else if (decpt >= n) out = digits + std::string(static_cast<std::size_t>(decpt - n), '0') + ".0";
    else out = digits.substr(0, static_cast<std::size_t>(decpt)) + "." + digits.substr(static_cast<std::size_t>(decpt));
  } else {
    out = digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    const int x = decpt - 1;
    std::string xs = std::to_string(x < 0 ? -x : x);
    if (xs.size() < 2) xs = "0" + xs;
    out += std::string("e") + (x < 0 ? "-" : "+") + xs;
  }
  return sign + out;
}

// Python repr(str): single quotes unless the text has ' and no ".
inline std::string python_repr_string(std::string_view s) {
  const bool dq = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len;
    const std::uint32_t cp = code_point_at(s, i, len);
    const std::string_view ch = s.substr(i, len);
    i += len;
    char buf[16];
    if (cp == '\\' || cp == static_cast<std::uint32_t>(q)) {
      out += '\\';
      out += ch;
    } else if (cp == '\n') out += "\\n";
    else if (cp == '\r') out += "\\r";
    else if (cp == '\t') out += "\\t";
    else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0xA0) || cp == 0xAD) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", cp);
      out += buf;
    } else if ((cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x205F && cp <= 0x206F) ||
               cp == 0x3000 || cp == 0xFEFF || cp == 0x1680) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", cp);  // non-printable to Python (separators, format chars)
      out += buf;
    } else {
      out += ch;
    }
  }
  out += q;
  return out;
}

// Python repr() of a JSON value as Python would hold it (dict, list, str, int, float, bool, None).
inline std::string python_repr(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return python_repr_string(v.get_ref<const std::string&>());
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : v.items()) {
        if (!first) out += ", ";
        first = false;
        out += python_repr_string(k) + ": " + python_repr(x);
      }
      return out + "}";
    }
    case Json::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += python_repr(v[i]);
      }
      return out + "]";
    }
    case Json::value_t::boolean: return v.get<bool>() ? "True" : "False";
    case Json::value_t::null: return "None";
    case Json::value_t::number_integer: return std::to_string(v.get<std::int64_t>());
    case Json::value_t::number_unsigned: return std::to_string(v.get<std::uint64_t>());
    case Json::value_t::number_float: return python_float(v.get<double>());
    default: return "";
  }
}

// Python str() / Jinja `{{ x }}`; nullptr stands for Jinja's Undefined, which renders as "".
inline std::string str(const Json* v) {
  if (v == nullptr) return "";
  if (v->is_string()) return v->get<std::string>();
  return python_repr(*v);
}
inline std::string str(const Json& v) { return str(&v); }

// Python truthiness; Undefined is false.
inline bool truthy(const Json* v) {
  if (v == nullptr) return false;
  switch (v->type()) {
    case Json::value_t::null: return false;
    case Json::value_t::boolean: return v->get<bool>();
    case Json::value_t::string:
    case Json::value_t::array:
    case Json::value_t::object: return !v->empty();
    case Json::value_t::number_integer: return v->get<std::int64_t>() != 0;
    case Json::value_t::number_unsigned: return v->get<std::uint64_t>() != 0;
    case Json::value_t::number_float: return v->get<double>() != 0.0;
    default: return false;
  }
}

[[noreturn]] inline void fail(const std::string& what) { throw ChatTemplateError("chat template: " + what); }

// mapping.get(key): nullptr when absent. On a non-mapping, Jinja fails (calling an undefined .get).
inline const Json* get(const Json& m, std::string_view key, const char* where) {
  if (!m.is_object()) fail(std::string(where) + ": expected an object, got " + m.dump());
  auto it = m.find(std::string(key));
  return it == m.end() ? nullptr : &*it;
}

// Jinja `x[key]`: Undefined (nullptr) when absent or when x is not a mapping.
inline const Json* item(const Json* m, std::string_view key) {
  if (m == nullptr || !m->is_object()) return nullptr;
  auto it = m->find(std::string(key));
  return it == m->end() ? nullptr : &*it;
}

// Python `"..." + x`: x must be a str.
inline const std::string& concat_str(const Json* v, const char* what) {
  if (v == nullptr || !v->is_string())
    fail(std::string(what) + " must be a string, got " + (v ? v->dump() : std::string("nothing")));
  return v->get_ref<const std::string&>();
}

// Jinja `dictsort`: items ordered by key, case-insensitively; ties keep insertion order.
inline std::vector<std::pair<std::string, const Json*>> dictsort(const Json& m) {
  std::vector<std::pair<std::string, const Json*>> items;
  for (auto it = m.begin(); it != m.end(); ++it) items.emplace_back(it.key(), &it.value());
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return ascii_lower(a.first) < ascii_lower(b.first); });
  return items;
}

// ---- the template's macros ------------------------------------------------------------------

constexpr std::string_view kQuote = "<|\"|>";  // the string delimiter token

inline std::string delimited(std::string_view s) { return std::string(kQuote) + std::string(s) + std::string(kQuote); }

// format_argument(argument, escape_keys): strings in <|"|>, bare booleans and numbers, keys sorted.
inline std::string format_argument(const Json& a, bool escape_keys = true) {
  if (a.is_string()) return delimited(a.get_ref<const std::string&>());
  if (a.is_boolean()) return a.get<bool>() ? "true" : "false";
  if (a.is_object()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [key, value] : dictsort(a)) {
      if (!first) out += ',';
      first = false;
      out += escape_keys ? delimited(key) : key;
      out += ':' + format_argument(*value, escape_keys);
    }
    return out + "}";
  }
  if (a.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i) out += ',';
      out += format_argument(a[i], escape_keys);
    }
    return out + "]";
  }
  return str(a);  // numbers, None
}

inline std::string delimited_list(const Json* items) {  // [<|"|>a<|"|>,<|"|>b<|"|>]
  std::string out;
  if (items == nullptr) return out;
  if (!items->is_array()) fail("a 'required' list must be an array, got " + items->dump());
  for (std::size_t i = 0; i < items->size(); ++i) {
    if (i) out += ',';
    out += delimited(str((*items)[i]));
  }
  return out;
}

// format_parameters(properties, required, filter_keys): one JSON-schema properties object.
inline std::string format_parameters(const Json& properties, bool filter_keys = false) {
  static const std::vector<std::string> kStandardKeys = {"description", "type", "properties", "required", "nullable"};
  std::string out;
  bool found_first = false;
  for (const auto& [key, value_ptr] : dictsort(properties)) {
    if (filter_keys && std::find(kStandardKeys.begin(), kStandardKeys.end(), key) != kStandardKeys.end()) continue;
    const Json& value = *value_ptr;
    bool add_comma = false;
    auto comma = [&] {
      if (add_comma) out += ',';
      else add_comma = true;
    };
    if (found_first) out += ',';
    found_first = true;
    out += key + ":{";
    const Json* type = get(value, "type", ("tool parameter '" + key + "'").c_str());
    const std::string p_type = ascii_upper(type ? str(type) : "");
    if (const Json* d = get(value, "description", "tool parameter"); truthy(d)) {
      out += "description:" + delimited(str(d));
      add_comma = true;
    }
    if (p_type == "STRING") {
      if (const Json* e = get(value, "enum", "tool parameter"); truthy(e)) {
        comma();
        out += "enum:" + format_argument(*e);
      }
    } else if (p_type == "ARRAY") {
      const Json* items = get(value, "items", "tool parameter");
      if (items && items->is_object() && !items->empty()) {
        comma();
        out += "items:{";
        bool items_first = true;
        for (const auto& [item_key, item_value] : dictsort(*items)) {
          if (item_value->is_null()) continue;
          if (!items_first) out += ',';
          items_first = false;
          if (item_key == "properties") {
            out += "properties:{";
            if (item_value->is_object()) out += format_parameters(*item_value);
            out += "}";
          } else if (item_key == "required") {
            out += "required:[" + delimited_list(item_value) + "]";
          } else if (item_key == "type") {
            if (item_value->is_string()) {
              out += "type:" + format_argument(Json(ascii_upper(item_value->get<std::string>())));
            } else {
              if (!item_value->is_array()) fail("items.type must be a string or a list, got " + item_value->dump());
              Json upper = Json::array();
              for (const auto& t : *item_value) upper.push_back(ascii_upper(str(t)));
              out += "type:" + format_argument(upper);
            }
          } else {
            out += item_key + ":" + format_argument(*item_value);
          }
        }
        out += "}";
      }
    }
    if (truthy(get(value, "nullable", "tool parameter"))) {
      comma();
      out += "nullable:true";
    }
    if (p_type == "OBJECT") {
      const Json* props = get(value, "properties", "tool parameter");
      comma();
      // A schema without a properties mapping lists its own non-standard keys as properties.
      out += "properties:{" + (props && props->is_object() ? format_parameters(*props) : format_parameters(value, true)) + "}";
      if (const Json* req = get(value, "required", "tool parameter"); truthy(req)) {
        comma();
        out += "required:[" + delimited_list(req) + "]";
      }
    }
    comma();
    out += "type:" + delimited(p_type) + "}";
  }
  return out;
}

// format_function_declaration(tool): declaration:NAME{description:...,parameters:{...},response:{...}}
// (Parameters without a "type", or a response whose type is not OBJECT, leave a brace open: the
// official template does that, so the renderer does too.)
inline std::string format_function_declaration(const Json& tool) {
  const Json* function = item(&tool, "function");
  if (function == nullptr || !function->is_object()) fail("a tool needs a 'function' object: " + tool.dump());
  std::string out = "declaration:" + str(item(function, "name")) + "{description:" + std::string(kQuote) +
                    str(item(function, "description")) + std::string(kQuote);
  if (const Json* params = get(*function, "parameters", "tool function"); truthy(params)) {
    out += ",parameters:{";
    if (const Json* props = get(*params, "properties", "tool parameters"); truthy(props)) {
      if (!props->is_object()) fail("tool parameters.properties must be an object");
      out += "properties:{" + format_parameters(*props) + "},";
    }
    if (const Json* req = get(*params, "required", "tool parameters"); truthy(req))
      out += "required:[" + delimited_list(req) + "],";
    if (const Json* type = get(*params, "type", "tool parameters"); truthy(type))
      out += "type:" + delimited(ascii_upper(str(type))) + "}";
  }
  if (function->contains("response")) {
    const Json& response = (*function)["response"];
    out += ",response:{";
    if (const Json* d = get(response, "description", "tool response"); truthy(d))
      out += "description:" + delimited(str(d)) + ",";
    const Json* type = get(response, "type", "tool response");
    const std::string r_type = ascii_upper(type ? str(type) : "");
    if (r_type == "OBJECT") out += "type:" + delimited(r_type) + "}";
  }
  return out + "}";
}

// strip_thinking(text): drops every "<|channel>...<channel|>" block (and an unclosed opener's tail).
inline std::string strip_thinking(std::string_view text) {
  constexpr std::string_view kClose = "<channel|>", kOpen = "<|channel>";
  std::string result;
  std::size_t pos = 0;
  while (true) {
    const std::size_t close = text.find(kClose, pos);
    const std::string_view part = text.substr(pos, close == std::string_view::npos ? std::string_view::npos : close - pos);
    const std::size_t open = part.find(kOpen);
    result += part.substr(0, open);
    if (close == std::string_view::npos) break;
    pos = close + kClose.size();
  }
  return strip(result);
}

// format_tool_response_block(name, response)
inline std::string format_tool_response_block(const std::string& name, const Json& response) {
  std::string out = "<|tool_response>response:" + name + "{";
  if (response.is_object()) {
    bool first = true;
    for (const auto& [key, value] : dictsort(response)) {
      if (!first) out += ',';
      first = false;
      out += key + ":" + format_argument(*value, false);
    }
  } else {
    out += "value:" + format_argument(response, false);
  }
  return out + "}<tool_response|>";
}

// message.get(key) after transformers' preprocessing, which drops keys whose value is None.
inline const Json* field(const Json& message, std::string_view key) {
  const Json* v = item(&message, key);
  return (v && v->is_null()) ? nullptr : v;
}

// transformers aliases reasoning fields before rendering: reasoning_content := the first present
// of reasoning_content, thinking, reasoning. The template reads reasoning or reasoning_content.
inline const Json* reasoning_of(const Json& message) {
  const Json* reasoning = field(message, "reasoning");
  if (truthy(reasoning)) return reasoning;
  for (const char* k : {"reasoning_content", "thinking", "reasoning"})
    if (const Json* v = field(message, k)) return v;
  return nullptr;
}

inline const std::string& role_of(const Json& message) {
  const Json* role = field(message, "role");
  if (role == nullptr || !role->is_string()) fail("every message needs a string 'role': " + message.dump());
  return role->get_ref<const std::string&>();
}

}  // namespace chat_template_detail

// Renders a conversation (messages: array of message objects; tools: null or an array of
// function tools). Throws ChatTemplateError where the official template would fail.
inline std::string render_chat_template(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                        const ChatTemplateOptions& options = {}) {
  namespace d = chat_template_detail;
  using Json = d::Json;
  if (!messages.is_array() || messages.empty()) d::fail("messages must be a non-empty array");
  if (!tools.is_null() && !tools.is_array()) d::fail("tools must be null or an array");
  const bool thinking = options.enable_thinking.value_or(false);
  const bool has_tools = tools.is_array() && !tools.empty();

  std::string out = options.bos_token;
  std::string prev_type;  // ns.prev_message_type; "" is None
  std::size_t first = 0;  // loop_messages = messages[first:]

  // System turn: thinking flag, system/developer text, tool declarations.
  const Json* first_role = d::field(messages[0], "role");
  const bool system_first = first_role && first_role->is_string() &&
                            (*first_role == "system" || *first_role == "developer");
  if (thinking || has_tools || system_first) {
    out += "<|turn>system\n";
    if (thinking) {
      out += "<|think|>\n";
      prev_type = "think";
    }
    if (system_first) {
      const Json* content = d::field(messages[0], "content");
      if (content && content->is_string()) {
        out += d::strip(content->get<std::string>());
      } else if (content && content->is_array()) {
        for (const auto& part : *content) out += d::strip(d::str(d::item(&part, "text"))) + " ";
      } else if (content && content->is_object()) {
        d::fail("system content must be a string or a list of parts");
      }
      first = 1;
    }
    if (has_tools) {
      for (const auto& tool : tools) out += "<|tool>" + d::strip(d::format_function_declaration(tool)) + "<tool|>";
      prev_type = "tool";
    }
    out += "<turn|>\n";
  }

  const std::size_t n = messages.size();
  // Index (in loop_messages) of the last user message; reasoning is replayed only after it.
  long last_user = -1;
  for (std::size_t i = first; i < n; ++i)
    if (d::field(messages[i], "role") && d::role_of(messages[i]) == "user") last_user = static_cast<long>(i - first);

  for (std::size_t i = first; i < n; ++i) {
    const Json& message = messages[i];
    const std::string& raw_role = d::role_of(message);
    if (raw_role == "tool") continue;  // rendered with the tool call it answers
    prev_type.clear();
    const std::string role = raw_role == "assistant" ? "model" : raw_role;

    // An assistant message right after another (tool messages aside) continues the same model turn.
    std::string prev_non_tool_role;
    for (std::size_t j = i; j-- > first;) {
      if (d::role_of(messages[j]) != "tool") {
        prev_non_tool_role = d::role_of(messages[j]);
        break;
      }
    }
    if (!(role == "model" && prev_non_tool_role == "assistant")) out += "<|turn>" + role + "\n";

    const Json* tool_calls = d::field(message, "tool_calls");
    if (const Json* thought = d::reasoning_of(message);
        d::truthy(thought) && static_cast<long>(i - first) > last_user && d::truthy(tool_calls)) {
      out += "<|channel>thought\n" + d::concat_str(thought, "reasoning") + "\n<channel|>";
    }

    if (d::truthy(tool_calls)) {
      if (!tool_calls->is_array()) d::fail("tool_calls must be an array");
      for (const auto& call : *tool_calls) {
        const Json* function = d::item(&call, "function");
        out += "<|tool_call>call:" + d::concat_str(d::item(function, "name"), "tool call function.name") + "{";
        if (const Json* args = d::item(function, "arguments"); args && args->is_object()) {
          bool first_arg = true;
          for (const auto& [key, value] : d::dictsort(*args)) {
            if (!first_arg) out += ',';
            first_arg = false;
            out += key + ":" + d::format_argument(*value, false);
          }
        } else if (args && args->is_string()) {
          out += args->get<std::string>();  // a JSON string is inserted verbatim
        }
        out += "}<tool_call|>";
      }
      prev_type = "tool_call";
    }

    bool wrote_responses = false;
    if (const Json* responses = d::field(message, "tool_responses"); d::truthy(responses)) {
      // Legacy (Gemma-native): responses embedded on the assistant message.
      if (!responses->is_array()) d::fail("tool_responses must be an array");
      for (const auto& r : *responses) {
        const Json* name = d::item(&r, "name");
        const std::string tool_name = name ? d::concat_str(name, "tool_responses[].name") : "unknown";
        const Json* response = d::item(&r, "response");
        out += d::format_tool_response_block(tool_name, response ? *response : Json());
        wrote_responses = true;
        prev_type = "tool_response";
      }
    } else if (d::truthy(tool_calls)) {
      // OpenAI shape: the role:"tool" messages that follow answer these calls.
      for (std::size_t k = i + 1; k < n && d::role_of(messages[k]) == "tool"; ++k) {
        const Json& follow = messages[k];
        const Json* name = d::field(follow, "name");
        const Json* call_id = d::field(follow, "tool_call_id");
        for (const auto& call : *tool_calls) {  // the last call with the same id wins
          const Json* id = d::field(call, "id");
          const bool same = (id == nullptr && call_id == nullptr) || (id && call_id && *id == *call_id);
          if (same) name = d::item(d::item(&call, "function"), "name");
        }
        const std::string& tool_name = d::concat_str(name, "a tool response's name (no 'name' and no matching tool_call_id)");
        const Json* body = d::field(follow, "content");
        if (body && body->is_array()) {
          std::string text;
          for (const auto& part : *body) {
            if (!part.is_object()) d::fail("tool content parts must be objects");
            const Json* type = d::field(part, "type");
            if (type && *type == "text") text += d::concat_str(d::field(part, "text"), "a tool content part's text");
          }
          out += d::format_tool_response_block(tool_name, Json(text));
        } else if (body && body->is_object()) {
          d::fail("tool message content must be a string or a list of parts");
        } else {
          out += d::format_tool_response_block(tool_name, body ? *body : Json());
        }
        wrote_responses = true;
        prev_type = "tool_response";
      }
    }

    std::string captured;
    const Json* content = d::field(message, "content");
    if (content && content->is_string()) {
      captured = role == "model" ? d::strip_thinking(content->get<std::string>()) : d::strip(content->get<std::string>());
    } else if (content && content->is_array()) {
      for (const auto& part : *content) {
        const Json* type = d::item(&part, "type");
        if (type == nullptr || !type->is_string()) continue;
        if (*type == "text") {
          const Json* text = d::item(&part, "text");
          captured += role == "model" ? d::strip_thinking(d::concat_str(text, "a text part's text")) : d::strip(d::str(text));
        } else if (*type == "image") {
          captured += "<|image|>";
          prev_type = "image";
        } else if (*type == "audio") {
          captured += "<|audio|>";
          prev_type = "audio";
        } else if (*type == "video") {
          captured += "<|video|>";
          prev_type = "video";
        }
      }
    } else if (content && content->is_object()) {
      d::fail("message content must be a string or a list of parts");
    }
    out += captured;
    const bool has_content = !d::strip(captured).empty();

    if (prev_type == "tool_call" && !wrote_responses) {
      out += "<|tool_response>";  // the call awaits its response: the model turn stays open
    } else if (!(wrote_responses && !has_content)) {
      out += "<turn|>\n";
    }
  }

  if (options.add_generation_prompt && prev_type != "tool_response" && prev_type != "tool_call") {
    out += "<|turn>model\n";
    if (!thinking) out += "<|channel>thought\n<channel|>";
  }
  return out;
}

// Convenience for nlohmann::json callers (its objects are key-sorted, which only matters for keys
// that differ in case alone; pass ordered_json to keep the caller's order for those ties).
inline std::string render_chat_template(const nlohmann::json& messages, const nlohmann::json& tools,
                                        const ChatTemplateOptions& options = {}) {
  return render_chat_template(nlohmann::ordered_json::parse(messages.dump()), nlohmann::ordered_json::parse(tools.dump()),
                              options);
}

}  // namespace gemma4
