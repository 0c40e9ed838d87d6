// Parsing Gemma 4 model output into reasoning, answer and tool calls.
//
// The model writes (docs/gemma4-architecture.md §7.2, runtime-bugs.md §3):
//   <|channel>thought\n ...reasoning... <channel|>   the thought channel (thinking on)
//   answer text
//   <|tool_call>call:NAME{key:value,...}<tool_call|>  tool calls, possibly several
//   <turn|> | <|tool_response> | <eos>             end of the turn / hand-off to a tool
// Tool-call arguments look like JSON but are not: keys are bare, and strings are wrapped in the
// single special token <|"|> (which itself contains a quote), e.g.
//   call:get_weather{city:<|"|>Paris<|"|>,days:3,units:[<|"|>C<|"|>],exact:true}
//
// Reference semantics: transformers' own gemma4 response parser (the "gemma4" response template
// of transformers/cli/serving/utils.py run by transformers.utils.chat_parsing.ResponseParser),
// reproduced in strict form and checked against its results in
// reference_outputs/chat_template/response_parsing.json:
//   * the prompt matters: parsing starts after the last "<|turn>model\n" or "<tool_response|>" of
//     the prompt, so a thought channel the prompt already opened or closed is seen;
//   * regions: the thought channel and each tool call are explicit regions; everything else is
//     the content region, closed by <turn|>, <|tool_response> or <eos>; text is whitespace-stripped;
//     a later content or thought region replaces an earlier one (as in the reference);
//   * arguments: <|"|>...<|"|> become JSON strings verbatim, a bare key directly after "{" or ","
//     is quoted, and the result must then be strict JSON.
// On top of the reference, the result carries a status instead of an exception: Truncated when the
// output ends inside a thought or a tool call (max_tokens), Malformed when a tool call does not
// parse (single quotes, missing <|"|>, call:name(...) forms, BEGIN_ARG blocks, names with "-" or
// ".") or tool-call markup is left in the content. Never a crash, whatever the input.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gemma4 {

struct ParsedToolCall {
  std::string name;
  nlohmann::ordered_json arguments;  // usually an object
};

struct ParsedOutput {
  enum class Status { kComplete, kTruncated, kMalformed };
  Status status = Status::kComplete;
  std::string error;      // what went wrong, for kTruncated and kMalformed
  std::string content;    // the answer ("" when absent)
  std::string reasoning;  // the thought channel ("" when absent)
  std::vector<ParsedToolCall> tool_calls;
  // Repair mode only: one note per tool call that needed repairing to parse (never set in the
  // strict, reference mode). A repaired output is kComplete but should be reported as such.
  std::vector<std::string> repairs;

  bool ok() const { return status == Status::kComplete; }

  // The OpenAI message shape: {"role": "assistant", "content": ..., "reasoning_content": ...,
  // "tool_calls": [{"type": "function", "function": {"name": ..., "arguments": {...}}}]}; empty
  // fields are left out, as the reference parser does.
  nlohmann::ordered_json to_message() const {
    nlohmann::ordered_json m = {{"role", "assistant"}};
    if (!content.empty()) m["content"] = content;
    if (!reasoning.empty()) m["reasoning_content"] = reasoning;
    if (!tool_calls.empty()) {
      m["tool_calls"] = nlohmann::ordered_json::array();
      for (const auto& c : tool_calls)
        m["tool_calls"].push_back({{"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    }
    return m;
  }
};

struct ParseOptions {
  // Strict (false) is the reference behaviour. Repair (true) additionally accepts the near-misses
  // models are known to write (runtime-bugs.md C02): names with "-" or ".", whitespace around
  // keys, 'single' or "double" quoted strings, Python None/True/False. Each repaired call is
  // listed in ParsedOutput::repairs.
  bool repair = false;
};

namespace output_parser_detail {

constexpr std::string_view kThoughtOpen = "<|channel>thought\n";
constexpr std::string_view kThoughtClose = "<channel|>";
constexpr std::string_view kCallOpen = "<|tool_call>call:";
constexpr std::string_view kCallClose = "<tool_call|>";
constexpr std::string_view kStringDelimiter = "<|\"|>";
constexpr std::string_view kContentCloses[] = {"<turn|>", "<|tool_response>", "<eos>"};
constexpr std::string_view kAnchors[] = {"<|turn>model\n", "<tool_response|>"};

// Python's \w for the regex module, on UTF-8 bytes: ASCII letters, digits, "_"; any non-ASCII byte
// is taken as part of a word character (letters of other scripts).
inline bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

// Python str.strip() for ASCII and the common Unicode spaces (the reference strips region text).
inline std::string strip(std::string_view s) {
  auto space_at_front = [&](std::size_t i) -> std::size_t {  // byte length of a leading space, or 0
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) return 1;
    if (c == 0xC2 && i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) == 0x85 || static_cast<unsigned char>(s[i + 1]) == 0xA0)) return 2;
    if (c == 0xE3 && s.substr(i, 3) == "\xE3\x80\x80") return 3;
    if (c == 0xE2 && i + 2 < s.size()) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]), b2 = static_cast<unsigned char>(s[i + 2]);
      if (b1 == 0x80 && (b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF)) return 3;
      if (b1 == 0x81 && b2 == 0x9F) return 3;
    }
    return 0;
  };
  std::size_t b = 0, e = s.size();
  while (b < e) {
    const std::size_t n = space_at_front(b);
    if (n == 0) break;
    b += n;
  }
  while (e > b) {
    std::size_t n = 0;
    for (std::size_t k = 1; k <= 3 && k <= e - b && n == 0; ++k)
      if (space_at_front(e - k) == k) n = k;
    if (n == 0) break;
    e -= n;
  }
  return std::string(s.substr(b, e - b));
}

