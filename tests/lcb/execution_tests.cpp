// Grading parity: our programs and tests, with the outcome the official LiveCodeBench pipeline
// (evaluate_generations_by_problem -> check_correctness -> testing_util.run_test, commit 28fef95)
// recorded offline in tests/lcb/data/execution_cases.json. Covers the stdin/stdout comparison
// rules (exact line match, then token-wise Decimal equality), functional Python equality, the
// mocked stdin, the import prelude, the reliability guard, timeouts and runs without result.
// Every case runs through the real sandbox.
#include "livecodebench/grade.h"
#include "livecodebench/score.h"

#include "test_util.h"

#include <doctest/doctest.h>

#include <future>
#include <sstream>

using namespace gemma4::eval::livecodebench;
using lcb_test::read_json;

namespace {

std::vector<TestCase> tests_of(const nlohmann::json& c) {
  return problem_detail::parse_tests(c["tests"], c["name"].get<std::string>());
}

}  // namespace

TEST_SUITE("lcb.execution") {

TEST_CASE("grading matches the official pipeline on recorded cases") {
  const nlohmann::json data = read_json(LCB_TEST_DATA "/execution_cases.json");
  const auto& cases = data["cases"];
  REQUIRE(cases.size() >= 100);
  // A few cases import numpy (python3-numpy, installed by tools/install_deps.sh).
  const bool have_numpy =
      grade("import numpy\nprint(1)", {TestCase{"", "1", TestType::stdin_stdout}}, std::nullopt).passed;
  if (!have_numpy) MESSAGE("numpy is not importable by the sandboxed python3: skipping the cases that need it");
  auto run_case = [&cases](std::size_t i) {
    const auto& c = cases[i];
    ExecutionConfig config;
    config.timeout_seconds = c["timeout"].get<int>();
    std::optional<std::string> fn;
    if (c["fn_name"].is_string()) fn = c["fn_name"].get<std::string>();
    return grade(c["code"].get<std::string>(), tests_of(c), fn, config);
  };
  // Two cases at a time: each is one sandboxed interpreter, mostly waiting on process start-up.
  std::vector<SampleResult> results(cases.size());
  auto skipped = [&](std::size_t i) { return !have_numpy && cases[i].value("needs", "") == "numpy"; };
  for (std::size_t i = 0; i < cases.size(); i += 2) {
    std::future<SampleResult> other;
    if (i + 1 < cases.size() && !skipped(i + 1)) other = std::async(std::launch::async, run_case, i + 1);
    if (!skipped(i)) results[i] = run_case(i);
    if (other.valid()) results[i + 1] = other.get();
  }
  MESSAGE("sandbox mode: " << std::string(sandbox_mode_name(results[0].sandbox_mode)));
  int agree = 0, compared = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (skipped(i)) continue;
    ++compared;
    const auto& c = cases[i];
    std::vector<nlohmann::json> official(c["official_results"].begin(), c["official_results"].end());
    INFO("case " << i << ": " << c["name"].get<std::string>() << "  ours: " << nlohmann::json(results[i].results).dump()
                 << " " << std::string(status_name(results[i].status)) << " " << results[i].detail
                 << "  official: " << c["official_results"].dump());
    CHECK(results[i].results == official);
    CHECK(results[i].passed == c["official_passed"].get<bool>());
    if (c["official_error_code"] == -5) CHECK(results[i].metadata["error_code"] == -5);
    agree += results[i].results == official;
  }
  MESSAGE(agree << " / " << compared << " cases agree with the official grader (" << cases.size() << " recorded)");
}

TEST_CASE("statuses name the failure") {
  ExecutionConfig config;
  config.timeout_seconds = 1;
  auto one = [&](const std::string& code, const std::string& expected) {
    return grade(code, {TestCase{"", expected, TestType::stdin_stdout}}, std::nullopt, config);
  };
  CHECK(one("print(1)", "1").status == Status::passed);
  CHECK(one("print(2)", "1").status == Status::wrong_answer);
  CHECK(one("raise ValueError", "1").status == Status::runtime_error);
  CHECK(one("while True: pass", "1").status == Status::time_limit);
  SampleResult functional = grade("class Solution:\n    def f(self, x):\n        return x + 1\n",
                                  {TestCase{"1", "2", TestType::functional}, TestCase{"5", "7", TestType::functional}},
                                  std::string("f"), config);
  CHECK(functional.status == Status::wrong_answer);
  CHECK(functional.results == std::vector<nlohmann::json>{true, false});
}

