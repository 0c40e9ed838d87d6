// Grading one candidate program against a problem's tests, with the outcome of LiveCodeBench's
// official grader (lcb_runner/evaluation/{testing_util,compute_code_generation_metrics}.py):
//
//   * all tests of a sample run in one sandboxed interpreter, in order, stopping at the first
//     failure; each test has a per-test alarm of `timeout_seconds` (official default 6);
//   * the whole run has the official global timeout, (timeout + 1) * number_of_tests + 5 seconds;
//   * per-test entries are the official codes: true (pass), false or -2 (wrong answer),
//     -3 (time limit), -4 (runtime error, also "Error during testing" as a single entry);
//   * a run that produced no result (killed, crashed, global timeout, SystemExit in functional
//     code) is the single entry [-2] with error_code -5: check_correctness means to return -1
//     for every test, but it then indexes the empty metadata list, raises IndexError, and
//     evaluate_generations_by_problem keeps its initial [-2] ("TestRunnerError"). We reproduce
//     what the official pipeline actually outputs (recorded in tests/lcb/data);
//   * a sample passes iff every entry is > 0 (so, as officially, a problem with no tests passes).
//
// On top of the official codes we name the cause (`Status`): the sandbox can stop a program for
// memory, output size or CPU time, which the official grader does not limit.
#pragma once

#include "livecodebench/python_driver.h"
#include "livecodebench/sandbox.h"

#include <nlohmann/json.hpp>

#include <csignal>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gemma4::eval::livecodebench {

enum class TestType { stdin_stdout, functional };

struct TestCase {
  std::string input;   // stdin text, or one JSON value per line (functional arguments)
  std::string output;  // expected stdout, or one JSON value (functional return value)
  TestType type = TestType::stdin_stdout;
};

struct ExecutionConfig {
  int timeout_seconds = 6;                          // per test, whole seconds (signal.alarm)
  std::uint64_t memory_bytes = 4ull << 30;          // RLIMIT_AS (the official grader has none)
  int max_processes = 64;                           // RLIMIT_NPROC inside the sandbox
  std::uint64_t captured_output_bytes = 64ull << 20;  // what the program may print per test
  std::uint64_t raw_output_bytes = 64ull << 20;     // writes that bypass the capture (fd 1/2)
  std::uint64_t tmpfs_bytes = 64ull << 20;          // the writable /tmp
  std::string python;                               // empty: system_python()
  // Overrides the official global timeout (seconds) when > 0; tests use it to stay short.
  double wall_seconds_override = 0;
  // The seccomp rule against new processes (see sandbox.h). Off only to test RLIMIT_NPROC.
  bool allow_processes = false;
};

enum class Status {
  passed,
  wrong_answer,
  time_limit,      // a per-test alarm, the global timeout, or the CPU limit
  runtime_error,   // an exception, a crash, or a run that gave no result
  memory_limit,    // MemoryError under RLIMIT_AS
  output_limit,    // printed more than the configured limit
};

inline const char* status_name(Status status) {
  switch (status) {
    case Status::passed: return "passed";
    case Status::wrong_answer: return "wrong_answer";
    case Status::time_limit: return "time_limit";
    case Status::runtime_error: return "runtime_error";
    case Status::memory_limit: return "memory_limit";
    case Status::output_limit: return "output_limit";
  }
  return "?";
}

struct SampleResult {
  std::vector<nlohmann::json> results;  // official per-test entries (bool or int)
  bool passed = false;
  Status status = Status::runtime_error;
  nlohmann::json metadata = nlohmann::json::object();  // official metadata (error_code, ...)
  std::string detail;                   // how the sandbox saw the run ended, when relevant
  SandboxMode sandbox_mode = SandboxMode::bwrap_userns;
  double wall_seconds = 0;
};

// Official: np.all(np.array(results) > 0).
inline bool all_positive(const std::vector<nlohmann::json>& results) {
  for (const auto& entry : results) {
    if (entry.is_boolean()) {
      if (!entry.get<bool>()) return false;
    } else if (!entry.is_number() || entry.get<double>() <= 0) {
      return false;
    }
  }
  return true;
}

// The official global timeout of check_correctness.
inline double official_global_timeout(int timeout_seconds, std::size_t tests) {
  return static_cast<double>(timeout_seconds + 1) * static_cast<double>(tests) + 5.0;
}

namespace grade_detail {

inline Status status_of_failure(const nlohmann::json& entry, const nlohmann::json& metadata) {
  if (entry.is_boolean()) return Status::wrong_answer;
  int code = entry.get<int>();
  if (code == -2) return Status::wrong_answer;
  if (code == -3) return Status::time_limit;
  if (metadata.is_object() && metadata.contains("error") && metadata["error"].is_string() &&
      metadata["error"].get<std::string>().rfind("MemoryError", 0) == 0)
    return Status::memory_limit;
  return Status::runtime_error;
}

inline std::string signal_description(int signal) {
  const char* name = ::sigabbrev_np(signal);
  return std::string("killed by SIG") + (name ? name : std::to_string(signal));
}

}  // namespace grade_detail

