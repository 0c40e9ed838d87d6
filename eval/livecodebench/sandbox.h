// A kernel-enforced sandbox for one untrusted program (a model-written LiveCodeBench solution).
//
// Every run gets a fresh temporary folder for its input files and is started as
//
//   bubblewrap  --unshare-{user,pid,net,ipc,uts,cgroup}   new namespaces: no network at all
//               --ro-bind /usr  (+ /bin, /lib symlinks)    the system, read-only; nothing else of
//                                                          the host (no /home, /work, /root; of
//                                                          /etc only ld.so.cache, localtime and
//                                                          the alternatives symlinks)
//               --ro-bind RUN_FOLDER /sandbox              the program and its tests, read-only
//               --tmpfs /tmp (size-limited) --chdir /tmp   the only writable place
//               --clearenv                                 no API keys or paths leak in
//   with rlimits on CPU time, address space, file size, open files, core dumps, stack, and the
//   number of processes (RLIMIT_NPROC, set inside the user namespace), a wall-clock kill of the
//   whole pid namespace, and caps on everything the program writes to its stdout and stderr.
//
// and a seccomp filter that lets the program start threads but no processes: fork(), vfork() and
// clone() without CLONE_THREAD fail with EPERM (clone3() with ENOSYS, so glibc falls back to
// clone() for threads). The official grader already disables os.fork and subprocess, so no
// correct solution starts a process; the kernel rule closes the ways around that guard (posix.fork,
// ctypes), which RLIMIT_NPROC x RLIMIT_AS alone would bound only loosely.
//
// Modes (chosen once per process by probing; GEMMA4_LCB_SANDBOX forces one):
//   bwrap-userns  bubblewrap with a user namespace. When the harness runs as root it first drops
//                 to uid/gid 65534 (nobody): RLIMIT_NPROC is not enforced for uid 0.
//   bwrap-root    running as root where user namespaces are unavailable: bubblewrap creates the
//                 other namespaces with root's privileges, every capability except SETUID/SETGID
//                 is dropped, and the driver drops to uid 65534 before any candidate code runs.
//   rlimits       no working bubblewrap: a new network namespace when the kernel allows it,
//                 rlimits, uid 65534 when root, a fresh folder as the working directory. WEAKER:
//                 the program can read whatever uid 65534 can read and write to world-writable
//                 places such as /tmp. Chosen automatically only as a last resort, with a
//                 warning on stderr; the tests print which mode ran.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gemma4::eval::livecodebench {

enum class SandboxMode { bwrap_userns, bwrap_root, rlimits };

inline const char* sandbox_mode_name(SandboxMode mode) {
  switch (mode) {
    case SandboxMode::bwrap_userns: return "bwrap-userns";
    case SandboxMode::bwrap_root: return "bwrap-root";
    case SandboxMode::rlimits: return "rlimits";
  }
  return "?";
}

struct SandboxLimits {
  double wall_seconds = 60;                      // the whole run, then SIGKILL of everything
  int cpu_seconds = 60;                          // RLIMIT_CPU soft (SIGXCPU); hard is one more
  std::uint64_t memory_bytes = 4ull << 30;       // RLIMIT_AS per process
  int max_processes = 64;                        // RLIMIT_NPROC (threads count too)
  std::uint64_t stdout_bytes = 64ull << 20;      // raw stdout+stderr before the run is killed
  std::uint64_t file_bytes = 64ull << 20;        // RLIMIT_FSIZE
  std::uint64_t tmpfs_bytes = 64ull << 20;       // size of the writable /tmp
  std::uint64_t stack_bytes = 8ull << 20;        // RLIMIT_STACK: the Linux default, for determinism
  int open_files = 256;                          // RLIMIT_NOFILE
  bool allow_processes = false;                  // false: seccomp denies fork/vfork/clone (threads ok)
};

struct SandboxFile {
  std::string name;     // plain file name inside /sandbox
  std::string content;
};

