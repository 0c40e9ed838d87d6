// The public API: loading a domain from the official layout, scoring a run file.
#include <doctest/doctest.h>

#include "tau2/tau2.h"
#include "tool_script_check.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace gemma4::eval::tau2;
namespace py = gemma4::eval::py;
namespace fs = std::filesystem;

using tau2_test::kData;

namespace {

// <tmp>/tau2/domains/{airline,retail} and <tmp>/tau2/user_simulator pointing at the test data.
struct DataRoot {
  fs::path root;
  DataRoot() {
    char tmpl[] = "/tmp/tau2_api_XXXXXX";
    root = mkdtemp(tmpl);
    fs::create_directories(root / "tau2" / "domains");
    for (const char* d : {"airline", "retail", "telecom"}) fs::create_directory_symlink(fs::path(kData) / d, root / "tau2" / "domains" / d);
    fs::create_directory_symlink(fs::path(kData) / "user_simulator", root / "tau2" / "user_simulator");
  }
  ~DataRoot() { fs::remove_all(root); }
};
}  // namespace

TEST_CASE("load_domain reads the official layout and applies the split") {
  DataRoot data;
  const Domain all = load_domain(data.root.string(), "airline", "");
  const Domain train = load_domain(data.root.string(), "airline", "train");
  CHECK(all.tasks.size() == 11);
  CHECK(train.tasks.size() == 5);
  CHECK(all.user_guidelines.find("<PERSONA_GUIDELINES>") != std::string::npos);
  CHECK(all.policy.rfind("# Test airline policy", 0) == 0);
  CHECK_THROWS_WITH(load_domain(data.root.string(), "airline", "nope"), doctest::Contains("no split 'nope'"));
  CHECK_THROWS_WITH(load_domain(data.root.string(), "banking", "base"), doctest::Contains("unknown tau2 domain"));
  const Domain tel = load_domain(data.root.string(), "telecom", "small");
  CHECK(tel.tasks.size() == 3);
  CHECK(tel.policy == "<main_policy>\n# Test telecom main policy\nSelf-written for tests.\n\n</main_policy>\n<tech_support_policy>\n"
                      "# Test tech support manual\nAsk the user to check the status bar first.\n\n</tech_support_policy>");
  CHECK(tel.environment_factory()()->user_tool_schemas().size() == 30);
  CHECK_THROWS_WITH(load_domain("/nonexistent", "retail", "base"), doctest::Contains("fetch_datasets"));
}

TEST_CASE("score_file re-scores a run without models and computes pass^k per domain") {
  DataRoot data;
  // A run file: the airline and retail parity trajectories with their recorded judge verdicts.
  const fs::path run = data.root / "run.jsonl";
  std::vector<std::string> expected_ids;
  int expected_successes[2] = {0, 0}, expected_total[2] = {0, 0};
  {
    std::ofstream out(run);
    int di = 0;
    for (const char* dom : {"airline", "retail"}) {
      const Domain d = load_domain(data.root.string(), dom, "");
      const Json expected = tau2_test::read_json(kData + "/" + dom + "/parity_expected.json");
      auto records = read_records(kData + "/" + dom + "/parity_trajectories.jsonl");
      for (size_t i = 0; i < records.size(); ++i) {
        auto& r = records[i];
        if (r.judge_answer) {  // record the verdicts as a live run would
          Json nl = Json::array();
          const Json answer = Json::parse(*r.judge_answer);
          for (const auto& res : answer["results"])
            nl.push_back(Json{{"nl_assertion", res["expectedOutcome"]}, {"met", res["metExpectation"]}, {"justification", ""}});
          r.reward_info = Json{{"nl_assertions", nl}};
        }
        r.agent = "model-under-test";
        r.user_simulator = "user-model";
        out << py::dumps(r.to_json()) << "\n";
        if (r.termination_reason == "infrastructure_error") continue;
        ++expected_total[di];
        if (expected[i]["reward"].get<double>() == 1.0) ++expected_successes[di];
      }
      ++di;
    }
  }
  const ScoreSummary s = score_file(run.string(), data.root.string());
  REQUIRE(s.domains.size() == 2);
  const auto& air = s.domains.at("airline").metrics;
  const auto& ret = s.domains.at("retail").metrics;
  CHECK(air.num_simulations == expected_total[0]);
  CHECK(ret.num_simulations == expected_total[1]);
  CHECK(ret.infra_errors == 1);
  CHECK(air.avg_reward == doctest::Approx(double(expected_successes[0]) / expected_total[0]));
  CHECK(ret.avg_reward == doctest::Approx(double(expected_successes[1]) / expected_total[1]));
  REQUIRE(air.pass_hat_k.size() >= 1);
  CHECK(s.domains.at("airline").agents == std::vector<std::string>{"model-under-test"});
  CHECK(s.mean_pass1() == doctest::Approx((air.pass_hat_k[0] + ret.pass_hat_k[0]) / 2));
}

TEST_CASE("a truncated last line is reported, or skipped on request") {
  DataRoot data;
  const fs::path run = data.root / "cut.jsonl";
  auto records = read_records(kData + "/airline/parity_trajectories.jsonl");
  {
    std::ofstream out(run);
    out << py::dumps(records[0].to_json()) << "\n";
    const std::string second = py::dumps(records[1].to_json());
    out << second.substr(0, second.size() / 2);
  }
  CHECK_THROWS_WITH(read_records(run.string()), doctest::Contains("cut.jsonl:2: invalid JSON"));
  CHECK(read_records(run.string(), /*allow_truncated_tail=*/true).size() == 1);
}
