// tau2-bench as a benchmark of the evaluation harness (gemma4_eval/benchmark.h).
//
// Items are (domain, task) pairs, id "<domain>/<task_id>", category = domain; sample s is trial s.
// run_sample() runs one whole simulation through the orchestrator: the agent is the backend under
// test (the harness's endpoint, with the run's sampling settings), the user simulator and the
// judge are other backends given at construction. The sample record is the full trajectory
// (SimulationRecord::to_json(): messages, termination reason, reward_info, the three models'
// descriptions), so the run file can be re-scored without a model (`gemma4-eval score
// --benchmark tau2`). score = reward, so the harness's accuracy is pass^1 (mean over tasks of the
// mean reward); summary_metrics() adds pass^k per domain as the official agent_metrics.py does.
// Simulations that end in infrastructure_error get status "error": excluded from the scores (as
// officially) and retried by the next invocation of the same run.
#pragma once

#if __has_include("gemma4_eval/benchmark.h")

#include "gemma4_eval/benchmark.h"
#include "tau2/tau2.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace gemma4::eval::tau2 {

struct BenchmarkOptions {
  std::string data_root = "datasets/tau2/data";  // tools/fetch_datasets.d/tau2.sh output
  std::vector<std::string> domains = {"airline", "retail", "telecom"};
  std::string split = "base";                    // split_tasks.json entry; "" = every task
  std::vector<std::string> task_ids;              // only these tasks (empty: all of the split)
  RunConfig run;                                  // max_steps, max_errors, retries, user sampling
  std::uint32_t seed = 300;                       // trial seeds: random.seed(seed); randint(0, 10**6)
  // Names that identify the other two models in the config hash (their endpoints are not hashed,
  // like the agent's): e.g. "gpt-4.1".
  std::string user_model, judge_model;
};

class Tau2Benchmark : public gemma4::eval::Benchmark {
 public:
  // `user` (required) and `judge` (may be null: tasks with NL assertions then end in
  // infrastructure_error) must outlive the benchmark and be safe to call from several threads.
  Tau2Benchmark(BenchmarkOptions options, ChatBackend* user, ChatBackend* judge)
      : options_(std::move(options)), user_(user), judge_(judge) {
    if (user_ == nullptr) throw std::invalid_argument("tau2: a user-simulator backend is required");
    if (options_.domains.empty()) throw std::invalid_argument("tau2: no domain selected");
    std::set<std::string> wanted(options_.task_ids.begin(), options_.task_ids.end());
    std::set<std::string> seen;
    for (const auto& name : options_.domains) {
      auto domain = std::make_unique<Domain>(load_domain(options_.data_root, name, options_.split));
      for (std::size_t t = 0; t < domain->tasks.size(); ++t) {
        const Task& task = domain->tasks[t];
        if (!wanted.empty() && !wanted.count(task.id)) continue;
        seen.insert(task.id);
        EvalItem item;
        item.id = name + "/" + task.id;
        item.category = name;
        item.gold = nullptr;  // scored by the evaluator, not against an answer
        item.data = {{"domain", domains_.size()}, {"task", t}};
        items_.push_back(std::move(item));
      }
      domains_.push_back(std::move(domain));
    }
    for (const auto& id : wanted)
      if (!seen.count(id)) throw std::invalid_argument("tau2: task '" + id + "' is not in split '" + options_.split + "' of the selected domains");
  }

  std::string name() const override { return "tau2"; }
  const std::vector<EvalItem>& items() const override { return items_; }

  nlohmann::json settings() const override {
    return {{"tau2_revision", kTau2Revision},
            {"domains", options_.domains},
            {"split", options_.split},
            {"user_model", options_.user_model},
            {"user_temperature", options_.run.user_temperature},
            {"user_max_tokens", options_.run.user_max_tokens},
            {"judge_model", judge_ ? nlohmann::json(options_.judge_model) : nlohmann::json(nullptr)},
            {"max_steps", options_.run.max_steps},
            {"max_errors", options_.run.max_errors},
            {"max_retries", options_.run.max_retries},
            {"trial_seed", options_.seed}};
  }

  // The conversation is built by the orchestrator; this is only its opening (for inspection).
  SamplePrompt prompt(const EvalItem& /*item*/, int /*sample*/) const override {
    SamplePrompt p;
    p.gold = nullptr;
    return p;
  }
  AnswerScore score(const EvalItem&, const SamplePrompt&, const std::string&) const override {
    throw std::logic_error("tau2 is scored per simulation in run_sample");
  }