struct SandboxRequest {
  std::vector<SandboxFile> files;                // placed read-only in /sandbox
  std::vector<std::string> command;              // argv; "{sandbox}" in an argument is replaced
                                                 // by the folder holding the files
  SandboxLimits limits;
};

struct SandboxOutcome {
  SandboxMode mode = SandboxMode::bwrap_userns;
  int exit_code = -1;           // exit status of the program, when it exited
  int term_signal = 0;          // the signal that ended it, when one did (bwrap reports 128+N)
  bool wall_timeout = false;    // killed by us at limits.wall_seconds
  bool output_limit = false;    // killed by us for writing more than limits.stdout_bytes
  double wall_seconds = 0;
  std::string verdict;          // everything written to file descriptor 3
  std::string stdout_head;      // the first 64 KiB of stdout
  std::string stderr_head;      // the first 64 KiB of stderr
};

namespace sandbox_detail {

inline constexpr std::size_t kHeadBytes = 64 * 1024;
inline constexpr std::size_t kVerdictBytes = 16u << 20;
inline constexpr uid_t kNobody = 65534;

inline bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

inline std::optional<std::string> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (end > start && executable(candidate)) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

// Closes every descriptor above `keep` in a freshly forked child.
inline void close_descriptors_above(int keep) {
  long max_fd = ::sysconf(_SC_OPEN_MAX);
  if (max_fd < 0 || max_fd > 65536) max_fd = 65536;
  for (int fd = keep + 1; fd < max_fd; ++fd) ::close(fd);
}

inline void set_limit(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit limit{soft, hard};
  ::setrlimit(resource, &limit);
}

// The seccomp program described at the top of this file; empty on architectures it does not
// know (then only RLIMIT_NPROC limits processes).
inline std::vector<sock_filter> no_new_processes_filter() {
#if defined(__x86_64__) || defined(__aarch64__)
#if defined(__x86_64__)
  constexpr std::uint32_t arch = AUDIT_ARCH_X86_64;
#else
  constexpr std::uint32_t arch = AUDIT_ARCH_AARCH64;
#endif
  constexpr std::uint32_t deny = SECCOMP_RET_ERRNO | EPERM;
  constexpr std::uint32_t no_such_call = SECCOMP_RET_ERRNO | ENOSYS;
  std::vector<sock_filter> f = {
      // Another ABI (i386 int 0x80) would have other syscall numbers: refuse to run it.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
#if defined(__x86_64__)
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),  // x32 numbering: refuse
      BPF_STMT(BPF_RET | BPF_K, deny),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fork, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, deny),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_vfork, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, deny),
#endif
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, no_such_call),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      // clone(flags, ...): flags is args[0]; its low 32 bits hold CLONE_THREAD.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, deny),
  };
  return f;
#else
  return {};
#endif
}