// The reference's JSON dialect: <|"|>...<|"|> strings (non-greedy, taken verbatim), bare keys
// right after "{" or ",", then strict JSON. Returns false with a message on failure.
inline bool parse_arguments(std::string_view body, nlohmann::ordered_json& out, std::string& error) {
  if (body.find('\x01') != std::string_view::npos || body.find('\x02') != std::string_view::npos) {
    error = "arguments contain reserved control characters \\x01/\\x02";
    return false;
  }
  // 1. Strings between delimiters -> placeholders \x01N\x02.
  std::vector<std::string> strings;
  std::string work;
  for (std::size_t pos = 0;;) {
    const std::size_t open = body.find(kStringDelimiter, pos);
    const std::size_t close = open == std::string_view::npos ? open : body.find(kStringDelimiter, open + kStringDelimiter.size());
    if (close == std::string_view::npos) {
      work.append(body.substr(pos));
      break;
    }
    work.append(body.substr(pos, open - pos));
    strings.emplace_back(body.substr(open + kStringDelimiter.size(), close - open - kStringDelimiter.size()));
    work += '\x01' + std::to_string(strings.size() - 1) + '\x02';
    pos = close + kStringDelimiter.size();
  }
  // 2. Bare keys: (?<=[{,])(\w+):  ->  "key":
  std::string keyed;
  keyed.reserve(work.size() + 16);
  for (std::size_t i = 0; i < work.size();) {
    if ((work[i] == '{' || work[i] == ',')) {
      keyed += work[i++];
      std::size_t j = i;
      while (j < work.size() && is_word_byte(static_cast<unsigned char>(work[j]))) ++j;
      if (j > i && j < work.size() && work[j] == ':') {
        keyed += '"';
        keyed.append(work, i, j - i);
        keyed += "\":";
        i = j + 1;
      }
      continue;
    }
    keyed += work[i++];
  }
  // 3. Placeholders -> JSON strings.
  std::string json;
  json.reserve(keyed.size() + body.size());
  for (std::size_t i = 0; i < keyed.size();) {
    if (keyed[i] == '\x01') {
      const std::size_t end = keyed.find('\x02', i);
      json += nlohmann::ordered_json(strings[std::stoul(keyed.substr(i + 1, end - i - 1))]).dump();
      i = end + 1;
    } else {
      json += keyed[i++];
    }
  }
  out = nlohmann::ordered_json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) {
    error = "tool-call arguments are not valid (after <|\"|> strings and bare keys): " + std::string(body.substr(0, 200));
    return false;
  }
  return true;
}


// The repair-mode reader: a recursive-descent parser of the Gemma value syntax that also takes
// 'single' and "double" quoted strings, whitespace between tokens, bare keys of any characters but
// structure, and Python's None/True/False.
class LenientReader {
 public:
  explicit LenientReader(std::string_view s) : s_(s) {}

