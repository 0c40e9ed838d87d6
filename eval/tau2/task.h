// Tasks in the official tasks.json format (tau2 data_model/tasks.py).
//
//   {"id", "description", "user_scenario": {"persona", "instructions": str | {domain,
//    reason_for_call, known_info, unknown_info, task_instructions}}, "initial_state":
//    {"initialization_data": {"agent_data", "user_data"}, "initialization_actions": [EnvFunctionCall],
//    "message_history": [Message]}, "evaluation_criteria": {"actions": [Action], "env_assertions":
//    [EnvAssertion], "communicate_info": [str], "nl_assertions": [str], "reward_basis": [...]},
//    "user_tools": [str] | null}
// Unknown keys are ignored (as pydantic does); missing required keys are errors naming the task.
#pragma once

#include "tau2/messages.h"

#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace gemma4::eval::tau2 {

// A reference tool call (evaluation_criteria.actions).
struct Action {
  std::string action_id;
  std::string requestor = "assistant";
  std::string name;
  Json arguments = Json::object();
  std::optional<std::vector<std::string>> compare_args;  // None: compare every argument of the call

  // Action.compare_with_tool_call.
  bool matches(const ToolCall& call) const {
    if (name != call.name) return false;
    std::vector<std::string> keys;
    if (compare_args) keys = *compare_args;
    else
      for (auto it = call.arguments.begin(); it != call.arguments.end(); ++it) keys.push_back(it.key());
    if (keys.empty()) return true;
    auto filtered = [&](const Json& args) {
      Json out = Json::object();
      for (auto it = args.begin(); it != args.end(); ++it)
        if (std::find(keys.begin(), keys.end(), it.key()) != keys.end()) out[it.key()] = it.value();
      return out;
    };
    return py::equal(filtered(call.arguments), filtered(arguments));
  }
};

// initialization_actions / env_assertions entries.
struct EnvFunctionCall {
  std::string env_type;  // "assistant" or "user"
  std::string func_name;
  Json arguments = Json::object();
  bool assert_value = true;     // EnvAssertion only
  std::optional<std::string> message;
};

struct EvaluationCriteria {
  std::optional<std::vector<Action>> actions;
  std::optional<std::vector<EnvFunctionCall>> env_assertions;
  std::optional<std::vector<std::string>> communicate_info;
  std::optional<std::vector<std::string>> nl_assertions;
  std::vector<std::string> reward_basis = {"DB", "COMMUNICATE"};  // the official default

  bool basis_has(const std::string& t) const {
    return std::find(reward_basis.begin(), reward_basis.end(), t) != reward_basis.end();
  }
};

struct Task {
  std::string id;
  Json raw;                            // the task as read, for the user simulator and reports
  std::string user_instructions;       // str(task.user_scenario), what the user simulator sees
  std::optional<Json> agent_data;      // initial_state.initialization_data
  std::optional<Json> user_data;
  std::vector<EnvFunctionCall> initialization_actions;
  std::vector<Message> message_history;
  std::optional<EvaluationCriteria> evaluation_criteria;
  std::optional<std::vector<std::string>> user_tools;
};

namespace detail {

// textwrap.indent(text, prefix): prefix every line that is not only whitespace.
inline std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    const size_t stop = end == std::string::npos ? text.size() : end + 1;
    const std::string line = text.substr(start, stop - start);
    if (line.find_first_not_of(" \t\r\n\f\v") != std::string::npos) out += prefix;
    out += line;
    start = stop;
  }
  return out;
}

inline std::string need_string(const Json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) throw std::runtime_error(where + ": missing string field '" + key + "'");
  return it->get<std::string>();
}

inline std::optional<std::string> opt_string(const Json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw std::runtime_error(where + ": field '" + key + "' must be a string or null");
  return it->get<std::string>();
}