// In the forked child: async-signal-safe work only, then exec.
// Everything is prepared before fork(): a multi-threaded parent must not allocate in the child.
// `seccomp_fd` (>= 0) becomes descriptor 4 for bubblewrap's --seccomp; `seccomp_program`
// (non-null) is installed here, right before exec, in the rlimits mode.
[[noreturn]] inline void child_exec(char* const* argv, char* const* envp, const SandboxLimits& limits,
                                    bool drop_to_nobody, bool unshare_network, int out_fd,
                                    int err_fd, int verdict_fd, const char* workdir, int seccomp_fd,
                                    const sock_fprog* seccomp_program) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the harness dying takes the sandbox with it
  // Move every source above the targets first: a source may itself sit on 0..4.
  int sources[5] = {::open("/dev/null", O_RDONLY), out_fd, err_fd, verdict_fd, seccomp_fd};
  int keep = seccomp_fd >= 0 ? 4 : 3;
  for (int i = 0; i <= keep; ++i) sources[i] = ::fcntl(sources[i], F_DUPFD_CLOEXEC, 16);
  for (int i = 0; i <= keep; ++i) {
    ::dup2(sources[i], i);
    ::fcntl(i, F_SETFD, 0);
  }
  close_descriptors_above(keep);
  if (unshare_network) ::unshare(CLONE_NEWNET);  // best effort in the rlimits mode
  const auto cpu = static_cast<rlim_t>(limits.cpu_seconds);
  set_limit(RLIMIT_CPU, cpu, cpu + 1);
  set_limit(RLIMIT_AS, limits.memory_bytes, limits.memory_bytes);
  set_limit(RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes);
  set_limit(RLIMIT_NOFILE, static_cast<rlim_t>(limits.open_files), static_cast<rlim_t>(limits.open_files));
  set_limit(RLIMIT_CORE, 0, 0);
  set_limit(RLIMIT_STACK, limits.stack_bytes, limits.stack_bytes);
  if (drop_to_nobody) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      static const char message[] = "sandbox: cannot drop privileges to uid 65534\n";
      (void)!::write(2, message, sizeof message - 1);
      ::_exit(126);
    }
  }
  if (workdir && ::chdir(workdir) != 0) ::_exit(126);
  if (seccomp_program && (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
                          ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, seccomp_program) != 0)) {
    static const char message[] = "sandbox: cannot install the seccomp filter\n";
    (void)!::write(2, message, sizeof message - 1);
    ::_exit(126);
  }
  ::execve(argv[0], argv, envp);
  static const char message[] = "sandbox: exec failed\n";
  (void)!::write(2, message, sizeof message - 1);
  ::_exit(127);
}

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("sandbox: pipe2 failed");
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() { close_read(); close_write(); }
  void close_read() { if (read >= 0) ::close(read); read = -1; }
  void close_write() { if (write >= 0) ::close(write); write = -1; }
};

// A fresh folder under $TMPDIR (default /tmp), removed on destruction.
class TempFolder {
 public:
  TempFolder() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/gemma4-lcb-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!::mkdtemp(buffer.data())) throw std::runtime_error("sandbox: mkdtemp failed under " + pattern);
    path_ = buffer.data();
    ::chmod(path_.c_str(), 0755);  // readable by uid 65534
  }
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("sandbox: cannot write " + path);
  out.close();
  ::chmod(path.c_str(), 0644);
}

inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

}  // namespace sandbox_detail

// The interpreter candidate programs run under: /usr/bin/python3 when present (Debian's system
// python3), else python3 on PATH. Throws when there is none.
inline std::string system_python() {
  if (sandbox_detail::executable("/usr/bin/python3")) return "/usr/bin/python3";
  if (auto found = sandbox_detail::find_on_path("python3")) {
    std::error_code ec;
    auto real = std::filesystem::canonical(*found, ec);
    return ec ? *found : real.string();
  }
  throw std::runtime_error("livecodebench: no python3 found (/usr/bin/python3 or on PATH); "
                           "install it with tools/install_deps.sh");
}

inline std::optional<std::string> bubblewrap_path() {
  if (sandbox_detail::executable("/usr/bin/bwrap")) return std::string("/usr/bin/bwrap");
  return sandbox_detail::find_on_path("bwrap");
}

