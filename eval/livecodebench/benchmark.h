// LiveCodeBench as a benchmark of the evaluation harness (gemma4_eval/benchmark.h): items are
// problems (id = question_id, category = difficulty), the prompt is the official one, and scoring
// extracts the last fenced block of the answer (thinking removed by the harness) and grades it in
// the sandbox against the public and private tests. The harness's accuracy (mean over problems of
// the mean over samples) is pass@1; pass_at_k_summary() in metrics.h gives pass@k from the same
// records ("correct" per sample, "category" per item).
#pragma once

#if __has_include("gemma4_eval/benchmark.h")

#include "gemma4_eval/benchmark.h"
#include "livecodebench/extract.h"
#include "livecodebench/grade.h"
#include "livecodebench/metrics.h"
#include "livecodebench/problem.h"
#include "livecodebench/prompt.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gemma4::eval::livecodebench {

struct Options {
  std::string data_dir = "datasets/livecodebench/data";  // tools/fetch_datasets.d/livecodebench.sh output
  Selection selection;                                              // default: version tag v6
  PromptStyle style = PromptStyle::generic_chat;
  ExecutionConfig execution;                                        // official 6 s per test
};

class LiveCodeBench : public gemma4::eval::Benchmark {
 public:
  explicit LiveCodeBench(Options options) : options_(std::move(options)) {
    problems_ = load_release(options_.data_dir, options_.selection);
    for (std::size_t i = 0; i < problems_.size(); ++i) {
      EvalItem item;
      item.id = problems_[i].question_id;
      item.category = problems_[i].difficulty;
      item.gold = nullptr;  // graded by execution, not against an answer
      item.data = {{"index", i}, {"platform", problems_[i].platform}, {"contest_date", problems_[i].contest_date}};
      items_.push_back(std::move(item));
    }
  }

  std::string name() const override { return "livecodebench"; }
  const std::vector<EvalItem>& items() const override { return items_; }

  nlohmann::json settings() const override {
    static const std::map<PromptStyle, const char*> styles = {{PromptStyle::generic_chat, "generic_chat"},
                                                              {PromptStyle::system_in_user, "system_in_user"},
                                                              {PromptStyle::reasoning_main, "reasoning_main"}};
    return {{"version_tag", options_.selection.version_tag},
            {"start_date", options_.selection.start_date ? nlohmann::json(*options_.selection.start_date) : nlohmann::json()},
            {"end_date", options_.selection.end_date ? nlohmann::json(*options_.selection.end_date) : nlohmann::json()},
            {"prompt_style", styles.at(options_.style)},
            {"timeout_s", options_.execution.timeout_seconds},
            {"memory_bytes", options_.execution.memory_bytes},
            {"extractor", "lcb_runner extract_code (last two ``` lines), LiveCodeBench 28fef95"}};
  }

  SamplePrompt prompt(const EvalItem& item, int /*sample*/) const override {
    SamplePrompt p;
    p.messages = build_messages(problem(item), options_.style);
    p.gold = nullptr;
    return p;
  }

  AnswerScore score(const EvalItem& item, const SamplePrompt& /*prompt*/, const std::string& answer) const override {
    const Problem& pb = problem(item);
    std::optional<std::string> code = extract_code(answer);
    SampleResult graded = grade(code.value_or(""), pb.all_tests(), pb.func_name(), options_.execution);
    AnswerScore s;
    s.extracted = code ? nlohmann::json(*code) : nlohmann::json(nullptr);
    s.correct = graded.passed;
    s.detail = {{"status", status_name(graded.status)}, {"results", graded.results},
                {"sandbox", sandbox_mode_name(graded.sandbox_mode)}, {"wall_s", graded.wall_seconds}};
    if (graded.metadata.contains("error_message")) s.detail["error"] = graded.metadata["error_message"];
    if (!graded.detail.empty()) s.detail["cause"] = graded.detail;
    return s;
  }

  // pass@1 and, where every problem has that many samples, pass@5 / pass@10 (overall and per
  // difficulty), with the official unbiased estimator.
  nlohmann::json summary_metrics(const std::vector<nlohmann::json>& records) const override {
    return pass_at_k_from_records(records);
  }

  const Problem& problem(const EvalItem& item) const { return problems_.at(item.data.at("index").get<std::size_t>()); }

 private:
  Options options_;
  std::vector<Problem> problems_;
  std::vector<EvalItem> items_;
};

// For `gemma4-eval run --benchmark livecodebench` (eval/cli/main.cpp's make_benchmark()):
//   return gemma4::eval::livecodebench::make_benchmark(data, "v6", std::nullopt, std::nullopt);
inline std::unique_ptr<gemma4::eval::Benchmark> make_benchmark(const std::string& data_dir,
                                                               const std::string& version_tag = "v6",
                                                               std::optional<std::string> start_date = std::nullopt,
                                                               std::optional<std::string> end_date = std::nullopt,
                                                               PromptStyle style = PromptStyle::generic_chat) {
  Options options;
  if (!data_dir.empty()) options.data_dir = data_dir;
  options.selection = {version_tag, std::move(start_date), std::move(end_date)};
  options.style = style;
  return std::make_unique<LiveCodeBench>(std::move(options));
}

}  // namespace gemma4::eval::livecodebench

#endif  // __has_include("gemma4_eval/benchmark.h")
