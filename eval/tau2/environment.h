// Tools, tool kits and the environment: how a tool call from the agent (or, in telecom, from the
// user) becomes a ToolMessage, and how a trajectory is replayed into a fresh environment.
//
// Mirrors tau2's Environment.get_response / set_state:
//   * a tool raising gives content "Error: <message>" and error=true;
//   * non-string results are sent as json.dumps(result) (ints, floats and bools first become
//     their str(), so `True` is sent as "\"True\"");
//   * replay re-executes only state-mutating tools, skips unknown tool names, and (strict mode)
//     checks that each replayed result equals the recorded one.
#pragma once

#include "tau2/data_model.h"
#include "tau2/messages.h"
#include "tau2/json.h"

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gemma4::eval::tau2 {

// A tool raised: the text is what Python's str(exception) would be.
struct ToolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class ToolType { Read, Write, Think, Generic };

inline const char* to_string(ToolType t) {
  switch (t) {
    case ToolType::Read: return "read";
    case ToolType::Write: return "write";
    case ToolType::Think: return "think";
    case ToolType::Generic: return "generic";
  }
  return "?";
}

// One parameter of a tool, as pydantic's create_model sees the Python signature.
struct ToolParam {
  std::string name;
  Json schema;            // JSON-schema fragment of the annotation, without title/description
  std::string description;
  bool required = true;
  Json default_value = nullptr;
};

struct Tool {
  std::string name;
  std::string description;  // short description, plus "\n\n" + long description if any
  std::vector<ToolParam> params;
  Json defs = Json::object();  // "$defs" used by the parameter schemas
  ToolType type = ToolType::Read;
  bool mutates_state = false;  // WRITE tools mutate; others are skipped on replay
  std::function<Json(const Json& args)> call;

  // The OpenAI "tools" entry, key for key what tau2's Tool.openai_schema produces (pydantic
  // model_json_schema(): keys sorted except inside "properties").
  Json openai_schema() const {
    Json properties = Json::object();
    Json required = Json::array();
    for (const auto& p : params) {
      Json prop = p.schema;
      if (!p.description.empty()) prop["description"] = p.description;
      prop["title"] = field_title(p.name);
      if (!p.required) prop["default"] = p.default_value;
      properties[p.name] = sort_schema_keys(prop);
      if (p.required) required.push_back(p.name);
    }
    Json parameters = Json::object();
    if (!defs.empty()) parameters["$defs"] = defs;
    parameters["properties"] = properties;
    if (!required.empty()) parameters["required"] = required;
    parameters["title"] = "parameters";
    parameters["type"] = "object";
    Json function = Json::object();
    function["name"] = name;
    function["description"] = description;
    function["parameters"] = parameters;
    Json out = Json::object();
    out["type"] = "function";
    out["function"] = function;
    return out;
  }

  static Json sort_schema_keys(const Json& v, const std::string& parent = "") {
    if (v.is_array()) {
      Json out = Json::array();
      for (const auto& x : v) out.push_back(sort_schema_keys(x, parent));
      return out;
    }
    if (!v.is_object()) return v;
    std::vector<std::string> keys;
    for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(it.key());
    if (parent != "properties" && parent != "default") std::sort(keys.begin(), keys.end());
    Json out = Json::object();
    for (const auto& k : keys) out[k] = sort_schema_keys(v.at(k), k);
    return out;
  }
};

// Schema fragments for ToolParam::schema.
namespace schema {
inline Json string() { return Json{{"type", "string"}}; }
inline Json integer() { return Json{{"type", "integer"}}; }
inline Json number() { return Json{{"type", "number"}}; }
inline Json boolean() { return Json{{"type", "boolean"}}; }
inline Json enumeration(std::vector<std::string> values) {
  Json e = Json::array();
  for (auto& v : values) e.push_back(v);
  return Json{{"enum", e}, {"type", "string"}};
}
inline Json array_of(Json item) { return Json{{"items", std::move(item)}, {"type", "array"}}; }
// List[Model | dict]: pydantic writes anyOf [$ref, free-form object].
inline Json array_of_model_or_dict(const std::string& def_name) {
  return array_of(Json{{"anyOf", Json::array({Json{{"$ref", "#/$defs/" + def_name}},
                                              Json{{"additionalProperties", true}, {"type", "object"}}})}});
}
// The "$defs" entry of a model: each field is (name, schema, description).
struct DefField { std::string name; Json schema; std::string description; };
inline Json model_def(const std::string& title, const std::vector<DefField>& fields) {
  Json properties = Json::object();
  Json required = Json::array();
  for (const auto& f : fields) {
    Json prop = f.schema;
    prop["description"] = f.description;
    prop["title"] = field_title(f.name);
    properties[f.name] = Tool::sort_schema_keys(prop);
    required.push_back(f.name);
  }
  return Json{{"properties", properties}, {"required", required}, {"title", title}, {"type", "object"}};
}
}  // namespace schema

// Keyword arguments of one call, with Python's binding errors.
class Kwargs {
 public:
  Kwargs(const std::string& qualified_name, const Json& args, const std::vector<ToolParam>& params)
      : args_(args) {
    if (!args.is_object()) throw ToolError(qualified_name + "() argument after ** must be a mapping, not " + py::type_name(args));
    for (auto it = args.begin(); it != args.end(); ++it) {
      bool known = false;
      for (const auto& p : params) known = known || p.name == it.key();
      if (!known) throw ToolError(qualified_name + "() got an unexpected keyword argument '" + it.key() + "'");
    }
    std::vector<std::string> missing;
    for (const auto& p : params)
      if (p.required && !args.contains(p.name)) missing.push_back(p.name);
    if (!missing.empty()) {
      std::string list;
      for (size_t i = 0; i < missing.size(); ++i) {
        if (i) list += (missing.size() == 2) ? " and " : (i + 1 == missing.size() ? ", and " : ", ");
        list += "'" + missing[i] + "'";
      }
      throw ToolError(qualified_name + "() missing " + std::to_string(missing.size()) + " required positional argument" +
                      (missing.size() > 1 ? "s" : "") + ": " + list);
    }
    for (const auto& p : params)
      if (!p.required && !args.contains(p.name)) defaults_[p.name] = p.default_value;
  }
  const Json& operator[](const std::string& name) const {
    auto it = args_.find(name);
    if (it != args_.end()) return *it;
    return defaults_.at(name);
  }

 private:
  const Json& args_;
  std::map<std::string, Json> defaults_;
};

// Helpers that reproduce Python's behaviour on raw (unvalidated) argument values.
namespace pyops {
inline bool is_num(const Json& v) { return v.is_number() || v.is_boolean(); }
inline double num(const Json& v) {
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  return v.get<double>();
}
inline bool is_float(const Json& v) { return v.is_number_float(); }
// a <op> b for int/float JSON numbers, keeping int when both are ints; TypeError otherwise.
inline Json arith(const Json& a, const Json& b, char op) {
  if (!is_num(a) || !is_num(b))
    throw ToolError(std::string("unsupported operand type(s) for ") + op + ": '" + py::type_name(a) + "' and '" +
                    py::type_name(b) + "'");
  if (is_float(a) || is_float(b)) {
    const double x = num(a), y = num(b);
    return Json(op == '+' ? x + y : op == '-' ? x - y : x * y);
  }
  const auto as_int = [](const Json& v) -> std::int64_t {
    return v.is_boolean() ? (v.get<bool>() ? 1 : 0) : v.get<std::int64_t>();
  };
  const std::int64_t x = as_int(a), y = as_int(b);
  return Json(op == '+' ? x + y : op == '-' ? x - y : x * y);
}
// a < b (TypeError for str vs number, as Python).
inline bool less(const Json& a, const Json& b) {
  if (is_num(a) && is_num(b)) return num(a) < num(b);
  if (a.is_string() && b.is_string()) return a.get<std::string>() < b.get<std::string>();
  throw ToolError("'<' not supported between instances of '" + py::type_name(a) + "' and '" + py::type_name(b) + "'");
}
// Python truthiness of a JSON value.
inline bool truthy(const Json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return num(v) != 0.0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return !v.empty();
}
// str.lower() for the ASCII range (the data is ASCII).
inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
inline const std::string& str(const Json& v, const char* what) {
  if (!v.is_string()) throw ToolError(std::string("'") + py::type_name(v) + "' object has no attribute '" + what + "'");
  return v.get_ref<const std::string&>();
}
}  // namespace pyops

// A set of tools over one database (tau2's ToolKitBase).
class ToolKit {
 public:
  virtual ~ToolKit() = default;
  ToolKit(const ToolKit&) = delete;
  ToolKit& operator=(const ToolKit&) = delete;

  const std::vector<Tool>& tools() const { return tools_; }
  const Tool* find(const std::string& name) const {
    for (const auto& t : tools_)
      if (t.name == name) return &t;
    return nullptr;
  }
  Json use_tool(const std::string& name, const Json& args) {
    const Tool* tool = find(name);
    if (tool == nullptr) throw ToolError("Tool '" + name + "' not found.");
    return tool->call(args);
  }
  // sha256(json.dumps(db.model_dump(), sort_keys=True, default=str)).
  std::string db_hash() const { return sha256_hex(py::dumps(db_, /*sort_keys=*/true)); }
  const Json& db() const { return db_; }
  Json& mutable_db() { return db_; }
  // tau2's update_db: merge, then re-validate through the data model.
  virtual void update_db(const Json& update) {
    deep_update(db_, update);
    db_ = validate_db(*db_type_, db_, class_name_ + ".update_db");
  }
  // Non-tool functions callable from initialization_actions and env_assertions.
  virtual Json call_env_function(const std::string& name, const Json& args) {
    // Tool methods are also plain methods; anything else does not exist (Python: getattr fails).
    if (find(name) == nullptr) throw ToolError("'" + class_name_ + "' object has no attribute '" + name + "'");
    return use_tool(name, args);
  }
  const std::string& class_name() const { return class_name_; }

 protected:
  ToolKit(std::string class_name, FieldTypePtr db_type, Json db)
      : class_name_(std::move(class_name)), db_type_(std::move(db_type)), db_(std::move(db)) {}

  // Registers a tool; `fn` receives bound keyword arguments.
  void add(Tool tool, std::function<Json(const Kwargs&)> fn) {
    const std::string qualified = class_name_ + "." + tool.name;
    const std::vector<ToolParam> params = tool.params;
    tool.call = [qualified, params, fn = std::move(fn)](const Json& args) { return fn(Kwargs(qualified, args, params)); };
    tools_.push_back(std::move(tool));
  }

  std::string class_name_;
  FieldTypePtr db_type_;
  Json db_;
  std::vector<Tool> tools_;
};

// Environment.to_json_str's _process() on a *plain* container (list, tuple, dict built by the
// tool, not a model dump): numbers and booleans become their str(), recursively.
inline Json py_process_plain(const Json& v) {
  if (v.is_boolean()) return Json(v.get<bool>() ? "True" : "False");
  if (v.is_number()) return Json(py::dumps(v));
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& x : v) out.push_back(py_process_plain(x));
    return out;
  }
  if (v.is_object()) {
    Json out = Json::object();
    for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = py_process_plain(*it);
    return out;
  }
  return v;
}