namespace sandbox_detail {

// Host paths bound read-only into the bubblewrap sandbox: /usr (Debian's merged /bin and /lib
// are symlinks into it), the dynamic loader cache, and -- when the interpreter lives elsewhere
// (a python3 found on PATH outside /usr) -- the interpreter's installation prefix.
inline std::vector<std::string> bubblewrap_argv(SandboxMode mode, const std::string& bwrap,
                                                const std::string& run_folder,
                                                const SandboxLimits& limits,
                                                const std::vector<std::string>& command, bool with_seccomp) {
  std::vector<std::string> argv = {bwrap};
  auto add = [&](std::initializer_list<std::string> items) { argv.insert(argv.end(), items); };
  if (mode == SandboxMode::bwrap_userns) add({"--unshare-user", "--disable-userns"});
  add({"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
       "--die-with-parent", "--new-session", "--hostname", "sandbox"});
  if (mode == SandboxMode::bwrap_root)
    add({"--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"});
  if (with_seccomp) add({"--seccomp", "4"});
  add({"--ro-bind", "/usr", "/usr"});
  for (const char* link : {"bin", "lib", "lib32", "lib64", "libx32", "sbin"}) {
    std::error_code ec;
    std::string host = std::string("/") + link;
    if (std::filesystem::is_symlink(host, ec)) {
      add({"--symlink", std::filesystem::read_symlink(host, ec).string(), host});
    } else if (std::filesystem::is_directory(host, ec)) {
      add({"--ro-bind", host, host});
    }
  }
  // Debian resolves some libraries (libblas for numpy) through /etc/alternatives symlinks.
  add({"--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
       "--ro-bind-try", "/etc/localtime", "/etc/localtime",
       "--ro-bind-try", "/etc/alternatives", "/etc/alternatives"});
  const std::string& interpreter = command.front();
  if (interpreter.rfind("/usr/", 0) != 0) {
    auto prefix = std::filesystem::path(interpreter).parent_path().parent_path().string();
    add({"--ro-bind", prefix, prefix});
  }
  add({"--proc", "/proc", "--dev", "/dev",
       // World-writable and sticky: in bwrap-root mode the driver drops to uid 65534 later.
       "--perms", "1777", "--size", std::to_string(limits.tmpfs_bytes), "--tmpfs", "/tmp",
       "--ro-bind", run_folder, "/sandbox",
       // bubblewrap's own root and /dev are tmpfs writable by the sandbox user, and tmpfs pages
       // escape RLIMIT_AS: make both read-only so the size-limited /tmp is the only writable place.
       "--remount-ro", "/dev", "--remount-ro", "/",
       "--chdir", "/tmp", "--clearenv",
       "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp",
       "--setenv", "LANG", "C.UTF-8", "--setenv", "OMP_NUM_THREADS", "1",
       "--setenv", "OPENBLAS_NUM_THREADS", "1", "--"});
  for (const auto& arg : command) argv.push_back(replace_all(arg, "{sandbox}", "/sandbox"));
  return argv;
}

struct Launch {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  bool drop_to_nobody = false;
  bool unshare_network = false;
  std::string workdir;  // rlimits mode only
};

inline Launch plan_launch(SandboxMode mode, const std::string& run_folder, const std::string& work_folder,
                          const SandboxLimits& limits, const std::vector<std::string>& command,
                          bool with_seccomp) {
  Launch launch;
  bool root = ::geteuid() == 0;
  if (mode == SandboxMode::rlimits) {
    for (const auto& arg : command) launch.argv.push_back(replace_all(arg, "{sandbox}", run_folder));
    launch.env = {"PATH=/usr/bin:/bin", "HOME=" + work_folder, "TMPDIR=" + work_folder,
                  "LANG=C.UTF-8", "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1"};
    launch.drop_to_nobody = root;
    launch.unshare_network = true;
    launch.workdir = work_folder;
    return launch;
  }
  auto bwrap = bubblewrap_path();
  if (!bwrap) throw std::runtime_error("sandbox: bubblewrap (bwrap) not found");
  launch.argv = bubblewrap_argv(mode, *bwrap, run_folder, limits, command, with_seccomp);
  launch.env = {"PATH=/usr/bin:/bin"};
  launch.drop_to_nobody = root && mode == SandboxMode::bwrap_userns;
  return launch;
}

inline SandboxOutcome run_with_mode(SandboxMode mode, const SandboxRequest& request);

// Tries a mode on a trivial program: it works when `python3 -c` prints through the sandbox.
inline bool mode_works(SandboxMode mode, const std::string& python) {
  SandboxRequest probe;
  probe.command = {python, "-I", "-S", "-c", "import os; os.write(3, b'ok')"};
  probe.limits.wall_seconds = 20;
  try {
    SandboxOutcome outcome = run_with_mode(mode, probe);
    return outcome.exit_code == 0 && outcome.verdict == "ok";
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace sandbox_detail

// The sandbox mode of this process: GEMMA4_LCB_SANDBOX (bwrap-userns | bwrap-root | rlimits)
// when set, else the strongest mode that works here. Probed once.
inline SandboxMode sandbox_mode() {
  static std::once_flag once;
  static SandboxMode mode = SandboxMode::rlimits;
  std::call_once(once, [] {
    using sandbox_detail::mode_works;
    const char* forced = std::getenv("GEMMA4_LCB_SANDBOX");
    if (forced && *forced) {
      std::string name = forced;
      if (name == "bwrap-userns") mode = SandboxMode::bwrap_userns;
      else if (name == "bwrap-root") mode = SandboxMode::bwrap_root;
      else if (name == "rlimits") mode = SandboxMode::rlimits;
      else throw std::runtime_error("GEMMA4_LCB_SANDBOX must be bwrap-userns, bwrap-root or rlimits, not '" + name + "'");
      return;
    }
    std::string python = system_python();
    if (bubblewrap_path()) {
      if (mode_works(SandboxMode::bwrap_userns, python)) { mode = SandboxMode::bwrap_userns; return; }
      if (::geteuid() == 0 && mode_works(SandboxMode::bwrap_root, python)) { mode = SandboxMode::bwrap_root; return; }
    }
    std::fprintf(stderr,
                 "livecodebench: WARNING: no working bubblewrap sandbox here; candidate programs run "
                 "in the weaker 'rlimits' mode (rlimits, seccomp, uid 65534, new network namespace when "
                 "possible, but no filesystem isolation). Install bubblewrap (tools/install_deps.sh).\n");
    mode = SandboxMode::rlimits;
  });
  return mode;
}

namespace sandbox_detail {

inline SandboxOutcome run_with_mode(SandboxMode mode, const SandboxRequest& request) {
  using Clock = std::chrono::steady_clock;
  SandboxOutcome outcome;
  outcome.mode = mode;
  TempFolder folder;
  for (const auto& file : request.files) write_file(folder.path() + "/" + file.name, file.content);
  std::string work = folder.path() + "/work";
  if (mode == SandboxMode::rlimits) {
    ::mkdir(work.c_str(), 0700);
    if (::geteuid() == 0 && ::chown(work.c_str(), kNobody, kNobody) != 0)
      throw std::runtime_error("sandbox: cannot chown " + work);
  }
  std::vector<sock_filter> filter;
  if (!request.limits.allow_processes) filter = no_new_processes_filter();
  sock_fprog program{static_cast<unsigned short>(filter.size()), filter.data()};
  // bubblewrap reads the program from a descriptor; the rlimits mode installs it itself.
  int seccomp_fd = -1;
  if (!filter.empty() && mode != SandboxMode::rlimits) {
    seccomp_fd = ::memfd_create("gemma4-lcb-seccomp", MFD_CLOEXEC);
    auto bytes = static_cast<ssize_t>(filter.size() * sizeof(sock_filter));
    if (seccomp_fd < 0 || ::write(seccomp_fd, filter.data(), static_cast<std::size_t>(bytes)) != bytes ||
        ::lseek(seccomp_fd, 0, SEEK_SET) != 0)
      throw std::runtime_error("sandbox: cannot prepare the seccomp filter");
  }
  struct CloseFd {
    int fd;
    ~CloseFd() { if (fd >= 0) ::close(fd); }
  } close_seccomp{seccomp_fd};
  Launch launch = plan_launch(mode, folder.path(), work, request.limits, request.command, seccomp_fd >= 0);

  std::vector<char*> argv, envp;
  for (auto& arg : launch.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (auto& var : launch.env) envp.push_back(var.data());
  envp.push_back(nullptr);

  Pipe out, err, verdict;
  auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("sandbox: fork failed: ") + std::strerror(errno));
  if (pid == 0)
    child_exec(argv.data(), envp.data(), request.limits, launch.drop_to_nobody,
               launch.unshare_network, out.write, err.write, verdict.write,
               launch.workdir.empty() ? nullptr : launch.workdir.c_str(), seccomp_fd,
               mode == SandboxMode::rlimits && !filter.empty() ? &program : nullptr);
  out.close_write();
  err.close_write();
  verdict.close_write();

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  auto deadline = start + std::chrono::duration<double>(request.limits.wall_seconds);
  std::uint64_t raw_output = 0;
  bool exited = false, killed = false;
  int status = 0;
  std::optional<Clock::time_point> drain_until;  // after exit: let the pipes empty, briefly
  auto kill_all = [&] {
    if (!killed) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      killed = true;
    }
  };
  char buffer[65536];
  while (true) {
    // WNOWAIT: notice the exit but leave the zombie, so its pid (and process group id) cannot be
    // reused before the stragglers of the group are killed below.
    siginfo_t info{};
    if (!exited && ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      exited = true;
      drain_until = Clock::now() + std::chrono::milliseconds(500);
    }
    bool open_pipes = out.read >= 0 || err.read >= 0 || verdict.read >= 0;
    if (exited && (!open_pipes || Clock::now() >= *drain_until)) break;
    auto now = Clock::now();
    if (!exited && now >= deadline) {
      outcome.wall_timeout = true;
      kill_all();
    }
    std::vector<pollfd> fds;
    for (int fd : {out.read, err.read, verdict.read})
      if (fd >= 0) fds.push_back({fd, POLLIN, 0});
    if (pidfd >= 0 && !exited) fds.push_back({pidfd, POLLIN, 0});
    auto until = exited ? *drain_until : (killed ? now + std::chrono::milliseconds(50) : deadline);
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1;
    if (pidfd < 0 && !exited) wait_ms = std::min<long long>(wait_ms, 10);
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(0, std::min<long long>(wait_ms, 1000))));
    if (ready < 0 && errno != EINTR) break;
    for (const auto& p : fds) {
      if (p.fd == pidfd || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(p.fd, buffer, sizeof buffer);
      Pipe& pipe = p.fd == out.read ? out : p.fd == err.read ? err : verdict;
      if (n <= 0) {
        if (n == 0 || errno != EINTR) pipe.close_read();
        continue;
      }
      auto chunk = std::string_view(buffer, static_cast<std::size_t>(n));
      if (&pipe == &verdict) {
        if (outcome.verdict.size() + chunk.size() > kVerdictBytes) { kill_all(); pipe.close_read(); continue; }
        outcome.verdict.append(chunk);
        continue;
      }
      std::string& head = &pipe == &out ? outcome.stdout_head : outcome.stderr_head;
      if (head.size() < kHeadBytes) head.append(chunk.substr(0, kHeadBytes - head.size()));
      raw_output += static_cast<std::uint64_t>(n);
      if (raw_output > request.limits.stdout_bytes && !exited) {
        outcome.output_limit = true;
        kill_all();
      }
    }
  }
  if (!exited) kill_all();
  ::kill(-pid, SIGKILL);  // stragglers of the process group (the rlimits mode has no pid namespace)
  ::waitpid(pid, &status, 0);
  if (pidfd >= 0) ::close(pidfd);
  outcome.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
    // bubblewrap exits with 128+N when the program died from signal N.
    if (mode != SandboxMode::rlimits && outcome.exit_code > 128 && outcome.exit_code < 128 + 65)
      outcome.term_signal = outcome.exit_code - 128;
  } else if (WIFSIGNALED(status)) {
    outcome.term_signal = WTERMSIG(status);
  }
  return outcome;
}

}  // namespace sandbox_detail

// Runs request.command in the sandbox of this process (see sandbox_mode()).
inline SandboxOutcome run_sandboxed(const SandboxRequest& request) {
  if (request.command.empty()) throw std::invalid_argument("sandbox: empty command");
  return sandbox_detail::run_with_mode(sandbox_mode(), request);
}

}  // namespace gemma4::eval::livecodebench
