// Separating Gemma 4's thought channel from the final answer, before any answer extraction.
//
// With thinking on, Gemma 4 writes `<|channel>thought\n ... <channel|>` and then the answer.
// Answer extractors run on the answer only: the reasoning is full of candidate letters and
// numbers (the vLLM/tpu-inference and open-compass threads in evaluation-protocols.md §8). A
// channel that never closes means the budget ran out while thinking: there is no answer, and the
// sample is censored rather than wrong (omlx#3772). OpenAI-compatible servers that parse the
// channel themselves return it separately as `reasoning_content`; then `content` is the answer,
// and it is still passed through here in case a server left the markers in.
#pragma once

#include <string>
#include <string_view>

namespace gemma4::eval {

inline constexpr std::string_view kChannelOpen = "<|channel>";
inline constexpr std::string_view kChannelClose = "<channel|>";

struct SplitOutput {
  std::string answer;    // the text after the last closed channel, end-of-turn marker removed
  std::string thought;   // the concatenated channel contents (without the "thought\n" label)
  bool had_thought = false;
  bool thought_closed = true;  // false: a channel opened and never closed (budget exhausted)
};

inline SplitOutput split_thinking(std::string_view raw) {
  SplitOutput out;
  std::string_view rest = raw;
  // A closer with no opener: the chat template opened the channel inside the prompt (after a
  // tool response, runtime-bugs.md §3.2), so everything before it is thought.
  const std::size_t first_open = rest.find(kChannelOpen);
  const std::size_t first_close = rest.find(kChannelClose);
  if (first_close != std::string_view::npos &&
      (first_open == std::string_view::npos || first_close < first_open)) {
    out.had_thought = true;
    out.thought.append(rest.substr(0, first_close));
    rest.remove_prefix(first_close + kChannelClose.size());
  }
  std::string answer;
  while (true) {
    const std::size_t open = rest.find(kChannelOpen);
    if (open == std::string_view::npos) {
      answer.append(rest);
      break;
    }
    answer.append(rest.substr(0, open));
    out.had_thought = true;
    std::string_view body = rest.substr(open + kChannelOpen.size());
    const std::size_t close = body.find(kChannelClose);
    std::string_view content = body.substr(0, close);
    if (content.substr(0, 8) == "thought\n") content.remove_prefix(8);
    out.thought.append(content);
    if (close == std::string_view::npos) {
      out.thought_closed = false;
      break;
    }
    rest = body.substr(close + kChannelClose.size());
  }
  // Turn and sequence end markers, when the backend returns raw text with special tokens.
  for (std::string_view marker : {std::string_view("<turn|>"), std::string_view("<eos>")}) {
    while (answer.size() >= marker.size() && answer.compare(answer.size() - marker.size(), marker.size(), marker) == 0)
      answer.erase(answer.size() - marker.size());
  }
  out.answer = out.thought_closed ? std::move(answer) : std::string();
  return out;
}

}  // namespace gemma4::eval