  bool read(nlohmann::ordered_json& out, std::string& error) {
    if (!value(out, 0)) {
      error = "unreadable even in repair mode at byte " + std::to_string(i_) + ": " + error_;
      return false;
    }
    skip_space();
    if (i_ != s_.size()) {
      error = "unexpected text after the arguments at byte " + std::to_string(i_);
      return false;
    }
    return true;
  }

 private:
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool fail(const char* what) {
    error_ = what;
    return false;
  }
  bool starts(std::string_view t) const { return s_.substr(i_, t.size()) == t; }

  bool string(std::string& out) {
    if (starts(kStringDelimiter)) {
      const std::size_t end = s_.find(kStringDelimiter, i_ + kStringDelimiter.size());
      if (end == std::string_view::npos) return fail("unterminated <|\"|> string");
      out.assign(s_.substr(i_ + kStringDelimiter.size(), end - i_ - kStringDelimiter.size()));
      i_ = end + kStringDelimiter.size();
      return true;
    }
    const char q = s_[i_];
    std::size_t j = i_ + 1;
    out.clear();
    for (; j < s_.size() && s_[j] != q; ++j) {
      if (s_[j] == '\\' && j + 1 < s_.size()) {
        const char e = s_[++j];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        out += s_[j];
      }
    }
    if (j >= s_.size()) return fail("unterminated quoted string");
    i_ = j + 1;
    return true;
  }

  bool value(nlohmann::ordered_json& out, int depth) {
    if (depth > 64) return fail("nesting too deep");
    skip_space();
    if (i_ >= s_.size()) return fail("missing value");
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      out = nlohmann::ordered_json::object();
      skip_space();
      if (i_ < s_.size() && s_[i_] == '}') { ++i_; return true; }
      while (true) {
        skip_space();
        std::string key;
        if (i_ < s_.size() && (starts(kStringDelimiter) || s_[i_] == '\'' || s_[i_] == '"')) {
          if (!string(key)) return false;
        } else {
          const std::size_t b = i_;
          while (i_ < s_.size() && s_[i_] != ':' && s_[i_] != '{' && s_[i_] != '}' && s_[i_] != ',' &&
                 s_[i_] != '[' && s_[i_] != ']')
            ++i_;
          key = strip(s_.substr(b, i_ - b));
          if (key.empty()) return fail("missing key");
        }
        skip_space();
        if (i_ >= s_.size() || s_[i_] != ':') return fail("expected ':' after a key");
        ++i_;
        nlohmann::ordered_json v;
        if (!value(v, depth + 1)) return false;
        out[key] = std::move(v);
        skip_space();
        if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
        if (i_ < s_.size() && s_[i_] == '}') { ++i_; return true; }
        return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++i_;
      out = nlohmann::ordered_json::array();
      skip_space();
      if (i_ < s_.size() && s_[i_] == ']') { ++i_; return true; }
      while (true) {
        nlohmann::ordered_json v;
        if (!value(v, depth + 1)) return false;
        out.push_back(std::move(v));
        skip_space();
        if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
        if (i_ < s_.size() && s_[i_] == ']') { ++i_; return true; }
        return fail("expected ',' or ']'");
      }
    }
    if (starts(kStringDelimiter) || c == '\'' || c == '"') {
      std::string str;
      if (!string(str)) return false;
      out = std::move(str);
      return true;
    }
    for (auto [word, v] : {std::pair<std::string_view, nlohmann::ordered_json>{"true", true}, {"True", true},
                           {"false", false}, {"False", false}, {"null", nullptr}, {"None", nullptr}}) {
      if (starts(word)) {
        i_ += word.size();
        out = v;
        return true;
      }
    }
    // A number: the longest JSON-number-shaped run.
    std::size_t j = i_;
    while (j < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[j])) || s_[j] == '-' || s_[j] == '+' ||
                             s_[j] == '.' || s_[j] == 'e' || s_[j] == 'E'))
      ++j;
    if (j > i_) {
      auto parsed = nlohmann::ordered_json::parse(s_.substr(i_, j - i_), nullptr, false);
      if (!parsed.is_discarded() && parsed.is_number()) {
        out = std::move(parsed);
        i_ = j;
        return true;
      }
    }
    return fail("unrecognised value (unquoted text?)");
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string error_;
};

}  // namespace output_parser_detail

