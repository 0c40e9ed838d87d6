// End to end with images: a real `gemma4 serve` child process on the tiny e2b checkpoint (with its
// vision tower) and the real `gemma4-eval run --benchmark mmmu_pro` on the self-written example
// items (datasets/mmmu_pro/examples), standard10 and vision settings, through to report.md.
// The tiny model's answers are noise; what is checked is that every image-bearing request is
// accepted and answered (no errors, images counted in the prompt) and the run is scored.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path kSource = GEMMA4_SOURCE_DIR;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `gemma4 serve --port 0` as a child; its port is read from the banner on stderr.
class ServeProcess {
 public:
  ServeProcess(const fs::path& model, const fs::path& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> args = {GEMMA4_CLI_BINARY, "serve", "--model", model.string(), "--port", "0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    const std::string marker = "http://127.0.0.1:";
    for (int i = 0; i < 1200 && port_ == 0; ++i) {  // up to 60 s to load
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      banner_ = read_text(log);
      if (const auto at = banner_.find(marker); at != std::string::npos) port_ = std::atoi(banner_.c_str() + at + marker.size());
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("gemma4 serve exited: " << banner_);
      }
    }
    REQUIRE_MESSAGE(port_ > 0, "gemma4 serve did not report its port");
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  const std::string& banner() const { return banner_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string banner_;
};

int run_eval(const std::vector<std::string>& args, const fs::path& dir, const std::string& tag) {
  std::string cmd = std::string("'") + GEMMA4_EVAL_BINARY + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " > '" + (dir / (tag + ".out")).string() + "' 2> '" + (dir / (tag + ".err")).string() + "'";
  const int status = std::system(cmd.c_str());
  if (status != 0) MESSAGE(tag << " stderr:\n" << read_text(dir / (tag + ".err")));
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/gemma4_mmmu_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("real serve: gemma4-eval run --benchmark mmmu_pro (standard10 and vision) against gemma4 serve (e2b-tiny)") {
  const fs::path model = kSource / "reference_outputs/models/e2b-tiny";
  const fs::path data = kSource / "datasets/mmmu_pro/examples";
  if (!fs::exists(model / "model.safetensors") || !fs::exists(data / "vision.jsonl")) {
    MESSAGE("SKIP: the tiny checkpoint or the mmmu_pro examples are absent");
    return;
  }
  TempDir tmp;
  ServeProcess server(model, tmp.path / "serve.log");
  CHECK(server.banner().find("images at 280 soft tokens") != std::string::npos);
  for (const std::string setting : {"standard10", "vision"}) {
    CAPTURE(setting);
    const fs::path out = tmp.path / setting;
    REQUIRE(run_eval({"run", "--benchmark", "mmmu_pro", "--data", data.string(), "--setting", setting, "--endpoint",
                      server.url(), "--model", "e2b-tiny", "--api-key-env", "", "--max-tokens", "8", "--temperature",
                      "0", "--thinking", "off", "--concurrency", "2", "--quiet", "--out", out.string()},
                     tmp.path, setting) == 0);
    const json results = json::parse(read_text(out / "results.json"));
    const int items = setting == "vision" ? 2 : 3;
    CHECK(results["metrics"]["items"] == items);
    CHECK(results["metrics"]["samples_scored"] == items);
    CHECK(results["metrics"]["status_counts"]["error"] == 0);
    CHECK(read_text(out / "report.md").find("mmmu_pro") != std::string::npos);
    std::istringstream lines(read_text(out / "samples.jsonl"));
    int seen = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      const json s = json::parse(line);
      INFO(s.dump().substr(0, 400));
      ++seen;
      CHECK(s["status"] != "error");
      CHECK(s["completion_tokens"].get<int>() >= 1);
      CHECK(s["completion_tokens"].get<int>() <= 8);
      // Every item has at least one image, upscaled to the 280-token budget: ≥ 200 soft tokens
      // plus <|image> and <image|> in the prompt.
      CHECK(s["prompt_tokens"].get<int>() > 200);
    }
    CHECK(seen == items);
  }
}
