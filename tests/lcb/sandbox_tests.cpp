// Escape attempts against the sandbox. Each program is a model's "solution" gone wrong; each must
// be contained (killed or refused by the kernel), reported as the right failure, and leave the
// harness running and the host untouched. Limits are short so the suite stays fast.
#include "livecodebench/grade.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace gemma4::eval::livecodebench;

namespace {

ExecutionConfig short_limits() {
  ExecutionConfig c;
  c.timeout_seconds = 2;
  c.wall_seconds_override = 5;
  c.memory_bytes = 512ull << 20;
  c.max_processes = 16;
  c.captured_output_bytes = 1u << 20;
  c.raw_output_bytes = 1u << 20;
  c.tmpfs_bytes = 4u << 20;
  return c;
}

SampleResult run_stdin(const std::string& code, const std::string& expected = "ok\n",
                       const ExecutionConfig& config = short_limits()) {
  SampleResult r = grade(code, {TestCase{"", expected, TestType::stdin_stdout}}, std::nullopt, config);
  MESSAGE("sandbox mode: " << std::string(sandbox_mode_name(r.sandbox_mode)) << "  status: " << std::string(status_name(r.status))
                           << "  wall: " << r.wall_seconds << " s  " << r.detail);
  return r;
}

// Processes whose command line mentions `marker` (a sandbox that leaked a child would show here).
int processes_mentioning(const std::string& marker) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(marker) != std::string::npos) ++count;
  }
  return count;
}

}  // namespace

TEST_SUITE("lcb.sandbox") {

TEST_CASE("the sandbox mode is reported and a normal program passes") {
  SampleResult r = run_stdin("print('ok')");
  CHECK(r.passed);
  CHECK(r.status == Status::passed);
  const char* forced = std::getenv("GEMMA4_LCB_SANDBOX");
  MESSAGE("GEMMA4_LCB_SANDBOX=" << std::string(forced ? forced : "(unset: auto)"));
}

TEST_CASE("an infinite loop is a time limit, at the per-test alarm") {
  SampleResult r = run_stdin("while True:\n    pass\n");
  CHECK_FALSE(r.passed);
  CHECK(r.status == Status::time_limit);
  CHECK(r.results.back() == -3);
  CHECK(r.wall_seconds < 10);  // the -3 above already says the alarm, not the 5 s wall kill, ended it
}

TEST_CASE("a loop that ignores the alarm is killed at the wall limit") {
  // Swallowing the TimeoutException keeps the program alive; only the kill can end it.
  SampleResult r = run_stdin("while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass\n");
  CHECK_FALSE(r.passed);
  CHECK(r.status == Status::time_limit);
  CHECK(r.results == std::vector<nlohmann::json>{-2});  // officially: no result -> [-2], TestRunnerError
  CHECK(r.wall_seconds < 12);
}

// os.fork is disabled by the official guard; posix.fork and libc's fork() are the real ones. The
// first child becomes `sleep 61.2345`, a process that would outlive the run if the sandbox leaked.
const char* kForkBomb =
    "import posix\n"
    "if posix.fork() == 0:\n"
    "    posix.execv('/usr/bin/sleep', ['sleep', '61.2345'])\n"
    "while True:\n"
    "    posix.fork()\n";

TEST_CASE("a fork bomb is refused by the kernel (seccomp); threads still work") {
  SampleResult r = run_stdin(kForkBomb);
  CHECK_FALSE(r.passed);
  CHECK(r.status == Status::runtime_error);
  CHECK(r.metadata.value("error", "").find("PermissionError") != std::string::npos);
  CHECK(processes_mentioning("61.2345") == 0);
  CHECK(run_stdin("import ctypes\nprint('ok' if ctypes.CDLL(None).fork() == -1 else 'forked')\n").passed);
  CHECK(run_stdin("import threading\nout = []\nt = threading.Thread(target=lambda: out.append('ok'))\n"
                  "t.start()\nt.join()\nprint(out[0])\n").passed);
}

TEST_CASE("with processes allowed, a fork bomb hits RLIMIT_NPROC and leaves nothing behind") {
  ExecutionConfig config = short_limits();
  config.allow_processes = true;
  auto before = std::chrono::steady_clock::now();
  SampleResult r = run_stdin(kForkBomb, "ok\n", config);
  CHECK_FALSE(r.passed);
  CHECK((r.status == Status::runtime_error || r.status == Status::time_limit));
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(15));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(processes_mentioning("61.2345") == 0);
  CHECK(run_stdin("print('ok')").passed);  // the harness can still start programs
}

TEST_CASE("a memory bomb is a memory limit") {
  SampleResult r = run_stdin("x = []\nwhile True:\n    x.append(bytearray(50 * 1024 * 1024))\n");
  CHECK_FALSE(r.passed);
  CHECK(r.status == Status::memory_limit);
  CHECK(r.results.back() == -4);
}

TEST_CASE("huge captured output is an output limit") {
  SampleResult r = run_stdin("while True:\n    print('x' * 1000)\n");
  CHECK_FALSE(r.passed);
  CHECK(r.status == Status::output_limit);
}

TEST_CASE("huge output that bypasses the capture is an output limit") {
  SampleResult r = run_stdin("import posix\nwhile True:\n    posix.write(1, b'y' * 65536)\n");
  CHECK_FALSE(r.passed);
  CHECK(r.status == Status::output_limit);
}

