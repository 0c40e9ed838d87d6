// The one interface every model backend of the evaluation harness implements: the in-process
// engine, an OpenAI-compatible HTTP endpoint, or a scripted fake in tests. Benchmarks (including
// the agent and the user simulator of tau2-bench) talk to models only through it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gemma4::eval {

// One message in the OpenAI chat shape.
struct ChatMessage {
  std::string role;             // "system", "user", "assistant", "tool"
  std::string content;          // the visible answer (thinking removed)
  std::string reasoning;        // the thought channel, when the backend returns it separately
  nlohmann::json tool_calls = nlohmann::json::array();  // [{"id","type":"function","function":{"name","arguments"}}]
  std::string tool_call_id;     // for role "tool"
  std::string name;             // tool name, for role "tool"
  nlohmann::json content_parts; // optional OpenAI content array (text + image_url parts); null if unused
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  nlohmann::json tools = nlohmann::json::array();  // OpenAI "tools" array; empty for none
  double temperature = 0.0;
  double top_p = 1.0;
  std::optional<int> top_k;     // unset: the backend's default (Gemma 4 card: 64)
  int max_tokens = 4096;
  std::optional<std::uint64_t> seed;
  bool enable_thinking = false;
};

struct ChatResponse {
  ChatMessage message;          // role "assistant"
  std::string finish_reason;    // "stop", "length", "tool_calls", ...
  int prompt_tokens = 0;
  int completion_tokens = 0;
  std::string raw;              // the raw text the model produced, when known (for re-scoring)
};

class ChatBackend {
 public:
  virtual ~ChatBackend() = default;
  // Throws std::runtime_error on transport failures that survived the backend's own retries.
  virtual ChatResponse chat(const ChatRequest& request) = 0;
  // A stable description recorded in run files (e.g. "openai:http://127.0.0.1:8080/v1 model=x").
  virtual std::string describe() const = 0;
};

}  // namespace gemma4::eval
