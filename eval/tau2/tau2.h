// tau2-bench in C++: the small API the harness uses (see eval/tau2/README.md).
//
//   Domain d = load_domain("data", "retail");            // official files, "base" split
//   SimulationRecord r = run_task(d.context(agent, user, judge), d.name, d.tasks[0], cfg, trial);
//   RewardInfo again = score_record(d, r);                // re-score without any model
//   ScoreSummary s = score_file("runs/tau2.jsonl", "data");  // pass^k per domain
#pragma once

#include "tau2/airline.h"
#include "tau2/evaluator.h"
#include "tau2/orchestrator.h"
#include "tau2/retail.h"
#include "tau2/task.h"
#include "tau2/telecom.h"
#include "tau2/trajectory.h"

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace gemma4::eval::tau2 {

inline const std::vector<std::string>& domain_names() {
  static const std::vector<std::string> names = {"airline", "retail", "telecom"};
  return names;
}

// One domain loaded from the official data layout:
//   <data_root>/tau2/domains/<name>/{db.json, policy.md, tasks.json, split_tasks.json}
//   (telecom: db.json + user_db.json converted from the TOML files, main_policy.md + tech_support_manual.md)
//   <data_root>/tau2/user_simulator/simulation_guidelines{,_tools}.md
struct Domain {
  std::string name;
  std::string data_root;
  Json db;
  Json user_db;  // telecom: the user's phone and surroundings
  std::string policy;
  std::vector<Task> tasks;
  std::string user_guidelines, user_guidelines_tools;

  EnvironmentFactory environment_factory() const {
    // Captures copies, so the factory outlives this Domain object.
    if (name == "airline") return [db = db, policy = policy] { return airline::make_environment(db, policy); };
    if (name == "retail") return [db = db, policy = policy] { return retail::make_environment(db, policy); };
    if (name == "telecom")
      return [db = db, user_db = user_db, policy = policy] { return telecom::make_environment(db, user_db, policy); };
    throw std::runtime_error("tau2 domain '" + name + "' is not implemented yet");
  }
  RunContext context(ChatBackend* agent, ChatBackend* user, ChatBackend* judge) const {
    RunContext c;
    c.make_env = environment_factory();
    c.user_guidelines = user_guidelines;
    c.user_guidelines_tools = user_guidelines_tools;
    c.agent = agent;
    c.user = user;
    c.judge = judge;
    return c;
  }
  const Task& task(const std::string& id) const {
    for (const auto& t : tasks)
      if (t.id == id) return t;
    throw std::runtime_error("tau2 " + name + ": no task with id '" + id + "'");
  }
};

// `split` names an entry of split_tasks.json ("base" = the evaluation set); "" keeps every task.
inline Domain load_domain(const std::string& data_root, const std::string& name, const std::string& split = "base") {
  if (std::find(domain_names().begin(), domain_names().end(), name) == domain_names().end())
    throw std::runtime_error("unknown tau2 domain '" + name + "' (airline, retail, telecom)");
  Domain d;
  d.name = name;
  d.data_root = data_root;
  const std::string dir = data_root + "/tau2/domains/" + name;
  if (!std::filesystem::is_directory(dir))
    throw std::runtime_error(dir + ": not found; run tools/fetch_datasets.d/tau2.sh (see datasets/tau2/README.md)");
  d.db = load_json_file(dir + "/db.json");  // telecom: converted from db.toml by the fetch script
  if (name == "telecom") {
    d.user_db = load_json_file(dir + "/user_db.json");
    d.policy = telecom::assemble_policy(load_text_file(dir + "/main_policy.md"), load_text_file(dir + "/tech_support_manual.md"));
  } else {
    d.policy = load_text_file(dir + "/policy.md");
  }
  d.tasks = tasks_from_json(load_json_file(dir + "/tasks.json"), dir + "/tasks.json");
  if (!split.empty()) {
    const Json splits = load_json_file(dir + "/split_tasks.json");
    if (!splits.contains(split) || !splits[split].is_array())
      throw std::runtime_error(dir + "/split_tasks.json: no split '" + split + "'");
    std::set<std::string> keep;
    for (const auto& id : splits[split]) keep.insert(id.is_string() ? id.get<std::string>() : py::dumps(id));
    std::vector<Task> kept;
    for (auto& t : d.tasks)
      if (keep.count(t.id)) kept.push_back(std::move(t));
    d.tasks = std::move(kept);
  }
  const std::string guidelines = data_root + "/tau2/user_simulator";
  d.user_guidelines = load_text_file(guidelines + "/simulation_guidelines.md");
  d.user_guidelines_tools = load_text_file(guidelines + "/simulation_guidelines_tools.md");
  // Build one environment now so that a bad database fails at load time, naming the file.
  (void)d.environment_factory()();
  return d;
}

// Re-scores a recorded simulation (no model needed unless NL verdicts are missing and a judge is
// passed). Lenient replay: recorded tool texts may predate this code.
inline RewardInfo score_record(const Domain& d, const SimulationRecord& r, ChatBackend* judge = nullptr) {
  EvaluationOptions opts;
  opts.judge = judge;
  opts.strict_replay = false;
  return evaluate_simulation(d.environment_factory(), d.task(r.task_id), r.outcome(), opts);
}

struct DomainScore {
  PassHatK metrics;
  std::vector<std::string> agents, user_simulators, judges;  // distinct values seen in the file
};

struct ScoreSummary {
  std::map<std::string, DomainScore> domains;
  std::vector<std::pair<std::string, RewardInfo>> rescored;  // record id -> reward
  // Mean of the per-domain pass^1 (Gemma's "average over 3" when all three are present).
  double mean_pass1() const {
    double sum = 0;
    int n = 0;
    for (const auto& [name, s] : domains)
      if (!s.metrics.pass_hat_k.empty()) {
        sum += s.metrics.pass_hat_k[0];
        ++n;
      }
    return n ? sum / n : 0.0;
  }
};

// Re-scores every record of a JSONL run file against the official data in `data_root`.
inline ScoreSummary score_file(const std::string& path, const std::string& data_root, ChatBackend* judge = nullptr) {
  ScoreSummary out;
  std::map<std::string, Domain> domains;
  std::map<std::string, std::vector<TrialResult>> trials;
  for (const auto& rec : read_records(path)) {
    if (!domains.count(rec.domain)) domains.emplace(rec.domain, load_domain(data_root, rec.domain, ""));
    const Domain& d = domains.at(rec.domain);
    RewardInfo reward;
    if (rec.termination_reason != termination::kInfrastructureError) reward = score_record(d, rec, judge);
    trials[rec.domain].push_back(TrialResult{rec.task_id, reward.reward, rec.termination_reason});
    auto& ds = out.domains[rec.domain];
    auto note = [](std::vector<std::string>& v, const std::string& s) {
      if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
    };
    note(ds.agents, rec.agent);
    note(ds.user_simulators, rec.user_simulator);
    note(ds.judges, rec.judge.value_or(""));
    out.rescored.emplace_back(rec.id, reward);
  }
  for (auto& [name, t] : trials) out.domains[name].metrics = compute_pass_hat_k(t);
  return out;
}

}  // namespace gemma4::eval::tau2
