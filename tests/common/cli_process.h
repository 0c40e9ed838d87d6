// Helpers for end-to-end tests that run the project's command-line tools as child processes and
// read what they wrote: a temporary directory, whole-file and JSONL readers, a blocking run with
// stdout/stderr captured to files, and spawn/wait for runs the test interrupts (SIGKILL).
// Include after <doctest/doctest.h>.
#pragma once

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace gemma4::test {

// mkdtemp under /tmp, removed with everything in it when the test ends.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "gemma4_test") {
    std::string tmpl = "/tmp/" + prefix + "_XXXXXX";
    REQUIRE_MESSAGE(mkdtemp(tmpl.data()) != nullptr, "mkdtemp " << tmpl);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing: " << p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One JSON value per non-empty line; a line that does not parse fails the test, naming the line.
inline std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& p) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(p));
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    REQUIRE_MESSAGE(!j.is_discarded(), p.string() << ":" << n << " is not JSON");
    out.push_back(j);
  }
  return out;
}

inline std::size_t count_nonempty_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

// Runs `binary args...` with stdout and stderr in dir/<tag>.out and dir/<tag>.err; returns the exit
// status (-1 if killed by a signal). Prints the stderr when the status is not 0.
inline int run_cli(const std::string& binary, const std::vector<std::string>& args, const std::filesystem::path& dir,
                   const std::string& tag) {
  auto quoted = [](const std::string& s) {  // single-quoted for sh; a ' inside becomes '\''
    std::string q = "'";
    for (char c : s) {
      if (c == '\'') q.append("'\\''");
      else q.push_back(c);
    }
    q.push_back('\'');
    return q;
  };
  std::string cmd = quoted(binary);
  for (const auto& a : args) cmd.append(" ").append(quoted(a));
  cmd.append(" > ").append(quoted((dir / (tag + ".out")).string()));
  cmd.append(" 2> ").append(quoted((dir / (tag + ".err")).string()));
  const int status = std::system(cmd.c_str());
  if (status != 0) MESSAGE(tag << " exited with " << status << "; stderr:\n" << read_text(dir / (tag + ".err")));
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Starts argv[0] with stdout and stderr appended to `log`; returns its pid.
inline pid_t spawn_process(const std::vector<std::string>& argv_strings, const std::filesystem::path& log) {
  std::vector<char*> argv;
  for (const auto& a : argv_strings) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE_MESSAGE(rc == 0, "posix_spawn " << argv_strings[0]);
  return pid;
}

// Waits for `pid`; its exit status, or minus the signal that ended it.
inline int wait_process(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace gemma4::test
