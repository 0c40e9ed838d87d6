// Code extraction, exactly as lcb_runner/utils/extraction_utils.py extract_code() does it for
// chat models: split the response on "\n" (only "\n": a "\r" stays part of its line), find
// every line that CONTAINS ``` anywhere, and return the lines strictly between the second-to-last
// and the last such line, joined with "\n". Quirks kept on purpose:
//   * the LAST fenced block wins, even when the model wrote its solution first and an example
//     after it;
//   * the language tag is ignored, and a line like `x = "```"` counts as a fence;
//   * an odd number of fences pairs the last two, so the "code" can be prose between blocks.
// Run it on the final answer only, after the thinking channel is removed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4::eval::livecodebench {

// nullopt where the official extractor returns "" because fewer than two fence lines exist;
// an empty string where two fence lines enclose nothing (officially also "": both fail).
inline std::optional<std::string> extract_code(std::string_view response) {
  std::vector<std::string_view> lines;
  for (std::size_t start = 0;;) {
    std::size_t end = response.find('\n', start);
    lines.push_back(response.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  std::vector<std::size_t> fences;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find("```") != std::string_view::npos) fences.push_back(i);
  if (fences.size() < 2) return std::nullopt;
  std::string code;
  for (std::size_t i = fences[fences.size() - 2] + 1; i < fences.back(); ++i) {
    if (i > fences[fences.size() - 2] + 1) code += '\n';
    code += lines[i];
  }
  return code;
}

}  // namespace gemma4::eval::livecodebench
