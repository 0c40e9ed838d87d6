// Extraction parity with the official extractor, the loader (row format, errors, version tags,
// date windows), prompts and pass@k. No sandbox, milliseconds.
#include "livecodebench/extract.h"
#include "livecodebench/metrics.h"
#include "livecodebench/problem.h"
#include "livecodebench/prompt.h"

#include "test_util.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace gemma4::eval::livecodebench;
using lcb_test::read_json;

namespace {

nlohmann::json sample_row() {
  return {{"question_title", "T"}, {"question_content", "Q"}, {"platform", "atcoder"}, {"question_id", "x_a"},
          {"contest_id", "x"}, {"contest_date", "2025-03-01T00:00:00"}, {"starter_code", ""}, {"difficulty", "easy"},
          {"public_test_cases", "[{\"input\": \"1\\n\", \"output\": \"1\\n\", \"testtype\": \"stdin\"}]"},
          {"private_test_cases", "[]"}, {"metadata", "{}"}};
}

}  // namespace

TEST_SUITE("lcb.unit") {

TEST_CASE("extraction matches the official extract_code on recorded responses") {
  const nlohmann::json data = read_json(LCB_TEST_DATA "/extraction_cases.json");
  REQUIRE(data["cases"].size() >= 100);
  for (const auto& c : data["cases"]) {
    const std::string response = c["response"];
    INFO("response: " << nlohmann::json(response).dump());
    std::optional<std::string> ours = extract_code(response);
    CHECK(ours.value_or("") == c["expected"].get<std::string>());
    CHECK(ours.has_value() == (c["fence_lines"].get<int>() >= 2));
  }
}

TEST_CASE("extraction quirks, spelled out") {
  CHECK(extract_code("```python\na\n```\ntext\n```python\nb\n```") == "b");       // the last block wins
  CHECK(extract_code("```python\na\n```\nexample:\n```") == "example:");         // odd count: last two fences
  CHECK(extract_code("```python\r\nx\r\n```") == "x\r");                         // only \n splits lines
  CHECK(extract_code("```python\n```") == "");                                    // found, but empty
  CHECK_FALSE(extract_code("```python\nx = 1").has_value());                      // one fence: nothing
}

TEST_CASE("version tags select the official files") {
  CHECK(release_files("release_v1") == std::vector<std::string>{"test.jsonl"});
  CHECK(release_files("release_v6").size() == 6);
  CHECK(release_files("release_latest").size() == 6);
  CHECK(release_files("v6") == std::vector<std::string>{"test6.jsonl"});
  CHECK(release_files("v1") == std::vector<std::string>{"test.jsonl"});
  CHECK(release_files("v4_v6") == std::vector<std::string>{"test4.jsonl", "test5.jsonl", "test6.jsonl"});
  CHECK_THROWS_AS(release_files("v7"), std::invalid_argument);
  CHECK_THROWS_AS(release_files("v6_v4"), std::invalid_argument);
  CHECK_THROWS_AS(release_files("release_v0"), std::invalid_argument);
}

TEST_CASE("the sample release loads, with functional and stdin problems, and date windows apply") {
  const std::string folder = LCB_DATASET_DIR "/sample/converted";
  auto all = load_release(folder, {"v6", std::nullopt, std::nullopt});
  REQUIRE(all.size() == 5);
  int functional = 0;
  for (const auto& p : all) {
    CHECK_FALSE(p.public_tests.empty());
    CHECK_FALSE(p.private_tests.empty());
    if (p.func_name()) {
      ++functional;
      CHECK_FALSE(p.starter_code.empty());
      CHECK(p.public_tests[0].type == TestType::functional);
    }
  }
  CHECK(functional == 2);
  // Official bounds: start <= contest_date <= end, each bound at midnight.
  auto window = load_release(folder, {"v6", std::string("2025-02-01"), std::string("2025-03-15")});
  std::vector<std::string> ids;
  for (const auto& p : window) ids.push_back(p.question_id);
  CHECK(ids == std::vector<std::string>{"gx001_a", "gx001_b", "neighbour-sums"});
  CHECK(load_release(folder, {"v6", std::string("2025-04-21"), std::nullopt}).empty());
  CHECK_THROWS_WITH(load_release(folder, {"release_v6", std::nullopt, std::nullopt}), doctest::Contains("test.jsonl"));
}

TEST_CASE("the raw (encoded) release is refused with a pointer to the converter") {
  CHECK_THROWS_WITH(load_problems_jsonl(LCB_DATASET_DIR "/sample/raw/test6.jsonl"),
                    doctest::Contains("tools/fetch_datasets.d/livecodebench.py"));
}

TEST_CASE("bad rows name the file, line and field") {
  auto row = sample_row();
  CHECK_NOTHROW(parse_problem(row, "f.jsonl:1"));
  row.erase("difficulty");
  CHECK_THROWS_WITH(parse_problem(row, "f.jsonl:1"), doctest::Contains("f.jsonl:1: missing field 'difficulty'"));
  row = sample_row();
  row["contest_date"] = "March 2025";
  CHECK_THROWS_WITH(parse_problem(row, "f.jsonl:2"), doctest::Contains("contest_date"));
  row = sample_row();
  row["public_test_cases"] = "[{\"input\": \"1\", \"output\": \"1\", \"testtype\": \"interactive\"}]";
  CHECK_THROWS_WITH(parse_problem(row, "f.jsonl:3"), doctest::Contains("testtype 'interactive'"));
  row = sample_row();
  row["metadata"] = "{\"func_name\": 3}";
  CHECK_THROWS_WITH(parse_problem(row, "f.jsonl:4"), doctest::Contains("func_name"));
  // A truncated file.
  auto path = std::filesystem::temp_directory_path() / "gemma4-lcb-truncated.jsonl";
  {
    std::ofstream out(path);
    out << sample_row().dump() << "\n" << sample_row().dump().substr(0, 40) << "\n";
  }
  CHECK_THROWS_WITH(load_problems_jsonl(path), doctest::Contains(":2: not valid JSON"));
  std::filesystem::remove(path);
  CHECK(problem_detail::normalise_date("2025-03-01", "d") == "2025-03-01T00:00:00");
  CHECK(problem_detail::normalise_date("2025-03-01 10:30", "d") == "2025-03-01T10:30:00");
}

TEST_CASE("prompts follow lcb_runner/prompts/code_generation.py") {
  auto row = sample_row();
  Problem stdin_problem = parse_problem(row, "row");
  auto messages = build_messages(stdin_problem);
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].role == "system");
  CHECK(messages[0].content == kSystemMessage);
  CHECK(messages[1].content ==
        "### Question:\nQ\n\n### Format: Read the inputs from stdin solve the problem and write the answer to stdout "
        "(do not directly test on the sample inputs). Enclose your code within delimiters as follows. Ensure that "
        "when the python program runs, it reads the inputs, runs the algorithm and writes output to STDOUT.\n"
        "```python\n# YOUR CODE HERE\n```\n\n### Answer: (use the provided format with backticks)\n\n");
  row["starter_code"] = "class Solution:\n    def f(self):\n        ";
  Problem functional = parse_problem(row, "row");
  CHECK(question_prompt(functional) ==
        "### Question:\nQ\n\n### Format: You will use the following starter code to write the solution to the "
        "problem and enclose your code within delimiters.\n```python\nclass Solution:\n    def f(self):\n        \n"
        "```\n\n### Answer: (use the provided format with backticks)\n\n");
  auto folded = build_messages(stdin_problem, PromptStyle::system_in_user);
  REQUIRE(folded.size() == 1);
  CHECK(folded[0].content.rfind(std::string(kSystemMessage) + "\n\n### Question:\nQ", 0) == 0);
  CHECK(question_prompt(stdin_problem, PromptStyle::reasoning_main).find("orchastrates") != std::string::npos);
}