// `output`: the generated text, decoded with special tokens kept. `prompt`: the rendered prompt the
// model continued (its tail after the last model-turn anchor is parsed too).
inline ParsedOutput parse_model_output(std::string_view output, std::string_view prompt = {},
                                       const ParseOptions& options = {}) {
  namespace d = output_parser_detail;
  ParsedOutput result;

  // The reference parses the prompt's tail after its last anchor, then the output.
  std::string text;
  {
    std::size_t tail = std::string_view::npos;
    for (std::string_view anchor : d::kAnchors) {
      for (std::size_t at = prompt.find(anchor); at != std::string_view::npos; at = prompt.find(anchor, at + 1))
        if (tail == std::string_view::npos || at + anchor.size() > tail) tail = at + anchor.size();
    }
    text.assign(tail == std::string_view::npos ? prompt : prompt.substr(tail));
    text.append(output);
  }

  enum class Region { kContent, kThought, kToolCall } region = Region::kContent;
  bool opened = false;     // the content region opens on its first byte; explicit ones at once
  std::string body, call_name;
  bool have_content = false, have_reasoning = false;

  auto set_error = [&](ParsedOutput::Status s, std::string msg) {
    if (result.status == ParsedOutput::Status::kComplete || s == ParsedOutput::Status::kMalformed) {
      if (result.status != ParsedOutput::Status::kMalformed) {
        result.status = s;
        result.error = std::move(msg);
      }
    }
  };

  // Repair mode: a name cut at "-" or "." by the reference's call:(\w+) continues up to "{";
  // the arguments are read by the lenient reader. On success `error` holds the strict error.
  auto repair_call = [&](ParsedToolCall& call, std::string_view args, std::string& error) {
    const std::size_t brace = args.find('{');
    if (brace != 0 && brace != std::string_view::npos) {
      const std::string_view rest = args.substr(0, brace);
      if (rest.find_first_not_of("-._0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos)
        return false;
      call.name += std::string(rest);
      args.remove_prefix(brace);
    }
    std::string lenient_error;
    if (!d::LenientReader(args).read(call.arguments, lenient_error)) {
      error += "; " + lenient_error;
      return false;
    }
    return true;
  };

  auto close_region = [&](bool at_end) {
    if (opened) {
      switch (region) {
        case Region::kContent:
          result.content = d::strip(body);
          have_content = true;
          break;
        case Region::kThought:
          result.reasoning = d::strip(body);
          have_reasoning = true;
          if (at_end) set_error(ParsedOutput::Status::kTruncated, "output ended inside the thought channel");
          break;
        case Region::kToolCall: {
          ParsedToolCall call{call_name, nullptr};
          std::string error;
          if (at_end) {
            // Like the reference, keep a call whose arguments happen to be complete JSON.
            set_error(ParsedOutput::Status::kTruncated, "output ended inside tool call '" + call_name + "'");
            if (d::parse_arguments(body, call.arguments, error)) result.tool_calls.push_back(std::move(call));
          } else if (d::parse_arguments(body, call.arguments, error)) {
            result.tool_calls.push_back(std::move(call));
          } else if (options.repair && repair_call(call, body, error)) {
            result.repairs.push_back("tool call '" + call.name + "' repaired: " + error);
            result.tool_calls.push_back(std::move(call));
          } else {
            set_error(ParsedOutput::Status::kMalformed, "tool call '" + call_name + "': " + error);
          }
          break;
        }
      }
    }
    region = Region::kContent;
    opened = false;
    body.clear();
  };
  auto accumulate = [&](std::string_view s) {
    if (s.empty()) return;
    opened = true;
    body.append(s);
  };

  std::size_t pos = 0;
  while (true) {
    if (region != Region::kContent) {
      const std::string_view close = region == Region::kThought ? d::kThoughtClose : d::kCallClose;
      const std::size_t at = text.find(close, pos);
      if (at == std::string::npos) {
        accumulate(std::string_view(text).substr(pos));
        close_region(/*at_end=*/true);
        break;
      }
      accumulate(std::string_view(text).substr(pos, at - pos));
      pos = at + close.size();
      close_region(false);
      continue;
    }
    // In the content region: the earliest of the explicit opens and the content closes.
    std::size_t best = std::string::npos, best_end = 0;
    int best_kind = -1;  // 0 thought open, 1 call open, 2 content close
    auto consider = [&](std::size_t at, std::size_t end, int kind) {
      if (at == std::string::npos) return;
      // earliest start, then longest, then opens before closes
      if (best == std::string::npos || at < best || (at == best && (end - at > best_end - best ||
                                                                  (end - at == best_end - best && kind < best_kind)))) {
        best = at;
        best_end = end;
        best_kind = kind;
      }
    };
    if (auto at = text.find(d::kThoughtOpen, pos); at != std::string::npos) consider(at, at + d::kThoughtOpen.size(), 0);
    for (std::size_t at = text.find(d::kCallOpen, pos); at != std::string::npos; at = text.find(d::kCallOpen, at + 1)) {
      std::size_t end = at + d::kCallOpen.size();
      while (end < text.size() && d::is_word_byte(static_cast<unsigned char>(text[end]))) ++end;
      if (end > at + d::kCallOpen.size()) {  // call:(\w+) needs a name
        consider(at, end, 1);
        break;
      }
    }
    for (std::string_view c : d::kContentCloses)
      if (auto at = text.find(c, pos); at != std::string::npos) consider(at, at + c.size(), 2);

    if (best == std::string::npos) {
      accumulate(std::string_view(text).substr(pos));
      close_region(false);
      break;
    }
    accumulate(std::string_view(text).substr(pos, best - pos));
    close_region(false);
    if (best_kind == 0) {
      region = Region::kThought;
      opened = true;
    } else if (best_kind == 1) {
      region = Region::kToolCall;
      opened = true;
      call_name.assign(text, best + d::kCallOpen.size(), best_end - best - d::kCallOpen.size());
    }
    pos = best_end;
  }
  if (!have_content) result.content.clear();
  if (!have_reasoning) result.reasoning.clear();
  if (result.content.find("<|tool_call>") != std::string::npos)
    set_error(ParsedOutput::Status::kMalformed, "tool-call markup that does not form a call was left in the content");
  return result;
}

// Streaming: feed the decoded text as it is generated, get what can be shown so far.
//   * reasoning and content arrive as deltas; a delimiter split across feeds (even inside "<|\"|>"
//     or "<|tool_call>") is held back until it is resolved, so no fragment of markup leaks;
//   * leading and trailing whitespace of a region is held back (the reference strips regions);
//   * a tool call is delivered whole, when its <tool_call|> arrives.
// Concatenating the deltas gives the same text whatever the feed boundaries are. result() is the
// non-streaming parse of everything fed (parse_model_output), the reference for the final message;
// where the model writes several content regions the reference keeps only the last one, while the
// deltas carry all of them.
class StreamingOutputParser {
 public:
  struct Delta {
    std::string content, reasoning;
    std::vector<ParsedToolCall> tool_calls;
    bool empty() const { return content.empty() && reasoning.empty() && tool_calls.empty(); }
  };

  explicit StreamingOutputParser(std::string_view prompt = {}) : prompt_(prompt) {
    namespace d = output_parser_detail;
    std::size_t tail = std::string_view::npos;
    for (std::string_view anchor : d::kAnchors)
      for (std::size_t at = prompt.find(anchor); at != std::string_view::npos; at = prompt.find(anchor, at + 1))
        if (tail == std::string_view::npos || at + anchor.size() > tail) tail = at + anchor.size();
    buffer_.assign(tail == std::string_view::npos ? prompt : prompt.substr(tail));
    Delta ignored;  // what the prompt itself wrote is not news
    process(ignored, /*at_end=*/false);
  }

  Delta feed(std::string_view text) {
    if (finished_) throw std::logic_error("StreamingOutputParser: feed() after finish()");
    output_.append(text);
    buffer_.append(text);
    Delta delta;
    process(delta, false);
    return delta;
  }

  Delta finish() {
    if (finished_) throw std::logic_error("StreamingOutputParser: finish() called twice");
    finished_ = true;
    Delta delta;
    process(delta, true);
    return delta;
  }

  ParsedOutput result() const { return parse_model_output(output_, prompt_); }

 private:
  enum class Region { kContent, kThought, kToolCall };

  // Start of the earliest suffix of buffer_[from:] that is a proper prefix of `delim`.
  std::size_t partial_start(std::string_view delim, std::size_t from) const {
    const std::size_t n = buffer_.size();
    for (std::size_t i = std::max(from, n >= delim.size() ? n - delim.size() + 1 : 0); i < n; ++i)
      if (delim.compare(0, n - i, std::string_view(buffer_).substr(i)) == 0) return i;
    return n;
  }

  void process(Delta& delta, bool at_end) {
    namespace d = output_parser_detail;
    while (true) {
      const std::size_t n = buffer_.size();
      if (region_ != Region::kContent) {
        const std::string_view close = region_ == Region::kThought ? d::kThoughtClose : d::kCallClose;
        const std::size_t at = buffer_.find(close, pos_);
        if (at != std::string::npos) {
          accumulate(delta, pos_, at);
          pos_ = at + close.size();
          close_region(delta, false);
          continue;
        }
        const std::size_t hold = at_end ? n : partial_start(close, pos_);
        accumulate(delta, pos_, hold);
        pos_ = hold;
        if (at_end) close_region(delta, true);
        return;
      }
      // Content region: earliest complete delimiter that cannot still change, else hold.
      std::size_t best = std::string::npos, best_end = 0, hold = n;
      int best_kind = -1;
      auto consider = [&](std::size_t at, std::size_t end, int kind) {
        if (best == std::string::npos || at < best ||
            (at == best && (end - at > best_end - best || (end - at == best_end - best && kind < best_kind)))) {
          best = at;
          best_end = end;
          best_kind = kind;
        }
      };
      if (auto at = buffer_.find(d::kThoughtOpen, pos_); at != std::string::npos) consider(at, at + d::kThoughtOpen.size(), 0);
      for (std::size_t at = buffer_.find(d::kCallOpen, pos_); at != std::string::npos; at = buffer_.find(d::kCallOpen, at + 1)) {
        std::size_t end = at + d::kCallOpen.size();
        while (end < n && d::is_word_byte(static_cast<unsigned char>(buffer_[end]))) ++end;
        if (end == n && !at_end) {  // the name may still grow (or be about to start)
          hold = std::min(hold, at);
          break;
        }
        if (end > at + d::kCallOpen.size()) {
          consider(at, end, 1);
          break;
        }
      }
      for (std::string_view c : d::kContentCloses)
        if (auto at = buffer_.find(c, pos_); at != std::string::npos) consider(at, at + c.size(), 2);
      if (!at_end) {
        for (std::string_view delim : {d::kThoughtOpen, d::kCallOpen, d::kContentCloses[0], d::kContentCloses[1],
                                       d::kContentCloses[2]})
          hold = std::min(hold, partial_start(delim, pos_));
      }
      if (best != std::string::npos && best < hold) {
        accumulate(delta, pos_, best);
        close_region(delta, false);
        if (best_kind == 0) {
          region_ = Region::kThought;
        } else if (best_kind == 1) {
          region_ = Region::kToolCall;
          call_name_.assign(buffer_, best + d::kCallOpen.size(), best_end - best - d::kCallOpen.size());
        }
        pos_ = best_end;
        continue;
      }
      accumulate(delta, pos_, hold);
      pos_ = hold;
      if (at_end) close_region(delta, true);
      return;
    }
  }

  void accumulate(Delta& delta, std::size_t from, std::size_t to) {
    if (to <= from) return;
    body_.append(buffer_, from, to - from);
    if (region_ == Region::kToolCall) return;
    // Show the region's text without its leading and (for now) trailing whitespace.
    const std::string stripped = output_parser_detail::strip(body_);
    if (stripped.size() > emitted_) {
      (region_ == Region::kThought ? delta.reasoning : delta.content).append(stripped, emitted_, std::string::npos);
      emitted_ = stripped.size();
    }
  }

  void close_region(Delta& delta, bool at_end) {
    if (region_ == Region::kToolCall) {
      ParsedToolCall call{call_name_, nullptr};
      std::string error;
      // Complete calls, and (like the reference) an unclosed one whose arguments already parse.
      if (output_parser_detail::parse_arguments(body_, call.arguments, error)) delta.tool_calls.push_back(std::move(call));
      (void)at_end;
    }
    region_ = Region::kContent;
    body_.clear();
    emitted_ = 0;
  }

  std::string prompt_, output_, buffer_, body_, call_name_;
  std::size_t pos_ = 0, emitted_ = 0;
  Region region_ = Region::kContent;
  bool finished_ = false;
};

}  // namespace gemma4
