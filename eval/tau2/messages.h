// Trajectory messages in tau2-bench's JSON shape (SimulationRun.messages), so that our saved
// trajectories and the official ones can be read by either evaluator.
//
//   assistant / user: {"role", "content" (null for a pure tool call), "tool_calls": null or
//                      [{"id", "name", "arguments": {...}, "requestor"}], "turn_idx", "timestamp"}
//   tool:             {"id", "role": "tool", "content", "requestor", "error", "turn_idx", "timestamp"}
#pragma once

#include "tau2/json.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gemma4::eval::tau2 {

struct ToolCall {
  std::string id;
  std::string name;
  Json arguments = Json::object();
  std::string requestor = "assistant";  // "assistant" or "user"
};

struct Message {
  std::string role;                      // "system", "assistant", "user", "tool"
  std::optional<std::string> content;    // None in Python when absent
  std::optional<std::vector<ToolCall>> tool_calls;  // None unless the message calls tools
  // tool messages
  std::string id;
  std::string requestor = "assistant";
  bool error = false;
  // bookkeeping
  std::optional<int> turn_idx;
  std::string timestamp;

  bool is_tool_call() const { return tool_calls.has_value(); }
  // has_text_content(): content not None and not only whitespace.
  bool has_text_content() const {
    if (!content) return false;
    return content->find_first_not_of(" \t\n\r\f\v") != std::string::npos;
  }
};

inline Json to_json(const ToolCall& c) {
  return Json{{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}, {"requestor", c.requestor}};
}

inline Json to_json(const Message& m) {
  Json j = Json::object();
  if (m.role == "tool") {
    j["id"] = m.id;
    j["role"] = "tool";
    j["content"] = m.content ? Json(*m.content) : Json(nullptr);
    j["requestor"] = m.requestor;
    j["error"] = m.error;
  } else {
    j["role"] = m.role;
    j["content"] = m.content ? Json(*m.content) : Json(nullptr);
    if (m.role != "system") {
      if (m.tool_calls) {
        Json calls = Json::array();
        for (const auto& c : *m.tool_calls) calls.push_back(to_json(c));
        j["tool_calls"] = calls;
      } else {
        j["tool_calls"] = nullptr;
      }
    }
  }
  j["turn_idx"] = m.turn_idx ? Json(*m.turn_idx) : Json(nullptr);
  j["timestamp"] = m.timestamp;
  return j;
}

// Reads one message; `where` names the position for errors ("run.jsonl:3 messages[5]").
inline Message message_from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + ": a message must be a JSON object");
  Message m;
  auto role = j.find("role");
  if (role == j.end() || !role->is_string()) throw std::runtime_error(where + ": missing string field 'role'");
  m.role = role->get<std::string>();
  if (m.role != "system" && m.role != "assistant" && m.role != "user" && m.role != "tool")
    throw std::runtime_error(where + ": unknown role '" + m.role + "'");
  if (auto c = j.find("content"); c != j.end() && !c->is_null()) {
    if (!c->is_string()) throw std::runtime_error(where + ": field 'content' must be a string or null");
    m.content = c->get<std::string>();
  }
  if (auto t = j.find("turn_idx"); t != j.end() && t->is_number_integer()) m.turn_idx = t->get<int>();
  if (auto t = j.find("timestamp"); t != j.end() && t->is_string()) m.timestamp = t->get<std::string>();
  if (m.role == "tool") {
    auto id = j.find("id");
    if (id == j.end() || !id->is_string()) throw std::runtime_error(where + ": tool message needs a string 'id'");
    m.id = id->get<std::string>();
    if (auto r = j.find("requestor"); r != j.end() && r->is_string()) m.requestor = r->get<std::string>();
    if (auto e = j.find("error"); e != j.end() && e->is_boolean()) m.error = e->get<bool>();
    return m;
  }
  if (auto tc = j.find("tool_calls"); tc != j.end() && !tc->is_null()) {
    if (!tc->is_array()) throw std::runtime_error(where + ": field 'tool_calls' must be a list or null");
    std::vector<ToolCall> calls;
    for (size_t i = 0; i < tc->size(); ++i) {
      const Json& c = (*tc)[i];
      const std::string cw = where + ".tool_calls[" + std::to_string(i) + "]";
      if (!c.is_object() || !c.contains("name") || !c["name"].is_string())
        throw std::runtime_error(cw + ": a tool call needs a string 'name'");
      ToolCall call;
      call.name = c["name"].get<std::string>();
      if (c.contains("id") && c["id"].is_string()) call.id = c["id"].get<std::string>();
      if (!c.contains("arguments") || !c["arguments"].is_object())
        throw std::runtime_error(cw + ": field 'arguments' must be a JSON object");
      call.arguments = c["arguments"];
      call.requestor = (c.contains("requestor") && c["requestor"].is_string()) ? c["requestor"].get<std::string>()
                                                                              : std::string("assistant");
      calls.push_back(std::move(call));
    }
    m.tool_calls = std::move(calls);
  }
  return m;
}

inline std::vector<Message> messages_from_json(const Json& arr, const std::string& where) {
  if (!arr.is_array()) throw std::runtime_error(where + ": 'messages' must be a list");
  std::vector<Message> out;
  for (size_t i = 0; i < arr.size(); ++i)
    out.push_back(message_from_json(arr[i], where + " messages[" + std::to_string(i) + "]"));
  return out;
}

inline Json to_json(const std::vector<Message>& messages) {
  Json arr = Json::array();
  for (const auto& m : messages) arr.push_back(to_json(m));
  return arr;
}

}  // namespace gemma4::eval::tau2
