// Evaluator parity: our rewards on data/<domain>/parity_trajectories.jsonl must equal the official
// evaluator's (parity_expected.json, produced offline by gen/make_parity.py).
#pragma once

#include <doctest/doctest.h>

#include "tau2/trajectory.h"
#include "tool_script_check.h"

#include <map>

namespace tau2_test {

using namespace gemma4::eval;
using namespace gemma4::eval::tau2;

// A judge that answers with the canned text of the trajectory and remembers what it was asked.
class ScriptedJudge : public ChatBackend {
 public:
  explicit ScriptedJudge(std::string answer) : answer_(std::move(answer)) {}
  ChatResponse chat(const ChatRequest& request) override {
    requests.push_back(request);
    ChatResponse r;
    r.message.role = "assistant";
    r.message.content = answer_;
    r.finish_reason = "stop";
    return r;
  }
  std::string describe() const override { return "scripted-judge"; }
  std::vector<ChatRequest> requests;

 private:
  std::string answer_;
};

inline std::vector<bool> bools(const Json& j, const char* key) {
  std::vector<bool> out;
  if (!j.is_array()) return out;
  for (const auto& x : j) out.push_back(x.value(key, false));
  return out;
}

// Returns the number of trajectories checked, per kind of outcome.
inline std::map<std::string, int> check_parity(const std::string& domain_dir, const EnvironmentFactory& make_env) {
  std::map<std::string, int> kinds;
  std::map<std::string, Task> tasks;
  for (auto& t : tasks_from_json(read_json(domain_dir + "/tasks.json"), domain_dir + "/tasks.json")) tasks.emplace(t.id, t);
  const auto records = read_records(domain_dir + "/parity_trajectories.jsonl");
  const Json expected = read_json(domain_dir + "/parity_expected.json");
  REQUIRE(records.size() == expected.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& rec = records[i];
    const Json& want = expected[i];
    INFO("trajectory " << rec.id << " (" << want["kind"].get<std::string>() << ")");
    REQUIRE(want["id"] == rec.id);
    REQUIRE(tasks.count(rec.task_id) == 1);
    REQUIRE_FALSE(want.contains("error"));
    ScriptedJudge judge(rec.judge_answer.value_or(""));
    EvaluationOptions options;
    options.judge = &judge;
    const RewardInfo got = evaluate_simulation(make_env, tasks.at(rec.task_id), rec.outcome(), options);
    CHECK(got.reward == want["reward"].get<double>());
    if (!want["db_match"].is_null()) CHECK(got.db_match == std::optional<bool>(want["db_match"].get<bool>()));
    if (want["reward_breakdown"].is_object()) CHECK(py::equal(got.reward_breakdown, want["reward_breakdown"]));
    if (want["communicate_met"].is_array()) {
      std::vector<bool> exp;
      for (const auto& b : want["communicate_met"]) exp.push_back(b.get<bool>());
      CHECK(bools(got.communicate_checks, "met") == exp);
    }
    if (want["action_match"].is_array()) {
      std::vector<bool> exp;
      for (const auto& b : want["action_match"]) exp.push_back(b.get<bool>());
      CHECK(bools(got.action_checks, "action_match") == exp);
    }
    if (want["nl_met"].is_array()) {
      REQUIRE(got.nl_assertions.has_value());
      std::vector<bool> exp, ours;
      for (const auto& b : want["nl_met"]) exp.push_back(b.get<bool>());
      for (const auto& c : *got.nl_assertions) ours.push_back(c.met);
      CHECK(ours == exp);
    }
    if (want["judge_prompt"].is_array()) {
      REQUIRE(judge.requests.size() == 1);
      REQUIRE(judge.requests[0].messages.size() == 2);
      CHECK(judge.requests[0].messages[0].content == want["judge_prompt"][0].get<std::string>());
      CHECK(judge.requests[0].messages[1].content == want["judge_prompt"][1].get<std::string>());
    } else {
      CHECK(judge.requests.empty());
    }
    ++kinds[want["kind"].get<std::string>()];
  }
  return kinds;
}

}  // namespace tau2_test
