// `gemma4-eval score --benchmark livecodebench --responses FILE.jsonl`: one input line -> one
// output line.
//
// Input line (JSON object):
//   "id"        any JSON value, copied to the output (required)
//   "response"  the raw model output (required). A Gemma 4 thought channel
//               (<|channel>thought ... <channel|>) is removed first; extraction sees the answer.
//   "tests"     optional: the tests to run, public then private, as a list of
//               {"input": str, "output": str, "testtype": "stdin"|"functional"} or as that list
//               in a JSON string (the dataset's public_test_cases / private_test_cases form).
//   "fn_name"   optional: the LeetCode method name of a functional problem; "metadata" with
//               "func_name" (object or JSON string, as in the dataset) is accepted instead.
//   "timeout"   optional: per-test timeout in whole seconds (official default 6).
// Output line:
//   {"id": ..., "extracted": "<code>" | null}               without tests ("correct": null)
//   {"id": ..., "extracted": ..., "correct": bool, "status": "passed|wrong_answer|time_limit|
//    runtime_error|memory_limit|output_limit", "results": [official per-test entries],
//    "tests": [{"index": i, "result": entry, "passed": bool}], "error": "..." (first failure's
//    official message), "sandbox": "<mode>"}                 with tests
//   plus "truncated": true when the thought channel never closed.
// `extracted` is null when the official extractor finds fewer than two ``` lines. The code is
// still graded then, as officially (an empty program, which fails), so `results` match.
#pragma once

#include "livecodebench/extract.h"
#include "livecodebench/grade.h"
#include "livecodebench/problem.h"

#if __has_include("gemma4_eval/thinking.h")
#include "gemma4_eval/thinking.h"
#define GEMMA4_LCB_HAVE_THINKING 1
#endif

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace gemma4::eval::livecodebench {

namespace score_detail {

inline std::string line_name(const nlohmann::json& line) {
  return "livecodebench line id=" + (line.contains("id") ? line["id"].dump() : std::string("?"));
}

inline std::optional<std::string> function_name(const nlohmann::json& line) {
  if (line.contains("fn_name") && !line["fn_name"].is_null()) {
    if (!line["fn_name"].is_string()) throw std::runtime_error(line_name(line) + ": field 'fn_name' is not a string");
    return line["fn_name"].get<std::string>();
  }
  if (line.contains("metadata") && !line["metadata"].is_null()) {
    nlohmann::json metadata = line["metadata"];
    if (metadata.is_string()) metadata = nlohmann::json::parse(metadata.get<std::string>(), nullptr, false);
    if (!metadata.is_object()) throw std::runtime_error(line_name(line) + ": field 'metadata' is not a JSON object");
    if (metadata.contains("func_name") && metadata["func_name"].is_string())
      return metadata["func_name"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace score_detail

inline nlohmann::json score_line(const nlohmann::json& line, const ExecutionConfig& config = {}) {
  if (!line.is_object()) throw std::runtime_error("livecodebench line: expected a JSON object");
  const std::string name = score_detail::line_name(line);
  if (!line.contains("id")) throw std::runtime_error(name + ": missing field 'id'");
  if (!line.contains("response") || !line["response"].is_string())
    throw std::runtime_error(name + ": field 'response' is missing or not a string");
  std::string answer = line["response"].get<std::string>();
  bool truncated = false;
#ifdef GEMMA4_LCB_HAVE_THINKING
  SplitOutput split = split_thinking(answer);
  answer = split.answer;
  truncated = !split.thought_closed;
#endif
  std::optional<std::string> code = extract_code(answer);
  nlohmann::json out = {{"id", line["id"]}, {"extracted", code ? nlohmann::json(*code) : nlohmann::json(nullptr)}};
  if (truncated) out["truncated"] = true;
  if (!line.contains("tests") || line["tests"].is_null()) {
    out["correct"] = nullptr;
    return out;
  }
  std::vector<TestCase> tests = problem_detail::parse_tests(line["tests"], name + ": tests");
  ExecutionConfig run = config;
  if (line.contains("timeout")) {
    if (!line["timeout"].is_number_integer() || line["timeout"].get<int>() < 1)
      throw std::runtime_error(name + ": field 'timeout' must be a positive integer (seconds)");
    run.timeout_seconds = line["timeout"].get<int>();
  }
  SampleResult graded = grade(code.value_or(""), tests, score_detail::function_name(line), run);
  out["correct"] = graded.passed;
  out["status"] = status_name(graded.status);
  out["results"] = graded.results;
  nlohmann::json per_test = nlohmann::json::array();
  for (std::size_t i = 0; i < graded.results.size(); ++i)
    per_test.push_back({{"index", i}, {"result", graded.results[i]}, {"passed", all_positive({graded.results[i]})}});
  out["tests"] = per_test;
  if (graded.metadata.contains("error_message")) out["error"] = graded.metadata["error_message"];
  if (!graded.detail.empty()) out["detail"] = graded.detail;
  out["sandbox"] = sandbox_mode_name(graded.sandbox_mode);
  return out;
}

}  // namespace gemma4::eval::livecodebench
