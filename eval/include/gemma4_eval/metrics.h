// Scores from sample records: accuracy (mean over items of the mean over each item's samples),
// per category, a seeded percentile-bootstrap 95% interval over items, and the counts that must
// be read next to the score (unparsed, truncated, errors, official random fallbacks).
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace gemma4::eval {

struct ItemScores {
  std::string category;
  std::vector<double> scores;  // one per scored sample
  double mean() const {
    double s = 0;
    for (double x : scores) s += x;
    return scores.empty() ? 0.0 : s / static_cast<double>(scores.size());
  }
};

// Percentile bootstrap over items: resample items with replacement, take the mean of item means.
inline std::pair<double, double> bootstrap_ci(const std::vector<double>& item_means, std::uint64_t seed,
                                              int resamples = 2000) {
  if (item_means.empty()) return {0.0, 0.0};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, item_means.size() - 1);
  std::vector<double> stats(static_cast<std::size_t>(resamples));
  for (auto& st : stats) {
    double s = 0;
    for (std::size_t i = 0; i < item_means.size(); ++i) s += item_means[pick(rng)];
    st = s / static_cast<double>(item_means.size());
  }
  std::sort(stats.begin(), stats.end());
  auto at = [&](double q) { return stats[static_cast<std::size_t>(q * (resamples - 1) + 0.5)]; };
  return {at(0.025), at(0.975)};
}

inline double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

// `records`: the run's sample records for one benchmark and config (see Benchmark::run_sample).
inline nlohmann::json compute_metrics(const std::vector<nlohmann::json>& records, std::uint64_t seed) {
  std::map<std::string, ItemScores> items;
  std::map<std::string, int> status_counts{{"ok", 0}, {"unparsed", 0}, {"truncated", 0}, {"error", 0}};
  int fallback_random = 0;
  double fallback_expected_hits = 0;  // what the official random guess would add, in expectation
  int scored = 0, scored_not_truncated = 0;
  double completion_tokens = 0, thought_chars = 0;
  double correct_not_truncated = 0;
  for (const auto& r : records) {
    const std::string status = r.value("status", "error");
    ++status_counts[status];
    if (status == "error" || !r.contains("score") || r["score"].is_null()) continue;
    const double score = r["score"].get<double>();
    completion_tokens += r.value("completion_tokens", 0);
    thought_chars += r.value("thought_chars", 0);
    auto& it = items[r.at("item").get<std::string>()];
    it.category = r.value("category", "");
    it.scores.push_back(score);
    ++scored;
    if (status != "truncated") {
      ++scored_not_truncated;
      correct_not_truncated += score;
    }
    if (r.value("fallback", "") == "random") {
      ++fallback_random;
      const int k = r.value("num_choices", 0);
      if (k > 0) fallback_expected_hits += 1.0 / k;
    }
  }
  std::vector<double> item_means;
  std::map<std::string, std::vector<double>> by_category;
  for (const auto& [id, it] : items) {
    item_means.push_back(it.mean());
    by_category[it.category].push_back(it.mean());
  }
  const double accuracy = mean_of(item_means);
  const auto [lo, hi] = bootstrap_ci(item_means, seed);
  nlohmann::json m;
  m["accuracy"] = accuracy;
  m["ci95"] = {lo, hi};
  m["items"] = items.size();
  m["samples_scored"] = scored;
  m["status_counts"] = status_counts;
  m["unparsed_rate"] = scored ? status_counts["unparsed"] / static_cast<double>(scored) : 0.0;
  m["truncated_rate"] = scored ? status_counts["truncated"] / static_cast<double>(scored) : 0.0;
  m["accuracy_excluding_truncated"] = scored_not_truncated ? correct_not_truncated / scored_not_truncated : 0.0;
  m["fallback_random"] = fallback_random;
  // Budget diagnostics: long thinking near max_tokens explains truncations.
  m["mean_completion_tokens"] = scored ? completion_tokens / scored : 0.0;
  m["mean_thought_chars"] = scored ? thought_chars / scored : 0.0;
  // The official MMLU-Pro/MMMU-Pro scripts guess a letter where nothing was extracted; this is
  // that score in expectation, for comparison with numbers produced that way.
  double sum_scores = 0;
  for (const auto& [id, it] : items)
    for (double s : it.scores) sum_scores += s;
  m["accuracy_with_expected_random_fallback"] = scored ? (sum_scores + fallback_expected_hits) / scored : 0.0;
  nlohmann::json cats = nlohmann::json::object();
  for (const auto& [cat, means] : by_category) cats[cat.empty() ? "(none)" : cat] = {{"accuracy", mean_of(means)}, {"items", means.size()}};
  m["per_category"] = cats;
  return m;
}

}  // namespace gemma4::eval