// Environment.to_json_str: the text the model sees for a tool result.
inline std::string tool_result_text(const Json& result) {
  if (result.is_string()) return result.get<std::string>();
  if (result.is_null()) return "null";
  if (result.is_boolean()) return py::dumps(Json(result.get<bool>() ? "True" : "False"));
  if (result.is_number()) return py::dumps(Json(py::dumps(result)));
  return py::dumps(result);
}

// Loads a JSON file with a clear error naming it.
inline Json load_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open file");
  try {
    return Json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": invalid JSON: " + e.what());
  }
}

inline std::string load_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  // Python's open(..., "r") reads with universal newlines: "\r\n" and "\r" become "\n".
  const std::string raw = ss.str();
  std::string text;
  text.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r') {
      text += '\n';
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      text += raw[i];
    }
  }
  return text;
}

// One domain instance: agent tools, optional user tools (telecom), policy.
class Environment {
 public:
  Environment(std::string domain, std::string policy, std::unique_ptr<ToolKit> tools,
              std::unique_ptr<ToolKit> user_tools = nullptr)
      : domain_(std::move(domain)), policy_(std::move(policy)), tools_(std::move(tools)),
        user_tools_(std::move(user_tools)) {}
  virtual ~Environment() = default;

  const std::string& domain() const { return domain_; }
  const std::string& policy() const { return policy_; }
  ToolKit& tools() { return *tools_; }
  ToolKit* user_tools() { return user_tools_.get(); }

