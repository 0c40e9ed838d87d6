// LiveCodeBench problems in the official `livecodebench/code_generation_lite` row format
// (see datasets/livecodebench/README.md), and selection of a release and a date window.
//
// One JSON object per line with string fields question_title, question_content, platform,
// question_id, contest_id, contest_date (ISO), starter_code, difficulty, public_test_cases (a JSON
// list of {input, output, testtype} as a string), private_test_cases (the same, as a string) and
// metadata (a JSON object as a string; LeetCode problems have func_name).
//
// In the official release private_test_cases is base64(zlib(pickle(json string))). This loader
// never unpickles: tools/fetch_datasets.d/livecodebench.py decodes that form offline, with an
// unpickler that refuses every global, into the plain-JSON form read here. A row still in the
// encoded form is an error that says so.
#pragma once

#include "livecodebench/grade.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gemma4::eval::livecodebench {

struct Problem {
  std::string question_title;
  std::string question_content;
  std::string platform;       // leetcode | codeforces | atcoder
  std::string question_id;
  std::string contest_id;
  std::string contest_date;   // normalised to YYYY-MM-DDTHH:MM:SS
  std::string starter_code;   // empty for stdin problems
  std::string difficulty;     // easy | medium | hard
  std::vector<TestCase> public_tests;
  std::vector<TestCase> private_tests;
  nlohmann::json metadata = nlohmann::json::object();

  // The LeetCode method name; its presence makes every test a functional call (as officially).
  std::optional<std::string> func_name() const {
    if (metadata.contains("func_name") && metadata["func_name"].is_string())
      return metadata["func_name"].get<std::string>();
    return std::nullopt;
  }
  // Public tests, then private ones: the order the official grader runs them in.
  std::vector<TestCase> all_tests() const { return concat_tests(public_tests, private_tests); }
};

// The files of each version tag of the official dataset script: release_vN is cumulative
// (test.jsonl .. testN.jsonl), vN is only release N's new problems, vA_vB is A..B, and
// release_latest is everything. Gemma 4 parity: "v6" (the 175 problems new in release_v6).
inline std::vector<std::string> release_files(const std::string& version_tag) {
  constexpr int kLatest = 6;
  auto file = [](int n) { return n == 1 ? std::string("test.jsonl") : "test" + std::to_string(n) + ".jsonl"; };
  auto range = [&](int from, int to) {
    std::vector<std::string> files;
    for (int n = from; n <= to; ++n) files.push_back(file(n));
    return files;
  };
  auto number = [&](const std::string& text) -> int {
    if (text.size() != 1 || text[0] < '1' || text[0] > '0' + kLatest) return 0;
    return text[0] - '0';
  };
  if (version_tag == "release_latest") return range(1, kLatest);
  if (version_tag.rfind("release_v", 0) == 0) {
    if (int n = number(version_tag.substr(9))) return range(1, n);
  } else if (version_tag.size() >= 2 && version_tag[0] == 'v') {
    auto underscore = version_tag.find('_');
    if (underscore == std::string::npos) {
      if (int n = number(version_tag.substr(1))) return range(n, n);
    } else if (version_tag.compare(underscore, 2, "_v") == 0) {
      int from = number(version_tag.substr(1, underscore - 1));
      int to = number(version_tag.substr(underscore + 2));
      if (from && to && from < to) return range(from, to);
    }
  }
  throw std::invalid_argument("livecodebench: unknown version tag '" + version_tag +
                              "' (release_v1..release_v6, release_latest, v1..v6, vA_vB)");
}

