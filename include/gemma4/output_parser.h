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

#include <cstdint>
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

}  // namespace output_parser_detail

// `output`: the generated text, decoded with special tokens kept. `prompt`: the rendered prompt the
// model continued (its tail after the last model-turn anchor is parsed too).
inline ParsedOutput parse_model_output(std::string_view output, std::string_view prompt = {}) {
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
          } else if (!d::parse_arguments(body, call.arguments, error)) {
            set_error(ParsedOutput::Status::kMalformed, "tool call '" + call_name + "': " + error);
          } else {
            result.tool_calls.push_back(std::move(call));
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

}  // namespace gemma4