  Json agent_tool_schemas() const {
    Json out = Json::array();
    for (const auto& t : tools_->tools()) out.push_back(t.openai_schema());
    return out;
  }
  Json user_tool_schemas() const {
    Json out = Json::array();
    if (user_tools_)
      for (const auto& t : user_tools_->tools()) out.push_back(t.openai_schema());
    return out;
  }

  bool has_tool(const std::string& name) const {
    return tools_->find(name) != nullptr || (user_tools_ && user_tools_->find(name) != nullptr);
  }
  bool is_mutating(const std::string& name) const {
    if (const Tool* t = tools_->find(name)) return t->mutates_state;
    if (user_tools_)
      if (const Tool* t = user_tools_->find(name)) return t->mutates_state;
    return true;
  }

  // make_tool_call: requestor "user" goes to the user tool kit, "assistant" to the agent's. Like
  // the official method it does not sync (the gold replay of reference actions relies on that).
  Json make_tool_call(const std::string& name, const std::string& requestor, const Json& args) {
    if (requestor == "user") {
      if (!user_tools_) throw ToolError("User tools not available");
      return user_tools_->use_tool(name, args);
    }
    if (requestor != "assistant") throw ToolError("Invalid requestor: " + requestor);
    return tools_->use_tool(name, args);
  }