// Runs `code` against `tests` (public then private, in the order given). `fn_name` is the
// LeetCode method name for functional problems (metadata.func_name), nullopt for stdin problems.
inline SampleResult grade(const std::string& code, const std::vector<TestCase>& tests,
                          const std::optional<std::string>& fn_name, const ExecutionConfig& config = {}) {
  nlohmann::json bundle = {
      {"code", code},
      {"inputs", nlohmann::json::array()},
      {"outputs", nlohmann::json::array()},
      {"fn_name", fn_name ? nlohmann::json(*fn_name) : nlohmann::json(nullptr)},
      {"timeout", config.timeout_seconds},
      {"max_processes", config.max_processes},
      {"captured_output_limit", config.captured_output_bytes},
      {"drop_to_uid", 65534},
  };
  for (const auto& test : tests) {
    bundle["inputs"].push_back(test.input);
    bundle["outputs"].push_back(test.output);
  }

  SandboxRequest request;
  request.files = {{"driver.py", std::string(kPythonDriver)},
                   {"bundle.json", bundle.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}};
  request.command = {config.python.empty() ? system_python() : config.python, "-I", "-B",
                     "{sandbox}/driver.py", "{sandbox}/bundle.json"};
  double wall = config.wall_seconds_override > 0
                    ? config.wall_seconds_override
                    : official_global_timeout(config.timeout_seconds, tests.size());
  request.limits.wall_seconds = wall;
  request.limits.cpu_seconds = static_cast<int>(wall) + 1;
  request.limits.memory_bytes = config.memory_bytes;
  request.limits.max_processes = config.max_processes;
  request.limits.stdout_bytes = config.raw_output_bytes;
  request.limits.tmpfs_bytes = config.tmpfs_bytes;
  request.limits.file_bytes = config.tmpfs_bytes;
  request.limits.allow_processes = config.allow_processes;

  SandboxOutcome outcome = run_sandboxed(request);
  SampleResult result;
  result.sandbox_mode = outcome.mode;
  result.wall_seconds = outcome.wall_seconds;

  // "started\n" first, then the verdict line. No "started": the sandbox never ran the driver.
  const std::string started = "started\n";
  if (outcome.verdict.rfind(started, 0) != 0 && !outcome.wall_timeout && !outcome.output_limit) {
    throw std::runtime_error(std::string("livecodebench: the sandbox (") + sandbox_mode_name(outcome.mode) +
                             ") did not start the grader (exit " + std::to_string(outcome.exit_code) +
                             "): " + outcome.stderr_head.substr(0, 2000));
  }
  std::optional<nlohmann::json> verdict;
  if (outcome.verdict.size() > started.size()) {
    std::string line = outcome.verdict.substr(started.size());
    line = line.substr(0, line.find('\n'));
    verdict = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (verdict->is_discarded() || !verdict->is_object()) verdict.reset();
  }

  if (verdict && (*verdict)["results"].is_array()) {
    for (const auto& entry : (*verdict)["results"]) result.results.push_back(entry);
    result.metadata = verdict->value("metadata", nlohmann::json::object());
    result.passed = all_positive(result.results);
    result.status = Status::passed;
    for (const auto& entry : result.results) {
      bool ok = entry.is_boolean() ? entry.get<bool>() : (entry.is_number() && entry.get<double>() > 0);
      if (!ok) {
        result.status = grade_detail::status_of_failure(entry, result.metadata);
        break;
      }
    }
    return result;
  }

  // No result: officially [-2] with a TestRunnerError (see the top of this file). Name the cause.
  result.results = {-2};
  result.passed = false;
  result.metadata = {{"error_code", -5}, {"error_message", "TestRunnerError"},
                     {"error", "no result from the grading process"}};
  if (outcome.wall_timeout) {
    result.status = Status::time_limit;
    result.detail = "global timeout after " + std::to_string(wall) + " s";
  } else if (outcome.output_limit) {
    result.status = Status::output_limit;
    result.detail = "wrote more than " + std::to_string(config.raw_output_bytes) + " bytes to stdout/stderr";
  } else if (verdict && verdict->value("limit", "") == "captured_output") {
    result.status = Status::output_limit;
    result.detail = "printed more than " + std::to_string(config.captured_output_bytes) + " bytes";
  } else if (outcome.term_signal == SIGXCPU) {
    result.status = Status::time_limit;
    result.detail = "CPU time limit";
  } else if (verdict && verdict->contains("crash")) {
    result.status = Status::runtime_error;
    result.detail = "grader ended by " + (*verdict)["crash"].get<std::string>();
  } else if (outcome.term_signal != 0) {
    result.status = Status::runtime_error;
    result.detail = grade_detail::signal_description(outcome.term_signal);
  } else {
    result.status = Status::runtime_error;
    result.detail = "exited with status " + std::to_string(outcome.exit_code) + " without a verdict";
  }
  return result;
}

inline std::vector<TestCase> concat_tests(const std::vector<TestCase>& a, const std::vector<TestCase>& b) {
  std::vector<TestCase> all = a;
  all.insert(all.end(), b.begin(), b.end());
  return all;
}

}  // namespace gemma4::eval::livecodebench