TEST_CASE("score_line: end to end on self-written problems from datasets/livecodebench/sample") {
  // The converted sample release: stdin and functional problems, public and private tests.
  auto problems = load_problems_jsonl(LCB_DATASET_DIR "/sample/converted/test6.jsonl");
  REQUIRE(problems.size() >= 3);
  const nlohmann::json responses = read_json(LCB_TEST_DATA "/sample_responses.json");
  int checked = 0;
  for (const auto& r : responses["responses"]) {
    const Problem* problem = nullptr;
    for (const auto& p : problems)
      if (p.question_id == r["question_id"]) problem = &p;
    REQUIRE_MESSAGE(problem != nullptr, r["question_id"].dump());
    nlohmann::json tests = nlohmann::json::array();
    for (const auto& t : problem->all_tests())
      tests.push_back({{"input", t.input}, {"output", t.output},
                       {"testtype", t.type == TestType::functional ? "functional" : "stdin"}});
    nlohmann::json line = {{"id", r["question_id"]}, {"response", r["response"]}, {"tests", tests}};
    if (problem->func_name()) line["fn_name"] = *problem->func_name();
    nlohmann::json out = score_line(line);
    INFO(r["question_id"].get<std::string>() << ": " << out.dump());
    CHECK(out["id"] == r["question_id"]);
    CHECK(out["correct"] == r["expect_correct"]);
    CHECK(out["status"] == r["expect_status"]);
    CHECK(out["extracted"].is_null() == r["expect_no_code"].get<bool>());
    CHECK(out["results"] == r["official_results"]);
    CHECK(out["results"].size() == out["tests"].size());
    ++checked;
  }
  CHECK(checked >= 6);
}

TEST_CASE("score_line: without tests it only extracts; bad lines name the field") {
  nlohmann::json out = score_line({{"id", 7}, {"response", "```python\nprint(1)\n```"}});
  CHECK(out["extracted"] == "print(1)");
  CHECK(out["correct"].is_null());
  CHECK(score_line({{"id", "x"}, {"response", "no code"}})["extracted"].is_null());
  CHECK_THROWS_WITH_AS(score_line({{"id", 1}}), doctest::Contains("response"), std::runtime_error);
  CHECK_THROWS_WITH_AS(score_line({{"response", "x"}}), doctest::Contains("id"), std::runtime_error);
  CHECK_THROWS_WITH_AS(score_line({{"id", 1}, {"response", "x"}, {"tests", "[{\"input\": 1}]"}}),
                       doctest::Contains("input"), std::runtime_error);
  CHECK_THROWS_WITH_AS(score_line({{"id", 1}, {"response", "x"}, {"tests", "eJzLSM3JyVcozy/KSQEAGgQEXQ=="}}),
                       doctest::Contains("never unpickles"), std::runtime_error);
}

}  // TEST_SUITE

#ifdef GEMMA4_LCB_HAVE_THINKING
TEST_CASE("score_line removes the thought channel before extraction" * doctest::test_suite("lcb.execution")) {
  nlohmann::json tests = nlohmann::json::array({{{"input", ""}, {"output", "1"}, {"testtype", "stdin"}}});
  nlohmann::json out = score_line({{"id", 1},
                                   {"response", "<|channel>thought\n```python\nprint(2)\n```<channel|>```python\nprint(1)\n```"},
                                   {"tests", tests}});
  CHECK(out["extracted"] == "print(1)");
  CHECK(out["correct"] == true);
  nlohmann::json cut = score_line({{"id", 2}, {"response", "<|channel>thought\n```python\nprint(2)\n```"}});
  CHECK(cut["extracted"].is_null());
  CHECK(cut["truncated"] == true);
}
#endif

#if __has_include("livecodebench/benchmark.h") && __has_include("gemma4_eval/benchmark.h")
#include "livecodebench/benchmark.h"
TEST_CASE("the harness adapter prompts and grades the sample release" * doctest::test_suite("lcb.execution")) {
  Options options;
  options.data_dir = LCB_DATASET_DIR "/sample/converted";
  LiveCodeBench bench(options);
  REQUIRE(bench.items().size() == 5);
  const auto& item = bench.items()[0];
  CHECK(item.id == "gx001_a");
  CHECK(item.category == "easy");
  auto prompt = bench.prompt(item, 0);
  REQUIRE(prompt.messages.size() == 2);
  CHECK(prompt.messages[1].content == question_prompt(bench.problem(item)));
  auto good = bench.score(item, prompt, "```python\nn = int(input())\nprint(sum(map(int, input().split())))\n```");
  CHECK(good.correct);
  CHECK(good.detail["status"] == "passed");
  auto none = bench.score(item, prompt, "no code");
  CHECK_FALSE(none.correct);
  CHECK(none.extracted.is_null());
  auto windowed = make_benchmark(LCB_DATASET_DIR "/sample/converted", "v6", std::string("2025-02-01"), std::nullopt);
  CHECK(windowed->items().size() == 4);
  CHECK(windowed->settings()["start_date"] == "2025-02-01");
}
#endif