TEST_CASE("no network: a connection to a listener on the host's loopback fails") {
  int server = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(server >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  REQUIRE(::bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(server, 4) == 0);
  socklen_t length = sizeof address;
  ::getsockname(server, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  std::string code =
      "import socket\n"
      "try:\n"
      "    socket.create_connection(('127.0.0.1', " + std::to_string(port) + "), timeout=1)\n"
      "    print('connected')\n"
      "except OSError as e:\n"
      "    print('blocked')\n"
      "try:\n"
      "    socket.create_connection(('1.1.1.1', 80), timeout=1)\n"
      "    print('connected')\n"
      "except OSError as e:\n"
      "    print('blocked')\n";
  SampleResult r = run_stdin(code, "blocked\nblocked\n");
  if (r.sandbox_mode == SandboxMode::rlimits) {
    MESSAGE("rlimits mode: network isolation only where unshare(CLONE_NEWNET) is permitted");
  } else {
    CHECK(r.passed);
  }
  // Nothing reached the listener.
  ::fcntl(server, F_SETFL, O_NONBLOCK);
  int accepted = ::accept(server, nullptr, nullptr);
  if (r.sandbox_mode != SandboxMode::rlimits) CHECK(accepted < 0);
  if (accepted >= 0) ::close(accepted);
  ::close(server);
}

TEST_CASE("no writes outside the sandbox's own /tmp") {
  auto host_file = std::filesystem::temp_directory_path() / "gemma4-lcb-escape-probe";
  std::filesystem::remove(host_file);
  std::string code =
      "import posix\n"
      "def attempt(path):\n"
      "    try:\n"
      "        with io.FileIO(path, 'w') as f:\n"   // builtins.open is mocked in stdin mode
      "            f.write(b'escaped')\n"
      "        return 'wrote'\n"
      "    except OSError:\n"
      "        return 'refused'\n"
      "print(attempt('" + host_file.string() + "'))\n"
      "print(attempt('/usr/gemma4-escape'))\n"
      "print(attempt('/sandbox/driver.py'))\n"
      "print(attempt('/gemma4-escape'))\n"        // bubblewrap's root tmpfs
      "print(attempt('/etc/gemma4-escape'))\n"
      "print(attempt('/dev/gemma4-escape'))\n"
      "print(attempt('/dev/shm/gemma4-escape'))\n"
      "print(attempt('/dev/null'))\n"             // a device, not a file: still writable
      "print(attempt('/tmp/scratch'))\n";
  SampleResult r = run_stdin(code, "wrote\nrefused\nrefused\nrefused\nrefused\nrefused\nrefused\nwrote\nwrote\n");
  if (r.sandbox_mode == SandboxMode::rlimits) {
    MESSAGE("rlimits mode has no filesystem isolation: host /tmp is writable");
  } else {
    CHECK(r.passed);
    CHECK(r.metadata.dump().find("escaped") == std::string::npos);
    CHECK_FALSE(std::filesystem::exists(host_file));  // the program's /tmp was its own
  }
  std::filesystem::remove(host_file);
}

TEST_CASE("filling the writable /tmp stops at its size") {
  // 4 MiB of /tmp in short_limits(); tmpfs pages are not charged to RLIMIT_AS, so the size cap
  // is what protects the host's memory.
  if (sandbox_mode() == SandboxMode::rlimits) {
    MESSAGE("rlimits mode: the working folder is on the host filesystem (RLIMIT_FSIZE per file only); not run");
    return;
  }
  SampleResult r = run_stdin(
      "n = 0\n"
      "try:\n"
      "    for i in range(1000):\n"
      "        with io.FileIO('/tmp/f%d' % i, 'w') as f:\n"
      "            f.write(b'z' * (1 << 20))\n"
      "        n += 1\n"
      "except OSError as e:\n"
      "    print('full' if n < 8 else 'not full')\n",
      "full\n");
  CHECK(r.passed);
}

TEST_CASE("the harness's files are not visible") {
  // The test executable and the repository are host files the program must not read.
  std::string self = std::filesystem::canonical("/proc/self/exe").string();
  std::string code =
      "def visible(path):\n"
      "    try:\n"
      "        with io.FileIO(path, 'r') as f:\n"
      "            f.read(1)\n"
      "        return 'read'\n"
      "    except OSError:\n"
      "        return 'hidden'\n"
      "print(visible('" + self + "'))\n"
      "print(visible('" LCB_TEST_DATA "/execution_cases.json'))\n"
      "print(visible('/etc/passwd'))\n"
      "print(visible('/root/.bashrc'))\n";
  SampleResult r = run_stdin(code, "hidden\nhidden\nhidden\nhidden\n");
  if (r.sandbox_mode == SandboxMode::rlimits) {
    MESSAGE("rlimits mode: the program reads what uid 65534 may read");
  } else {
    CHECK(r.passed);
  }
}

TEST_CASE("the environment is cleared") {
  ::setenv("GEMMA4_SECRET_API_KEY", "sk-should-not-leak", 1);
  SampleResult r = run_stdin("import os\nprint('leak' if 'GEMMA4_SECRET_API_KEY' in os.environ else 'ok')\n");
  CHECK(r.passed);
  ::unsetenv("GEMMA4_SECRET_API_KEY");
}

TEST_CASE("a segmentation fault is a runtime error without result") {
  SampleResult r = grade("import ctypes\nctypes.string_at(0)\n",
                         {TestCase{"", "x", TestType::stdin_stdout}, TestCase{"", "y", TestType::stdin_stdout}},
                         std::nullopt, short_limits());
  MESSAGE("status: " << std::string(status_name(r.status)) << "  " << r.detail);
  CHECK(r.status == Status::runtime_error);
  CHECK(r.results == std::vector<nlohmann::json>{-2});
  CHECK(r.metadata["error_code"] == -5);
}

}  // TEST_SUITE