TEST_CASE("pass@k is the unbiased estimator") {
  CHECK(pass_at_k(10, 0, 1) == 0.0);
  CHECK(pass_at_k(10, 10, 1) == 1.0);
  CHECK(pass_at_k(10, 3, 1) == doctest::Approx(0.3).epsilon(1e-15));
  CHECK(pass_at_k(5, 1, 5) == 1.0);  // n - c < k
  // 1 - C(7,5)/C(10,5) = 1 - 21/252
  CHECK(pass_at_k(10, 3, 5) == doctest::Approx(1.0 - 21.0 / 252.0).epsilon(1e-14));
  std::vector<ProblemTally> tallies = {{"easy", 4, 4}, {"easy", 4, 1}, {"hard", 4, 0}};
  auto summary = pass_at_k_summary(tallies, {1, 5});
  CHECK(summary["pass@1"].get<double>() == doctest::Approx((1.0 + 0.25 + 0.0) / 3));
  CHECK_FALSE(summary.contains("pass@5"));  // fewer than 5 samples: not reported, as officially
  CHECK(summary["by_difficulty"]["easy"]["problems"] == 2);
  CHECK(summary["by_difficulty"]["hard"]["pass@1"].get<double>() == 0.0);
  // From harness records: item a 2/2, item b 1/2 (an error record is not a sample).
  std::vector<nlohmann::json> records = {
      {{"item", "a"}, {"category", "easy"}, {"correct", true}, {"status", "ok"}},
      {{"item", "a"}, {"category", "easy"}, {"correct", true}, {"status", "ok"}},
      {{"item", "b"}, {"category", "hard"}, {"correct", false}, {"status", "unparsed"}},
      {{"item", "b"}, {"category", "hard"}, {"correct", true}, {"status", "ok"}},
      {{"item", "b"}, {"category", "hard"}, {"status", "error"}}};
  auto from_records = pass_at_k_from_records(records, {1, 2});
  CHECK(from_records["pass@1"].get<double>() == doctest::Approx(0.75));
  CHECK(from_records["pass@2"].get<double>() == doctest::Approx(1.0));
  CHECK(from_records["by_difficulty"]["hard"]["pass@1"].get<double>() == doctest::Approx(0.5));
}

}  // TEST_SUITE
