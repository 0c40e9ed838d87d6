// End to end: the real `gemma4-eval` process runs LiveCodeBench (self-written sample problems,
// real sandboxed grading) and tau2-bench (self-written airline tasks, agent + user simulator +
// judge) against a scripted OpenAI-compatible server on loopback, then re-scores what it saved.
// The same runs against a real `gemma4 serve` are in test_real_serve.cpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "gemma4_eval/benchmark.h"
#include "tau2/orchestrator.h"

#include "common/cli_process.h"
#include "common/fake_openai_server.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using json = nlohmann::json;
using gemma4::test::FakeOpenAIServer;
using gemma4::test::read_jsonl;
using gemma4::test::read_text;
using gemma4::test::replying;
using gemma4::test::TempDir;

namespace {

const std::string kSource = GEMMA4_SOURCE_DIR;

int run_cli(const std::vector<std::string>& args, const fs::path& dir, const std::string& tag) {
  return gemma4::test::run_cli(GEMMA4_EVAL_BINARY, args, dir, tag);
}

std::string user_text(const json& body) {
  for (auto it = body["messages"].rbegin(); it != body["messages"].rend(); ++it)
    if ((*it)["role"] == "user" && (*it)["content"].is_string()) return (*it)["content"];
  return "";
}

std::string fenced(const std::string& code) { return "Here is my solution.\n```python\n" + code + "```\n"; }

}  // namespace

