// Evaluator parity with the official tau2-bench evaluator, and pass^k.
#include <doctest/doctest.h>

#include "parity_check.h"
#include "tau2/airline.h"
#include "tau2/retail.h"
#include "tau2/telecom.h"

using namespace gemma4::eval::tau2;

using tau2_test::kData;

TEST_CASE("evaluator parity: airline trajectories score as the official evaluator scores them") {
  const Json db = load_json_file(kData + "/airline/db.json");
  const auto kinds = tau2_test::check_parity(kData + "/airline", [&] { return airline::make_environment(db, "policy"); });
  int total = 0, successes = 0;
  for (const auto& [k, n] : kinds) {
    total += n;
    if (k.rfind("success", 0) == 0) successes += n;
  }
  CHECK(total >= 30);
  CHECK(successes >= 10);
  CHECK(total - successes >= 10);
}

TEST_CASE("evaluator parity: retail trajectories score as the official evaluator scores them") {
  const Json db = load_json_file(kData + "/retail/db.json");
  const auto kinds = tau2_test::check_parity(kData + "/retail", [&] { return retail::make_environment(db, "policy"); });
  int total = 0, successes = 0;
  for (const auto& [k, n] : kinds) {
    total += n;
    if (k.rfind("success", 0) == 0) successes += n;
  }
  CHECK(total >= 30);
  CHECK(successes >= 10);
  CHECK(total - successes >= 10);
}

TEST_CASE("evaluator parity: telecom trajectories (with the user's device tool calls) score as officially") {
  const Json db = load_json_file(kData + "/telecom/db.json");
  const Json user_db = load_json_file(kData + "/telecom/user_db.json");
  telecom::default_vpn_is_poor() = false;
  const auto kinds =
      tau2_test::check_parity(kData + "/telecom", [&] { return telecom::make_environment(db, user_db, "policy"); });
  int total = 0, successes = 0;
  for (const auto& [k, n] : kinds) {
    total += n;
    if (k.rfind("success", 0) == 0) successes += n;
  }
  CHECK(total >= 30);
  CHECK(successes >= 10);
  CHECK(total - successes >= 10);
}

TEST_CASE("re-scoring without a judge reuses recorded NL verdicts, and refuses when there are none") {
  const Json db = load_json_file(kData + "/retail/db.json");
  EnvironmentFactory make_env = [&] { return retail::make_environment(db, "policy"); };
  auto tasks = tasks_from_json(load_json_file(kData + "/retail/tasks.json"), "tasks.json");
  auto records = read_records(kData + "/retail/parity_trajectories.jsonl");
  const auto& rec = records[1];  // r02: DB fine, judge said the assertion is not met
  REQUIRE(rec.id == "r02");
  const Task& task = tasks[0];
  CHECK_THROWS_WITH(evaluate_simulation(make_env, task, rec.outcome()), doctest::Contains("needs an NL-assertion judge"));
  SimulationRecord scored = rec;
  tau2_test::ScriptedJudge judge(*rec.judge_answer);
  EvaluationOptions with_judge;
  with_judge.judge = &judge;
  scored.reward_info = evaluate_simulation(make_env, task, rec.outcome(), with_judge).to_json();
  const RewardInfo again = evaluate_simulation(make_env, task, scored.outcome());  // no judge now
  CHECK(again.reward == 0.0);
  CHECK(again.db_match == std::optional<bool>(true));
}

TEST_CASE("strict replay refuses a trajectory whose recorded write result was altered") {
  const Json db = load_json_file(kData + "/retail/db.json");
  EnvironmentFactory make_env = [&] { return retail::make_environment(db, "policy"); };
  auto tasks = tasks_from_json(load_json_file(kData + "/retail/tasks.json"), "tasks.json");
  auto records = read_records(kData + "/retail/parity_trajectories.jsonl");
  SimulationRecord rec = records[11];  // r12: one return_delivered_order_items call
  REQUIRE(rec.id == "r12");
  bool altered = false;
  for (auto& m : rec.messages)
    if (m.role == "tool" && m.content && m.content->find("return requested") != std::string::npos) {
      m.content = "{\"status\": \"delivered\"}";
      altered = true;
    }
  REQUIRE(altered);
  CHECK_THROWS_AS(evaluate_simulation(make_env, tasks[2], rec.outcome()), ReplayError);
  EvaluationOptions lenient;
  lenient.strict_replay = false;
  CHECK(evaluate_simulation(make_env, tasks[2], rec.outcome(), lenient).reward == 1.0);
}

TEST_CASE("pass^k follows agent_metrics.py") {
  // task a: 3/4 successes, task b: 1/4, task c: 4/4; one infrastructure error is excluded.
  std::vector<TrialResult> trials;
  auto add = [&](const char* id, std::initializer_list<double> rewards) {
    for (double r : rewards) trials.push_back({id, r, "user_stop"});
  };
  add("a", {1, 1, 0, 1});
  add("b", {0, 0, 1.0 - 1e-7, 0});
  add("c", {1, 1, 1, 1});
  trials.push_back({"c", 0.0, "infrastructure_error"});
  const PassHatK m = compute_pass_hat_k(trials);
  REQUIRE(m.pass_hat_k.size() == 4);
  // pass^1 = (3/4 + 1/4 + 1)/3, pass^2 = (C(3,2)/C(4,2) + 0 + 1)/3, pass^4 = (0 + 0 + 1)/3
  CHECK(m.pass_hat_k[0] == doctest::Approx((0.75 + 0.25 + 1.0) / 3));
  CHECK(m.pass_hat_k[1] == doctest::Approx((3.0 / 6 + 0 + 1) / 3));
  CHECK(m.pass_hat_k[3] == doctest::Approx(1.0 / 3));
  CHECK(m.infra_errors == 1);
  CHECK(m.num_simulations == 12);
}