namespace problem_detail {

inline std::string field(const nlohmann::json& row, const char* name, const std::string& where) {
  if (!row.contains(name)) throw std::runtime_error(where + ": missing field '" + name + "'");
  if (!row[name].is_string()) throw std::runtime_error(where + ": field '" + name + "' is not a string");
  return row[name].get<std::string>();
}

// "2023-08-21", "2023-08-21T10:00:00" or "2023-08-21 10:00:00" -> "2023-08-21T10:00:00", as
// datetime.fromisoformat reads them (no time means midnight).
inline std::string normalise_date(const std::string& text, const std::string& where) {
  auto digits = [&](std::size_t from, std::size_t count) {
    if (text.size() < from + count) return false;
    return std::all_of(text.begin() + static_cast<long>(from), text.begin() + static_cast<long>(from + count),
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  bool date_ok = digits(0, 4) && text.size() >= 10 && text[4] == '-' && digits(5, 2) && text[7] == '-' && digits(8, 2);
  if (!date_ok) throw std::runtime_error(where + ": contest_date '" + text + "' is not an ISO date");
  if (text.size() == 10) return text + "T00:00:00";
  bool time_ok = (text[10] == 'T' || text[10] == ' ') && digits(11, 2) && text.size() >= 16 && text[13] == ':' &&
                 digits(14, 2);
  if (!time_ok) throw std::runtime_error(where + ": contest_date '" + text + "' has an unreadable time");
  std::string seconds = text.size() >= 19 && text[16] == ':' && digits(17, 2) ? text.substr(17, 2) : "00";
  return text.substr(0, 10) + "T" + text.substr(11, 5) + ":" + seconds;
}

inline std::vector<TestCase> parse_tests(const nlohmann::json& value, const std::string& where) {
  nlohmann::json list = value;
  if (value.is_string()) {
    list = nlohmann::json::parse(value.get<std::string>(), nullptr, false);
    if (list.is_discarded()) {
      throw std::runtime_error(where + " is not JSON. If it is the official encoded form "
                               "(base64 of zlib of a pickle), convert the release with "
                               "tools/fetch_datasets.d/livecodebench.py first: the C++ loader never unpickles.");
    }
  }
  if (!list.is_array()) throw std::runtime_error(where + " is not a list of tests");
  std::vector<TestCase> tests;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& t = list[i];
    std::string at = where + "[" + std::to_string(i) + "]";
    if (!t.is_object()) throw std::runtime_error(at + " is not an object");
    TestCase test;
    test.input = field(t, "input", at);
    test.output = field(t, "output", at);
    std::string type = field(t, "testtype", at);
    if (type == "stdin") test.type = TestType::stdin_stdout;
    else if (type == "functional") test.type = TestType::functional;
    else throw std::runtime_error(at + ": testtype '" + type + "' is neither stdin nor functional");
    tests.push_back(std::move(test));
  }
  return tests;
}

}  // namespace problem_detail

// One row. `where` names the file and line for error messages.
inline Problem parse_problem(const nlohmann::json& row, const std::string& where) {
  using problem_detail::field;
  if (!row.is_object()) throw std::runtime_error(where + ": not a JSON object");
  Problem p;
  p.question_title = field(row, "question_title", where);
  p.question_content = field(row, "question_content", where);
  p.platform = field(row, "platform", where);
  p.question_id = field(row, "question_id", where);
  p.contest_id = field(row, "contest_id", where);
  p.contest_date = problem_detail::normalise_date(field(row, "contest_date", where), where);
  p.starter_code = field(row, "starter_code", where);
  p.difficulty = field(row, "difficulty", where);
  for (const char* name : {"public_test_cases", "private_test_cases", "metadata"})
    if (!row.contains(name)) throw std::runtime_error(where + ": missing field '" + name + "'");
  p.public_tests = problem_detail::parse_tests(row["public_test_cases"], where + ": public_test_cases");
  p.private_tests = problem_detail::parse_tests(row["private_test_cases"], where + ": private_test_cases");
  p.metadata = row["metadata"];
  if (p.metadata.is_string()) p.metadata = nlohmann::json::parse(p.metadata.get<std::string>(), nullptr, false);
  if (!p.metadata.is_object()) throw std::runtime_error(where + ": metadata is not a JSON object");
  if (p.metadata.contains("func_name") && !p.metadata["func_name"].is_string() && !p.metadata["func_name"].is_null())
    throw std::runtime_error(where + ": metadata.func_name is not a string");
  return p;
}

inline std::vector<Problem> load_problems_jsonl(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("livecodebench: cannot open " + path.string());
  std::vector<Problem> problems;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = path.string() + ":" + std::to_string(number);
    auto row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_discarded()) throw std::runtime_error(where + ": not valid JSON (truncated file?)");
    problems.push_back(parse_problem(row, where));
  }
  if (in.bad()) throw std::runtime_error("livecodebench: read error in " + path.string());
  return problems;
}

struct Selection {
  std::string version_tag = "v6";
  std::optional<std::string> start_date;  // YYYY-MM-DD: keep contest_date >= start 00:00:00
  std::optional<std::string> end_date;    // YYYY-MM-DD: keep contest_date <= end 00:00:00 (official)
};

// Loads the files of selection.version_tag from `folder` (converted by tools/fetch_datasets) and
// applies the date window as compute_scores.py / load_code_generation_dataset do. Note the
// official end bound compares with midnight: a contest later that day is excluded.
inline std::vector<Problem> load_release(const std::filesystem::path& folder, const Selection& selection) {
  std::optional<std::string> start, end;
  if (selection.start_date) start = problem_detail::normalise_date(*selection.start_date, "--start-date");
  if (selection.end_date) end = problem_detail::normalise_date(*selection.end_date, "--end-date");
  std::vector<Problem> problems;
  for (const auto& name : release_files(selection.version_tag)) {
    auto path = folder / name;
    if (!std::filesystem::exists(path))
      throw std::runtime_error("livecodebench: " + path.string() + " is missing (version tag " +
                               selection.version_tag + "); fetch it with tools/fetch_datasets");
    for (auto& p : load_problems_jsonl(path)) {
      if (start && p.contest_date < *start) continue;
      if (end && p.contest_date > *end) continue;
      problems.push_back(std::move(p));
    }
  }
  return problems;
}

}  // namespace gemma4::eval::livecodebench
