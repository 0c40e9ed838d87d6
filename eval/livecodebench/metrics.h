// pass@k for LiveCodeBench (lcb_runner/evaluation/pass_k_utils.py): for a problem with n graded
// samples of which c pass, the unbiased estimator
//     pass@k = 1 - C(n-c, k) / C(n, k) = 1 - prod_{i=n-c+1..n} (1 - k / i),   and 1 when n-c < k;
// the benchmark score is its mean over problems (pass@1 = mean of c/n). The official code only
// reports pass@k when every problem has at least k samples.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gemma4::eval::livecodebench {

inline double pass_at_k(int n, int c, int k) {
  if (n - c < k) return 1.0;
  double product = 1.0;
  for (int i = n - c + 1; i <= n; ++i) product *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  return 1.0 - product;
}

struct ProblemTally {
  std::string difficulty;  // easy | medium | hard
  int samples = 0;
  int passed = 0;
};

// {"pass@1": x, "pass@5": y, ..., "by_difficulty": {"easy": {"problems": n, "pass@1": ...}}};
// a k is reported only where every problem (of that group) has >= k samples, as officially.
inline nlohmann::json pass_at_k_summary(const std::vector<ProblemTally>& problems,
                                        const std::vector<int>& ks = {1, 5, 10}) {
  auto summarise = [&](const std::vector<const ProblemTally*>& group) {
    nlohmann::json out = {{"problems", group.size()}};
    for (int k : ks) {
      bool enough = !group.empty();
      double sum = 0;
      for (const auto* p : group) {
        if (p->samples < k) enough = false;
        else sum += pass_at_k(p->samples, p->passed, k);
      }
      if (enough) out["pass@" + std::to_string(k)] = sum / static_cast<double>(group.size());
    }
    return out;
  };
  std::vector<const ProblemTally*> all;
  std::map<std::string, std::vector<const ProblemTally*>> by_difficulty;
  for (const auto& p : problems) {
    all.push_back(&p);
    by_difficulty[p.difficulty].push_back(&p);
  }
  nlohmann::json summary = summarise(all);
  summary["by_difficulty"] = nlohmann::json::object();
  for (const auto& [difficulty, group] : by_difficulty) summary["by_difficulty"][difficulty] = summarise(group);
  return summary;
}

// pass@k from the harness's sample records ({"item", "category", "score" | "correct", "status"}),
// one tally per item; records with status "error" (the backend failed, nothing was generated)
// are left out, as the harness's own metrics do.
inline nlohmann::json pass_at_k_from_records(const std::vector<nlohmann::json>& records,
                                             const std::vector<int>& ks = {1, 5, 10}) {
  std::map<std::string, ProblemTally> tallies;
  for (const auto& r : records) {
    if (r.value("status", "") == "error" || !r.contains("item")) continue;
    auto& t = tallies[r["item"].get<std::string>()];
    t.difficulty = r.value("category", "");
    ++t.samples;
    bool passed = r.contains("correct") && r["correct"].is_boolean() ? r["correct"].get<bool>()
                                                                    : r.value("score", 0.0) > 0;
    t.passed += passed ? 1 : 0;
  }
  std::vector<ProblemTally> list;
  for (auto& [id, t] : tallies) list.push_back(t);
  return pass_at_k_summary(list, ks);
}

}  // namespace gemma4::eval::livecodebench
