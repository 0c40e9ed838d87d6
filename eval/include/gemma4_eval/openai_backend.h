// ChatBackend over any OpenAI-compatible /chat/completions endpoint (vLLM, llama.cpp server,
// sglang, `gemma4 serve`, hosted APIs), with retries and timeouts. HTTPS works when cpp-httplib
// is built with OpenSSL (Debian's is; link it through pkg-config `cpp-httplib`).
//
// Thread safety: chat() opens its own connection, so one backend serves many worker threads.
#pragma once

#include "gemma4_eval/chat_backend.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

namespace gemma4::eval {

struct OpenAIBackendOptions {
  std::string base_url = "http://127.0.0.1:8080/v1";  // ".../v1"; "/chat/completions" is appended
  std::string model = "gemma-4";
  std::string api_key_env = "OPENAI_API_KEY";        // read at construction; empty value: no header
  double timeout_s = 1800;        // per request, reading the whole (non-streamed) answer
  double connect_timeout_s = 10;
  int max_retries = 6;            // after the first attempt
  double backoff_initial_s = 1.0; // doubled each retry, with ±25% jitter, capped
  double backoff_max_s = 60.0;
  // How thinking is switched on: vLLM/sglang/llama.cpp read chat_template_kwargs.enable_thinking.
  bool send_chat_template_kwargs = true;
};

class OpenAIBackend : public ChatBackend {
 public:
  explicit OpenAIBackend(OpenAIBackendOptions opt) : opt_(std::move(opt)) {
    const std::string& url = opt_.base_url;
    const std::size_t scheme_end = url.find("://");
    const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    if (scheme != "http" && scheme != "https")
#else
    if (scheme != "http")
#endif
      throw std::invalid_argument("endpoint must start with http:// or https:// (got '" + url + "')");
    const std::size_t path_start = url.find('/', scheme_end + 3);
    host_port_ = url.substr(0, path_start);
    path_ = (path_start == std::string::npos ? std::string() : url.substr(path_start));
    while (!path_.empty() && path_.back() == '/') path_.pop_back();
    path_ += "/chat/completions";
    if (!opt_.api_key_env.empty())
      if (const char* key = std::getenv(opt_.api_key_env.c_str()); key && *key) api_key_ = key;
  }

  std::string describe() const override { return "openai:" + opt_.base_url + " model=" + opt_.model; }

  // The request body, exposed for tests.
  nlohmann::json request_body(const ChatRequest& r) const {
    nlohmann::json messages = nlohmann::json::array();
    for (const auto& m : r.messages) {
      nlohmann::json j = {{"role", m.role}};
      if (!m.content_parts.is_null()) j["content"] = m.content_parts;
      else j["content"] = m.content;
      if (!m.tool_calls.empty()) j["tool_calls"] = m.tool_calls;
      if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
      if (!m.name.empty()) j["name"] = m.name;
      messages.push_back(std::move(j));
    }
    nlohmann::json body = {{"model", opt_.model},
                           {"messages", std::move(messages)},
                           {"temperature", r.temperature},
                           {"top_p", r.top_p},
                           {"max_tokens", r.max_tokens},
                           {"stream", false}};
    if (r.top_k) body["top_k"] = *r.top_k;
    if (r.seed) body["seed"] = *r.seed;
    if (!r.tools.empty()) body["tools"] = r.tools;
    if (opt_.send_chat_template_kwargs) body["chat_template_kwargs"] = {{"enable_thinking", r.enable_thinking}};
    return body;
  }

  static ChatResponse parse_response(const std::string& body) {
    const nlohmann::json j = nlohmann::json::parse(body);
    const auto& choice = j.at("choices").at(0);
    const auto& msg = choice.at("message");
    ChatResponse out;
    out.message.role = "assistant";
    if (msg.contains("content") && msg["content"].is_string()) out.message.content = msg["content"];
    for (const char* field : {"reasoning_content", "reasoning"})
      if (msg.contains(field) && msg[field].is_string()) {
        out.message.reasoning = msg[field];
        break;
      }
    if (msg.contains("tool_calls") && msg["tool_calls"].is_array()) out.message.tool_calls = msg["tool_calls"];
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) out.finish_reason = choice["finish_reason"];
    if (j.contains("usage") && j["usage"].is_object()) {
      out.prompt_tokens = j["usage"].value("prompt_tokens", 0);
      out.completion_tokens = j["usage"].value("completion_tokens", 0);
    }
    return out;
  }

  ChatResponse chat(const ChatRequest& request) override {
    const std::string body = request_body(request).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string last_error;
    std::mt19937_64 jitter(std::hash<std::string>{}(body));
    double delay = opt_.backoff_initial_s;
    for (int attempt = 0; attempt <= opt_.max_retries; ++attempt) {
      if (attempt > 0) {
        std::uniform_real_distribution<double> j(0.75, 1.25);
        std::this_thread::sleep_for(std::chrono::duration<double>(std::min(delay, opt_.backoff_max_s) * j(jitter)));
        delay *= 2;
      }
      httplib::Client client(host_port_);
      client.set_connection_timeout(std::chrono::microseconds(static_cast<long long>(opt_.connect_timeout_s * 1e6)));
      client.set_read_timeout(std::chrono::microseconds(static_cast<long long>(opt_.timeout_s * 1e6)));
      client.set_write_timeout(std::chrono::microseconds(static_cast<long long>(opt_.timeout_s * 1e6)));
      httplib::Headers headers;
      if (!api_key_.empty()) headers.emplace("Authorization", "Bearer " + api_key_);
      auto res = client.Post(path_.c_str(), headers, body, "application/json");
      if (!res) {
        last_error = "transport error: " + httplib::to_string(res.error());
        ++retries_;
        continue;
      }
      if (res->status == 200) {
        try {
          return parse_response(res->body);
        } catch (const std::exception& e) {  // a garbled body is worth another try
          last_error = std::string("malformed response body: ") + e.what();
          ++retries_;
          continue;
        }
      }
      last_error = "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300);
      const bool retryable = res->status == 408 || res->status == 409 || res->status == 429 || res->status >= 500;
      if (!retryable) break;
      ++retries_;
    }
    throw std::runtime_error(describe() + ": " + last_error);
  }

  int retries() const { return retries_.load(); }

 private:
  OpenAIBackendOptions opt_;
  std::string host_port_, path_, api_key_;
  std::atomic<int> retries_{0};
};

}  // namespace gemma4::eval
