// End-to-end tests against a real `gemma4 serve`: the server as a child process, a copy of a
// checkpoint with a longer context, and a recording proxy that sits between the client under test
// and the server, so a test can check that what the client saved is exactly what the server said.
// Include after <doctest/doctest.h>.
#pragma once

#include "common/fake_openai_server.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace gemma4::test {

// `gemma4 serve --model DIR --port 0` as a child process (stdout to /dev/null, stderr to `log`); the
// port is read from the line the server prints once the model is loaded. SIGTERM on destruction.
class Gemma4ServeProcess {
 public:
  Gemma4ServeProcess(const std::string& cli_binary, const std::filesystem::path& model, const std::filesystem::path& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> args = {cli_binary, "serve", "--model", model.string(), "--port", "0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE_MESSAGE(rc == 0, "posix_spawn " << cli_binary);
    const std::string marker = "http://127.0.0.1:";
    for (int i = 0; i < 1200 && port_ == 0; ++i) {  // up to 60 s for the model to load
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream in(log);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string text = ss.str();
      if (const auto at = text.find(marker); at != std::string::npos) port_ = std::atoi(text.c_str() + at + marker.size());
      int status = 0;
      if (port_ == 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("gemma4 serve exited: " << text);
      }
    }
    REQUIRE_MESSAGE(port_ > 0, "gemma4 serve did not report its port");
  }
  ~Gemma4ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  Gemma4ServeProcess(const Gemma4ServeProcess&) = delete;
  Gemma4ServeProcess& operator=(const Gemma4ServeProcess&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// A checkpoint folder in `dst` that is `src` except for config.json, whose
// text_config.max_position_embeddings is `context`; every other file is a symlink to the original.
// The weights are unchanged and nothing in include/gemma4 computes with that field (RoPE tables
// depend on positions and rope_theta only); `gemma4 serve` reads it as the context limit it
// enforces. Lets a tiny checkpoint take the real τ²-bench prompts (over 4096 tokens).
inline std::filesystem::path checkpoint_with_context(const std::filesystem::path& src, const std::filesystem::path& dst,
                                                     int context) {
  namespace fs = std::filesystem;
  fs::create_directories(dst);
  for (const auto& entry : fs::directory_iterator(src))
    if (entry.path().filename() != "config.json") fs::create_symlink(fs::absolute(entry.path()), dst / entry.path().filename());
  std::ifstream in(src / "config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  REQUIRE_MESSAGE(config.contains("text_config"), (src / "config.json").string() << ": no text_config");
  config["text_config"]["max_position_embeddings"] = context;
  std::ofstream(dst / "config.json") << config.dump(2) << "\n";
  return dst;
}

// An OpenAI-compatible endpoint that relays every chat-completions request to `upstream_port` on
// 127.0.0.1 (after `delay`, to slow a run down) and records each request with the upstream's status
// and parsed reply.
class RecordingProxy {
 public:
  using Json = nlohmann::json;
  struct Exchange {
    Json request;
    int status = 0;
    Json response;  // null when the upstream body is not JSON
  };

  explicit RecordingProxy(int upstream_port, std::chrono::milliseconds delay = std::chrono::milliseconds(0))
      : upstream_port_(upstream_port),
        delay_(delay),
        server_([this](const Json& body, int, httplib::Response& res) {
          const auto [status, text] = relay(body);
          res.status = status;
          res.set_content(text, "application/json");
        }) {}

  std::string url() const { return server_.url(); }
  std::vector<Exchange> exchanges() {
    std::lock_guard lock(mutex_);
    return exchanges_;
  }
  // The exchanges, from the `first`-th on, whose request carried `seed` (the harness derives one per
  // item and sample, so this finds what the server answered for a sample).
  std::vector<Exchange> with_seed(std::uint64_t seed, std::size_t first = 0) {
    const auto all = exchanges();
    std::vector<Exchange> out;
    for (std::size_t i = first; i < all.size(); ++i)
      if (all[i].request.contains("seed") && all[i].request["seed"] == seed) out.push_back(all[i]);
    return out;
  }

  // Sends `body` upstream and records the exchange, as a request to url() would; returns the
  // upstream's status and body (502 when it cannot be reached). For scripts of other test servers
  // that hand some requests to the model.
  std::pair<int, std::string> relay(const Json& body) {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    httplib::Client client("127.0.0.1", upstream_port_);  // one per request: httplib clients are not shared across threads
    client.set_read_timeout(600, 0);
    const auto r = client.Post("/v1/chat/completions", body.dump(), "application/json");
    Exchange e;
    e.request = body;
    std::pair<int, std::string> reply{502, "{\"error\": {\"message\": \"proxy: upstream unreachable\"}}"};
    if (r) {
      reply = {r->status, r->body};
      e.response = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
      if (e.response.is_discarded()) e.response = nullptr;
    }
    e.status = reply.first;
    std::lock_guard lock(mutex_);
    exchanges_.push_back(std::move(e));
    return reply;
  }

 private:
  int upstream_port_;
  std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::vector<Exchange> exchanges_;
  FakeOpenAIServer server_;  // last: its handler thread uses the members above
};

}  // namespace gemma4::test