inline std::optional<std::vector<std::string>> opt_strings(const Json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) throw std::runtime_error(where + ": field '" + key + "' must be a list of strings");
  std::vector<std::string> out;
  for (const auto& s : *it) {
    if (!s.is_string()) throw std::runtime_error(where + ": field '" + key + "' must be a list of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

inline EnvFunctionCall env_call_from_json(const Json& j, const std::string& where, bool assertion) {
  if (!j.is_object()) throw std::runtime_error(where + ": must be an object");
  EnvFunctionCall c;
  c.env_type = need_string(j, "env_type", where);
  if (c.env_type != "assistant" && c.env_type != "user")
    throw std::runtime_error(where + ": env_type must be 'assistant' or 'user', got '" + c.env_type + "'");
  c.func_name = need_string(j, "func_name", where);
  if (!j.contains("arguments") || !j["arguments"].is_object()) throw std::runtime_error(where + ": field 'arguments' must be an object");
  c.arguments = j["arguments"];
  if (assertion) {
    if (j.contains("assert_value") && !j["assert_value"].is_null()) {
      if (!j["assert_value"].is_boolean()) throw std::runtime_error(where + ": assert_value must be a boolean");
      c.assert_value = j["assert_value"].get<bool>();
    }
    c.message = opt_string(j, "message", where);
  }
  return c;
}

// str(StructuredUserInstructions) / str(UserScenario), as the user simulator receives them.
inline std::string user_scenario_text(const Json& scenario, const std::string& where) {
  if (!scenario.is_object()) throw std::runtime_error(where + ": 'user_scenario' must be an object");
  std::vector<std::string> lines;
  if (auto persona = opt_string(scenario, "persona", where)) {
    lines.push_back("Persona:");
    lines.push_back(indent(*persona, "\t"));
  }
  auto instr = scenario.find("instructions");
  if (instr == scenario.end()) throw std::runtime_error(where + ": user_scenario has no 'instructions'");
  std::string instructions;
  if (instr->is_string()) {
    instructions = instr->get<std::string>();
  } else if (instr->is_object()) {
    const std::string w = where + ".user_scenario.instructions";
    std::vector<std::string> l;
    l.push_back("Domain: " + need_string(*instr, "domain", w));
    l.push_back("Reason for call:\n" + indent(need_string(*instr, "reason_for_call", w), "\t"));
    if (auto k = opt_string(*instr, "known_info", w)) l.push_back("Known info:\n" + indent(*k, "\t"));
    if (auto u = opt_string(*instr, "unknown_info", w)) l.push_back("Unknown info:\n" + indent(*u, "\t"));
    l.push_back("Task instructions:\n" + indent(need_string(*instr, "task_instructions", w), "\t"));
    for (size_t i = 0; i < l.size(); ++i) instructions += (i ? "\n" : "") + l[i];
  } else {
    throw std::runtime_error(where + ": 'instructions' must be a string or an object");
  }
  lines.push_back("Instructions:");
  lines.push_back(indent(instructions, "\t"));
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" : "") + lines[i];
  return out;
}

}  // namespace detail

inline Task task_from_json(const Json& j, const std::string& source) {
  if (!j.is_object()) throw std::runtime_error(source + ": a task must be a JSON object");
  Task t;
  t.raw = j;
  auto id = j.find("id");
  if (id == j.end() || !(id->is_string() || id->is_number_integer()))
    throw std::runtime_error(source + ": task without a string 'id'");
  t.id = id->is_string() ? id->get<std::string>() : std::to_string(id->get<std::int64_t>());
  const std::string where = source + " task " + t.id;
  if (!j.contains("user_scenario")) throw std::runtime_error(where + ": missing field 'user_scenario'");
  t.user_instructions = detail::user_scenario_text(j["user_scenario"], where);
  if (auto is = j.find("initial_state"); is != j.end() && !is->is_null()) {
    if (!is->is_object()) throw std::runtime_error(where + ": 'initial_state' must be an object");
    if (auto d = is->find("initialization_data"); d != is->end() && !d->is_null()) {
      if (auto a = d->find("agent_data"); a != d->end() && !a->is_null()) t.agent_data = *a;
      if (auto u = d->find("user_data"); u != d->end() && !u->is_null()) t.user_data = *u;
    }
    if (auto acts = is->find("initialization_actions"); acts != is->end() && !acts->is_null()) {
      if (!acts->is_array()) throw std::runtime_error(where + ": 'initialization_actions' must be a list");
      for (size_t i = 0; i < acts->size(); ++i)
        t.initialization_actions.push_back(
            detail::env_call_from_json((*acts)[i], where + " initialization_actions[" + std::to_string(i) + "]", false));
    }
    if (auto mh = is->find("message_history"); mh != is->end() && !mh->is_null())
      t.message_history = messages_from_json(*mh, where + " initial_state");
  }
  if (auto ec = j.find("evaluation_criteria"); ec != j.end() && !ec->is_null()) {
    if (!ec->is_object()) throw std::runtime_error(where + ": 'evaluation_criteria' must be an object");
    EvaluationCriteria c;
    const std::string w = where + " evaluation_criteria";
    if (auto acts = ec->find("actions"); acts != ec->end() && !acts->is_null()) {
      if (!acts->is_array()) throw std::runtime_error(w + ": 'actions' must be a list");
      std::vector<Action> actions;
      for (size_t i = 0; i < acts->size(); ++i) {
        const Json& a = (*acts)[i];
        const std::string aw = w + ".actions[" + std::to_string(i) + "]";
        if (!a.is_object()) throw std::runtime_error(aw + ": must be an object");
        Action action;
        action.action_id = detail::need_string(a, "action_id", aw);
        action.name = detail::need_string(a, "name", aw);
        if (auto r = detail::opt_string(a, "requestor", aw)) action.requestor = *r;
        if (!a.contains("arguments") || !a["arguments"].is_object()) throw std::runtime_error(aw + ": 'arguments' must be an object");
        action.arguments = a["arguments"];
        action.compare_args = detail::opt_strings(a, "compare_args", aw);
        actions.push_back(std::move(action));
      }
      c.actions = std::move(actions);
    }
    if (auto ea = ec->find("env_assertions"); ea != ec->end() && !ea->is_null()) {
      if (!ea->is_array()) throw std::runtime_error(w + ": 'env_assertions' must be a list");
      std::vector<EnvFunctionCall> asserts;
      for (size_t i = 0; i < ea->size(); ++i)
        asserts.push_back(detail::env_call_from_json((*ea)[i], w + ".env_assertions[" + std::to_string(i) + "]", true));
      c.env_assertions = std::move(asserts);
    }
    c.communicate_info = detail::opt_strings(*ec, "communicate_info", w);
    c.nl_assertions = detail::opt_strings(*ec, "nl_assertions", w);
    if (auto rb = detail::opt_strings(*ec, "reward_basis", w)) {
      static const std::set<std::string> known = {"DB", "ENV_ASSERTION", "NL_ASSERTION", "ACTION", "COMMUNICATE"};
      for (const auto& b : *rb)
        if (!known.count(b)) throw std::runtime_error(w + ": unknown reward_basis entry '" + b + "'");
      c.reward_basis = *rb;
    }
    t.evaluation_criteria = std::move(c);
  }
  t.user_tools = detail::opt_strings(j, "user_tools", where);
  return t;
}

// A tasks.json file: a list of tasks, or {"tasks": [...]}.
inline std::vector<Task> tasks_from_json(const Json& j, const std::string& source) {
  const Json* list = &j;
  if (j.is_object() && j.contains("tasks")) list = &j["tasks"];
  if (!list->is_array()) throw std::runtime_error(source + ": expected a list of tasks");
  std::vector<Task> out;
  for (const auto& t : *list) out.push_back(task_from_json(t, source));
  return out;
}

}  // namespace gemma4::eval::tau2