TEST_CASE("gemma4-eval run --benchmark livecodebench: sandboxed grading, pass@1 and pass@k, score round trip") {
  const fs::path data = fs::path(kSource) / "datasets/livecodebench/sample/converted";
  REQUIRE(fs::exists(data / "test6.jsonl"));
  // Sample 0 of the first problem passes, sample 1 prints a wrong number; the grid problem is
  // wrong in both samples; the last problem gets no code block at all.
  const std::uint64_t lantern_sample0 = gemma4::eval::sample_seed(0, "gx001_a", 0);
  FakeOpenAIServer server(replying([&](const json& body) -> json {
    const std::string prompt = user_text(body);
    std::string answer;
    if (prompt.find("Print their sum") != std::string::npos)
      answer = body["seed"].get<std::uint64_t>() == lantern_sample0
                   ? fenced("n = int(input())\nprint(sum(map(int, input().split())))\n")
                   : fenced("n = int(input())\nprint(sum(map(int, input().split())) + 1)\n");
    else if (prompt.find("Count the paths") != std::string::npos)
      answer = fenced("print(0)\n");
    else if (prompt.find("Print the mean") != std::string::npos)
      answer = "<|channel>thought\nmean\n<channel|>" +
               fenced("n = int(input())\na = list(map(int, input().split()))\nprint(f'{sum(a) / n:.6f}')\n");
    else if (prompt.find("consecutive vowels") != std::string::npos)
      answer = fenced(
          "class Solution:\n    def countVowelRuns(self, s: str) -> int:\n        runs, prev = 0, False\n"
          "        for ch in s:\n            v = ch in 'aeiou'\n            if v and not prev:\n                runs += 1\n"
          "            prev = v\n        return runs\n");
    else
      answer = "I would add neighbours, but I will not write the code.";
    return {{"content", answer}};
  }));
  TempDir tmp;
  const fs::path out = tmp.path / "lcb";
  REQUIRE(run_cli({"run", "--benchmark", "livecodebench", "--data", data.string(), "--endpoint", server.url(), "--model",
                   "fake-coder", "--api-key-env", "", "--samples", "2", "--quiet", "--out", out.string()},
                  tmp.path, "run") == 0);
  CHECK(server.bodies().size() == 10);

  const json results = json::parse(read_text(out / "results.json"));
  CHECK(results["benchmark"] == "livecodebench");
  CHECK(results["settings"]["version_tag"] == "v6");
  CHECK(results["metrics"]["items"] == 5);
  CHECK(results["metrics"]["samples_scored"] == 10);
  // pass@1 = mean over problems of c/n: (1/2 + 0 + 1 + 1 + 0) / 5
  CHECK(results["metrics"]["accuracy"].get<double>() == doctest::Approx(0.5));
  const json& bm = results["benchmark_metrics"];
  CHECK(bm["pass@1"].get<double>() == doctest::Approx(0.5));
  CHECK_FALSE(bm.contains("pass@5"));  // only 2 samples per problem: not reported, as officially
  CHECK(bm["by_difficulty"]["easy"]["pass@1"].get<double>() == doctest::Approx(2.5 / 3));
  CHECK(bm["by_difficulty"]["medium"]["pass@1"].get<double>() == doctest::Approx(0.0));
  CHECK(results["metrics"]["status_counts"]["unparsed"] == 2);

  const std::string report = read_text(out / "report.md");
  CHECK(report.find("LiveCodeBench v6") != std::string::npos);
  CHECK(report.find("- pass@1: 50.0%") != std::string::npos);
  CHECK(report.find("  - easy:") != std::string::npos);

  // Per sample: the extracted code and the sandbox's per-test results are in the run file.
  const auto samples = read_jsonl(out / "samples.jsonl");
  REQUIRE(samples.size() == 10);
  int wrong_answers = 0;
  for (const auto& s : samples) {
    if (s["item"] == "gx001_b") {
      CHECK(s["correct"] == false);
      // 7 expected, 0 printed: the official wrong-answer code, and grading stops at that test
      CHECK(s["extraction"]["results"] == json::array({-2}));
      CHECK(s["extraction"]["status"] == "wrong_answer");
      ++wrong_answers;
    }
    if (s["item"] == "neighbour-sums") CHECK(s["extracted"].is_null());
  }
  CHECK(wrong_answers == 2);

  // Score round trip: the saved responses, re-scored offline with their tests, give the same verdicts.
  {
    std::ofstream f(tmp.path / "responses.jsonl");
    std::map<std::string, json> tests;
    for (const auto& line : read_jsonl(data / "test6.jsonl")) tests[line["question_id"]] = line;
    for (const auto& s : samples) {
      const json& row = tests.at(s["item"]);
      // public then private, as the run graded them
      json t = json::parse(row["public_test_cases"].get<std::string>());
      for (const auto& p : json::parse(row["private_test_cases"].get<std::string>())) t.push_back(p);
      json line = {{"id", s["item"].get<std::string>() + "/" + std::to_string(s["sample"].get<int>())},
                   {"response", s["response"]}, {"tests", t}, {"metadata", row["metadata"]}};
      f << line.dump() << "\n";
    }
  }
  REQUIRE(run_cli({"score", "--benchmark", "livecodebench", "--responses", (tmp.path / "responses.jsonl").string(), "--output",
                   (tmp.path / "scored.jsonl").string()},
                  tmp.path, "score") == 0);
  const auto scored = read_jsonl(tmp.path / "scored.jsonl");
  REQUIRE(scored.size() == samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    INFO(scored[i].dump());
    CHECK(scored[i]["extracted"] == samples[i]["extracted"]);
    CHECK(scored[i]["correct"] == samples[i]["correct"]);
    CHECK(scored[i]["results"] == samples[i]["extraction"]["results"]);
  }

  // A date window selects by contest date (2025-02-01 .. 2025-03-31: three problems).
  const fs::path window = tmp.path / "window";
  REQUIRE(run_cli({"run", "--benchmark", "livecodebench", "--data", data.string(), "--endpoint", server.url(), "--model",
                   "fake-coder", "--api-key-env", "", "--start-date", "2025-02-01", "--end-date", "2025-03-31", "--quiet",
                   "--out", window.string()},
                  tmp.path, "window") == 0);
  const json wr = json::parse(read_text(window / "results.json"));
  CHECK(wr["metrics"]["items"] == 3);
  CHECK(wr["settings"]["start_date"] == "2025-02-01");
  CHECK(wr["benchmark_metrics"]["pass@1"].get<double>() == doctest::Approx(1.0 / 3));  // lantern sample 0 only
}