  // Environment.get_response: run the call, sync, and turn any exception into an error message.
  Message get_response(const ToolCall& call) {
    Message m;
    m.role = "tool";
    m.id = call.id;
    m.requestor = call.requestor;
    try {
      const Json result = make_tool_call(call.name, call.requestor, call.arguments);
      sync_tools();
      m.content = tool_result_text(result);
    } catch (const std::exception& e) {
      m.content = std::string("Error: ") + e.what();
      m.error = true;
    }
    return m;
  }

  // Calls a named function of the agent or user tool kit (initialization actions, assertions).
  Json run_env_function(const std::string& env_type, const std::string& func, const Json& args) {
    ToolKit* kit = env_type == "user" ? user_tools_.get() : env_type == "assistant" ? tools_.get() : nullptr;
    if (kit == nullptr) throw ToolError("Invalid environment type: " + env_type);
    Json r = kit->call_env_function(func, args);
    sync_tools();
    return r;
  }

  std::string db_hash() const { return tools_->db_hash(); }
  std::optional<std::string> user_db_hash() const {
    if (!user_tools_) return std::nullopt;
    return user_tools_->db_hash();
  }

  // Hook for domains whose agent and user state interact (telecom).
  virtual void sync_tools() {}

 protected:
  std::string domain_;
  std::string policy_;
  std::unique_ptr<ToolKit> tools_;
  std::unique_ptr<ToolKit> user_tools_;
};

}  // namespace gemma4::eval::tau2