  nlohmann::json run_sample(const EvalItem& item, int sample, ChatBackend& backend,
                            const GenerationSettings& gen) const override {
    const Domain& domain = *domains_.at(item.data.at("domain").get<std::size_t>());
    const Task& task = domain.tasks.at(item.data.at("task").get<std::size_t>());
    RunConfig cfg = options_.run;
    cfg.agent_temperature = gen.temperature;
    cfg.agent_top_p = gen.top_p;
    cfg.agent_top_k = gen.top_k;
    cfg.agent_max_tokens = gen.max_tokens;
    cfg.agent_thinking = gen.enable_thinking;
    // Trial t's seed is the t-th draw of the official stream, whatever the number of trials.
    cfg.seed = trial_seeds(options_.seed, sample + 1).back();
    const SimulationRecord sim = run_task(domain.context(&backend, user_, judge_), domain.name, task, cfg, sample);
    nlohmann::json rec = nlohmann::json::parse(sim.to_json().dump());
    rec["category"] = domain.name;
    rec["gold"] = nullptr;
    rec["latency_s"] = sim.duration_s;
    if (sim.termination_reason == termination::kInfrastructureError) {
      rec["status"] = "error";
      rec["score"] = nullptr;
    } else {
      rec["status"] = "ok";
      const double reward = sim.reward_info.is_object() ? sim.reward_info.value("reward", 0.0) : 0.0;
      rec["score"] = reward;
      rec["correct"] = is_successful(reward);
    }
    return rec;
  }

  nlohmann::json summary_metrics(const std::vector<nlohmann::json>& records) const override {
    return pass_hat_k_summary(records);
  }

  // pass^k per domain from harness records (or trajectory lines), and the models that produced
  // them. Records still failing at the backend (status "error") are left out, as the official
  // metrics leave out infrastructure errors.
  static nlohmann::json pass_hat_k_summary(const std::vector<nlohmann::json>& records) {
    std::map<std::string, std::vector<TrialResult>> trials;
    std::map<std::string, std::set<std::string>> agents, users, judges;
    for (const auto& r : records) {
      if (r.value("status", "ok") == "error" || !r.contains("domain")) continue;
      const std::string domain = r.value("domain", "");
      const double reward = r.contains("score") && r["score"].is_number() ? r["score"].get<double>() : 0.0;
      trials[domain].push_back(TrialResult{r.value("task_id", ""), reward, r.value("termination_reason", "")});
      if (r.contains("agent") && r["agent"].is_string() && !r["agent"].get<std::string>().empty()) agents[domain].insert(r["agent"].get<std::string>());
      if (r.contains("user_simulator") && r["user_simulator"].is_string() && !r["user_simulator"].get<std::string>().empty()) users[domain].insert(r["user_simulator"].get<std::string>());
      if (r.contains("judge") && r["judge"].is_string()) judges[domain].insert(r["judge"].get<std::string>());
    }
    nlohmann::json out = nlohmann::json::object();
    nlohmann::json per_domain = nlohmann::json::object();
    double pass1_sum = 0;
    int pass1_n = 0;
    for (const auto& [domain, t] : trials) {
      const PassHatK m = compute_pass_hat_k(t);
      nlohmann::json d = {{"tasks", m.num_tasks}, {"simulations", m.num_simulations}, {"avg_reward", m.avg_reward}};
      for (std::size_t k = 0; k < m.pass_hat_k.size(); ++k) d["pass^" + std::to_string(k + 1)] = m.pass_hat_k[k];
      d["agent"] = nlohmann::json(std::vector<std::string>(agents[domain].begin(), agents[domain].end()));
      d["user_simulator"] = nlohmann::json(std::vector<std::string>(users[domain].begin(), users[domain].end()));
      d["judge"] = nlohmann::json(std::vector<std::string>(judges[domain].begin(), judges[domain].end()));
      if (!m.pass_hat_k.empty()) {
        pass1_sum += m.pass_hat_k[0];
        ++pass1_n;
      }
      per_domain[domain] = std::move(d);
    }
    out["domains"] = std::move(per_domain);
    // Gemma 4's card reports the mean of the three domains' pass^1.
    if (pass1_n > 0) out["mean_pass^1_over_domains"] = pass1_sum / pass1_n;
    return out;
  }

 private:
  BenchmarkOptions options_;
  ChatBackend* user_;
  ChatBackend* judge_;
  std::vector<std::unique_ptr<Domain>> domains_;
  std::vector<EvalItem> items_;
};

}  // namespace gemma4::eval::tau2

#endif  // __has_include("gemma4_eval/benchmark.h")