TEST_CASE("gemma4-eval run --benchmark tau2: agent, user simulator and judge on loopback; pass^k; score round trip") {
  TempDir tmp;
  // The official layout over the self-written test data.
  const fs::path root = tmp.path / "data";
  fs::create_directories(root / "tau2" / "domains");
  const fs::path test_data = fs::path(kSource) / "tests/tau2/data";
  for (const char* d : {"airline", "retail", "telecom"}) fs::create_directory_symlink(test_data / d, root / "tau2" / "domains" / d);
  fs::create_directory_symlink(test_data / "user_simulator", root / "tau2" / "user_simulator");

  const auto seeds = gemma4::eval::tau2::trial_seeds(300, 2);
  // Agent: "compensate" sends a certificate (100 in trial 0 = success; 50 in trial 1 = DB
  // mismatch), "refuse" declines (success in both trials). User: opens, then stops.
  FakeOpenAIServer server(replying([&](const json& body) -> json {
    const json& msgs = body["messages"];
    const std::string model = body["model"];
    if (model == "agent-m") {
      std::string first_user;
      bool used_tool = false;
      for (const auto& m : msgs) {
        if (m["role"] == "user" && first_user.empty()) first_user = m["content"];
        if (m["role"] == "tool") used_tool = true;
      }
      const bool compensate = first_user.find("compensation") != std::string::npos;
      if (!compensate) return {{"content", "I am sorry, I cannot cancel that reservation."}};
      const int amount = body["seed"].get<std::uint64_t>() == seeds[0] ? 100 : 50;
      if (!used_tool)
        return {{"content", nullptr},
                {"tool_calls", json::array({{{"id", "call_1"}, {"type", "function"},
                                             {"function", {{"name", "send_certificate"},
                                                           {"arguments", json{{"user_id", "omar_khan_1001"}, {"amount", amount}}.dump()}}}}})}};
      return {{"content", "I have sent you a certificate of " + std::to_string(amount) + " dollars."}};
    }
    if (model == "user-m") {
      const std::string system = msgs[0]["content"];
      bool spoke = false;
      for (const auto& m : msgs) spoke |= m["role"] == "assistant";
      if (spoke) return {{"content", "Thank you. ###STOP###"}};
      if (system.find("want compensation") != std::string::npos)
        return {{"content", "Hi, I am Omar Khan (omar_khan_1001). My flight was cancelled and I want compensation."}};
      return {{"content", "Hi, I am Omar Khan (omar_khan_1001). Please cancel ZFA04Y."}};
    }
    return {{"content", "unexpected model " + model}};
  }));
  const fs::path out = tmp.path / "tau2";
  REQUIRE(run_cli({"run", "--benchmark", "tau2", "--data", root.string(), "--domain", "airline", "--task", "compensate,refuse",
                   "--endpoint", server.url(), "--model", "agent-m", "--user-model", "user-m", "--judge-endpoint", server.url(),
                   "--judge-model", "judge-m", "--api-key-env", "", "--trials", "2", "--seed", "300", "--quiet", "--out",
                   out.string()},
                  tmp.path, "run") == 0);

  const json results = json::parse(read_text(out / "results.json"));
  CHECK(results["benchmark"] == "tau2");
  CHECK(results["settings"]["user_model"] == "user-m");
  CHECK(results["settings"]["judge_model"] == "judge-m");
  CHECK(results["settings"]["tau2_revision"] == gemma4::eval::tau2::kTau2Revision);
  CHECK(results["metrics"]["items"] == 2);
  CHECK(results["metrics"]["accuracy"].get<double>() == doctest::Approx(0.75));  // pass^1
  const json& airline = results["benchmark_metrics"]["domains"]["airline"];
  CHECK(airline["pass^1"].get<double>() == doctest::Approx(0.75));
  CHECK(airline["pass^2"].get<double>() == doctest::Approx(0.5));  // compensate 0, refuse 1
  CHECK(airline["simulations"] == 4);
  REQUIRE(airline["user_simulator"].size() == 1);
  CHECK(airline["user_simulator"][0].get<std::string>().find("user-m") != std::string::npos);
  CHECK(airline["judge"][0].get<std::string>().find("judge-m") != std::string::npos);
  CHECK(airline["agent"][0].get<std::string>().find("agent-m") != std::string::npos);

  const std::string report = read_text(out / "report.md");
  CHECK(report.find("τ²-bench") != std::string::npos);
  CHECK(report.find("- pass^2: 50.0%") != std::string::npos);
  CHECK(report.find("user-m") != std::string::npos);

  // Trajectories: official message shape, the tool call and its result, the seeds per trial.
  const auto samples = read_jsonl(out / "samples.jsonl");
  REQUIRE(samples.size() == 4);
  for (const auto& s : samples) {
    INFO(s["id"]);
    CHECK(s["termination_reason"] == "user_stop");
    CHECK(s["seed"] == seeds.at(s["trial"].get<int>()));
    CHECK(s["messages"][0]["content"] == "Hi! How can I help you today?");
    if (s["task_id"] == "compensate") {
      CHECK(s["messages"][2]["tool_calls"][0]["name"] == "send_certificate");
      CHECK(s["messages"][3]["role"] == "tool");
      CHECK(s["score"].get<double>() == (s["trial"] == 0 ? 1.0 : 0.0));
    } else {
      CHECK(s["score"].get<double>() == 1.0);
    }
  }
  // The agent gets the run's sampling (top_k included) and the tools; the user simulator neither.
  int agent_requests = 0;
  for (const auto& b : server.bodies()) {
    if (b["model"] == "agent-m") {
      ++agent_requests;
      CHECK(b["top_k"] == 64);
      CHECK(b["temperature"] == 1.0);
      CHECK(b["tools"].size() > 0);
    } else {
      CHECK(b["model"] == "user-m");
      CHECK_FALSE(b.contains("top_k"));
      CHECK(b["temperature"] == 0.0);
    }
  }
  CHECK(agent_requests == 2 * 2 + 2 * 1);  // compensate: call + answer; refuse: answer

  // Re-scoring the saved run without any model reproduces every reward and pass^k.
  REQUIRE(run_cli({"score", "--benchmark", "tau2", "--responses", (out / "samples.jsonl").string(), "--data", root.string(),
                   "--output", (tmp.path / "scored.jsonl").string(), "--summary", (tmp.path / "summary.json").string()},
                  tmp.path, "score") == 0);
  const auto scored = read_jsonl(tmp.path / "scored.jsonl");
  REQUIRE(scored.size() == samples.size());
  for (std::size_t i = 0; i < scored.size(); ++i) {
    CHECK(scored[i]["id"] == samples[i]["id"]);
    CHECK(scored[i]["reward"] == samples[i]["score"]);
    CHECK(scored[i]["matches_recorded"] == true);
  }
  const json summary = json::parse(read_text(tmp.path / "summary.json"));
  CHECK(summary["domains"]["airline"]["pass^2"].get<double>() == doctest::Approx(0.5));

  // A tampered trajectory (the certificate amount changed) is re-scored, not trusted.
  {
    std::ofstream f(tmp.path / "tampered.jsonl");
    for (auto s : samples) {
      if (s["task_id"] == "compensate" && s["trial"] == 1)
      {
        s["messages"][2]["tool_calls"][0]["arguments"]["amount"] = 100;
        s["messages"][4]["content"] = "I have sent you a certificate of 100 dollars.";
      }
      f << s.dump() << "\n";
    }
  }
  REQUIRE(run_cli({"score", "--benchmark", "tau2", "--responses", (tmp.path / "tampered.jsonl").string(), "--data",
                   root.string(), "--output", (tmp.path / "tampered_scored.jsonl").string()},
                  tmp.path, "tampered") == 0);
  int mismatches = 0;
  for (const auto& line : read_jsonl(tmp.path / "tampered_scored.jsonl"))
    if (line["matches_recorded"] == false) {
      ++mismatches;
      CHECK(line["reward"] == 1.0);
      CHECK(line["recorded_reward"] == 0.0);
    }
  CHECK(mismatches == 1);

  // Missing --user-model is a clear error.
  CHECK(run_cli({"run", "--benchmark", "tau2", "--data", root.string(), "--endpoint", server.url(), "--out",
                 (tmp.path / "x").string()},
                tmp.path, "nouser") == 1);
  CHECK(read_text(tmp.path / "nouser.err").find("--user-model") != std::string::npos);
}
