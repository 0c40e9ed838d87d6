// A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (a free port), for tests that
// drive the evaluation harness without a model. Shared by tests/eval and tests/wiring.
//
//   FakeOpenAIServer server([](const json& body, int attempt, httplib::Response& res) {
//     res.set_content(gemma4::test::completion("The answer is (B)."), "application/json");
//   });
//   FakeOpenAIServer server(gemma4::test::replying([](const json& body) -> json { return {{"content", "hi"}}; }));
//   ... --endpoint server.url() ...   server.bodies(), server.requests(), server.authorization()
//
// `attempt` counts earlier requests with the same body, so a script can fail first attempts and
// watch the client retry.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gemma4::test {

class FakeOpenAIServer {
 public:
  using Json = nlohmann::json;
  // script(body, attempt_for_this_body, response) fills the response (status, body).
  using Script = std::function<void(const Json& body, int attempt, httplib::Response& res)>;

  explicit FakeOpenAIServer(Script script) : script_(std::move(script)) {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      const Json body = Json::parse(req.body);
      int attempt = 0;
      {
        std::lock_guard lock(mutex_);
        attempt = attempts_[body.dump()]++;
        ++requests_;
        bodies_.push_back(body);
        authorization_ = req.get_header_value("Authorization");
      }
      script_(body, attempt, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FakeOpenAIServer() {
    server_.stop();
    thread_.join();
  }
  FakeOpenAIServer(const FakeOpenAIServer&) = delete;
  FakeOpenAIServer& operator=(const FakeOpenAIServer&) = delete;

  // The base URL clients are given (`/chat/completions` is appended by them).
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  int requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<Json> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  // The Authorization header of the latest request.
  std::string authorization() {
    std::lock_guard lock(mutex_);
    return authorization_;
  }

 private:
  Script script_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::map<std::string, int> attempts_;
  int requests_ = 0;
  std::vector<Json> bodies_;
  std::string authorization_;
};

// A chat.completion body around an assistant message ({"content": ...} and/or {"tool_calls": [...]});
// the finish reason defaults to "tool_calls" when the message has tool calls, else "stop".
inline std::string chat_completion(nlohmann::json message, std::string finish_reason = "") {
  message["role"] = "assistant";
  if (finish_reason.empty()) finish_reason = message.contains("tool_calls") ? "tool_calls" : "stop";
  return nlohmann::json{{"id", "x"},
                        {"object", "chat.completion"},
                        {"choices", {{{"index", 0}, {"message", message}, {"finish_reason", finish_reason}}}},
                        {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 20}}}}
      .dump();
}

// The same for a plain text answer.
inline std::string completion(const std::string& content, const std::string& finish_reason = "stop") {
  return chat_completion({{"content", content}}, finish_reason);
}

// A script that answers every request with the assistant message `message_of(body)` returns.
inline FakeOpenAIServer::Script replying(std::function<nlohmann::json(const nlohmann::json& body)> message_of) {
  return [message_of = std::move(message_of)](const nlohmann::json& body, int, httplib::Response& res) {
    res.set_content(chat_completion(message_of(body)), "application/json");
  };
}

}  // namespace gemma4::test
