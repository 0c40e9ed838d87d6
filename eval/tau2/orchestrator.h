// The half-duplex simulation: agent (the model under test), user simulator (a second model) and
// environment take turns, as tau2's Orchestrator does.
//
//   * The conversation opens with the fixed agent greeting "Hi! How can I help you today?"
//     (unless the task provides a message history).
//   * Agent: system prompt = instruction block + <policy>; the domain's tools as OpenAI tools.
//     A message with tool calls goes to the environment, whose results go back to the agent.
//   * User: system prompt = the official simulation guidelines + <scenario>str(user_scenario)
//     </scenario>; it sees the conversation with roles flipped. In telecom it has device tools.
//   * The simulation ends when the user's text contains ###STOP###, ###TRANSFER### or
//     ###OUT-OF-SCOPE### (user_stop), after max_steps steps (max_steps), or once max_errors tool
//     calls failed (too_many_errors); both limits are checked only when no tool result is pending.
//   * A turn with neither text nor tool calls, unparsable tool arguments, or a backend failure
//     aborts the attempt; the simulation is retried from scratch up to `max_retries` times and then
//     recorded as infrastructure_error (excluded from metrics), as tau2's runner does.
#pragma once

#include "tau2/evaluator.h"
#include "tau2/trajectory.h"

#include "gemma4_eval/chat_backend.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gemma4::eval::tau2 {

inline const char* kAgentGreeting = "Hi! How can I help you today?";
inline const char* kStop = "###STOP###";
inline const char* kTransfer = "###TRANSFER###";
inline const char* kOutOfScope = "###OUT-OF-SCOPE###";

// LLMAgent's system prompt (agent/llm_agent.py AGENT_INSTRUCTION + SYSTEM_PROMPT).
inline std::string agent_system_prompt(const std::string& policy) {
  const std::string instruction =
      "You are a customer service agent that helps the user according to the <policy> provided below.\n"
      "In each turn you can either:\n"
      "- Send a message to the user.\n"
      "- Make a tool call.\n"
      "You cannot do both at the same time.\n"
      "\n"
      "Try to be helpful and always follow the policy. Always make sure you generate valid JSON only.";
  return "<instructions>\n" + instruction + "\n</instructions>\n<policy>\n" + policy + "\n</policy>";
}

// UserSimulator's system prompt: the guidelines file (the tools variant when the user has tools),
// with the persona placeholder emptied (default persona), then the scenario.
inline std::string user_system_prompt(const std::string& guidelines, const std::string& scenario) {
  std::string g = guidelines;
  const std::string placeholder = "<PERSONA_GUIDELINES>";
  for (size_t pos = g.find(placeholder); pos != std::string::npos; pos = g.find(placeholder)) g.erase(pos, placeholder.size());
  return g + "\n\n<scenario>\n" + scenario + "\n</scenario>";
}

inline bool is_user_stop(const Message& m) {
  if (m.is_tool_call() || !m.content) return false;
  return m.content->find(kStop) != std::string::npos || m.content->find(kTransfer) != std::string::npos ||
         m.content->find(kOutOfScope) != std::string::npos;
}

// Python's random.seed(seed); [random.randint(0, 1000000) for _ in range(n)]: the per-trial seeds
// of a tau2 run (runner/batch.py), so trial seeds match the official runner's.
inline std::vector<std::uint64_t> trial_seeds(std::uint32_t seed, int n) {
  // MT19937 seeded with init_by_array({seed}), as CPython seeds from a small int.
  std::uint32_t mt[624];
  mt[0] = 19650218u;
  for (std::uint32_t i = 1; i < 624; ++i) mt[i] = 1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i;
  std::uint32_t i = 1, j = 0;
  const std::uint32_t key[1] = {seed};
  for (int k = 624; k; --k) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] + j;
    ++i; ++j;
    if (i >= 624) { mt[0] = mt[623]; i = 1; }
    if (j >= 1) j = 0;
  }
  for (int k = 623; k; --k) {
    mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - i;
    ++i;
    if (i >= 624) { mt[0] = mt[623]; i = 1; }
  }
  mt[0] = 0x80000000u;
  int index = 624;
  auto next = [&]() -> std::uint32_t {
    if (index >= 624) {
      for (int k = 0; k < 624; ++k) {
        const std::uint32_t y = (mt[k] & 0x80000000u) | (mt[(k + 1) % 624] & 0x7fffffffu);
        mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
      }
      index = 0;
    }
    std::uint32_t y = mt[index++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  };
  std::vector<std::uint64_t> out;
  for (int t = 0; t < n; ++t) {
    // randint(0, 1000000) = randrange(1000001) = _randbelow: getrandbits(20) until < n.
    std::uint32_t r;
    do r = next() >> (32 - 20);
    while (r >= 1000001u);
    out.push_back(r);
  }
  return out;
}

struct RunConfig {
  int max_steps = 200;   // tau2 CLI default (config.py DEFAULT_MAX_STEPS)
  int max_errors = 10;   // DEFAULT_MAX_ERRORS
  int max_retries = 3;   // attempts after the first before infrastructure_error
  double agent_temperature = 0.0;
  double user_temperature = 0.0;
  double agent_top_p = 1.0;
  std::optional<int> agent_top_k;  // unset: not sent (the endpoint's default)
  int agent_max_tokens = 4096;
  int user_max_tokens = 4096;
  bool agent_thinking = false;
  std::optional<std::uint64_t> seed;  // per-trial seed given to both models
};

// Everything a run needs besides the task.
struct RunContext {
  EnvironmentFactory make_env;
  std::string user_guidelines;        // data/tau2/user_simulator/simulation_guidelines.md
  std::string user_guidelines_tools;  // simulation_guidelines_tools.md (telecom)
  ChatBackend* agent = nullptr;
  ChatBackend* user = nullptr;
  ChatBackend* judge = nullptr;       // for NL assertions; required for tasks that score them
};

namespace detail {

// Our messages to the OpenAI chat shape (utils/llm_utils.py to_litellm_messages).
inline ChatMessage to_chat(const Message& m) {
  ChatMessage c;
  c.role = m.role;
  c.content = m.content.value_or("");
  if (m.role == "tool") {
    c.tool_call_id = m.id;
  } else if (m.role == "assistant" && m.tool_calls) {
    for (const auto& call : *m.tool_calls)
      c.tool_calls.push_back(nlohmann::json{{"id", call.id}, {"type", "function"},
                                            {"function", {{"name", call.name}, {"arguments", py::dumps(call.arguments)}}}});
  }
  return c;
}

struct AttemptFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The model's answer as a message of `role`; tool calls get `requestor`.
inline Message from_response(const ChatResponse& r, const std::string& role, const std::string& requestor) {
  Message m;
  m.role = role;
  if (!r.message.content.empty()) m.content = r.message.content;
  if (r.message.tool_calls.is_array() && !r.message.tool_calls.empty()) {
    std::vector<ToolCall> calls;
    for (const auto& tc : r.message.tool_calls) {
      ToolCall call;
      call.requestor = requestor;
      call.id = tc.value("id", std::string());
      const auto& fn = tc.contains("function") ? tc["function"] : tc;
      if (!fn.contains("name") || !fn["name"].is_string()) throw AttemptFailure(role + " tool call without a name");
      call.name = fn["name"].get<std::string>();
      const auto args = fn.contains("arguments") ? fn["arguments"] : nlohmann::json::object();
      if (args.is_string()) {
        Json parsed = Json::parse(args.get<std::string>(), nullptr, false);
        if (parsed.is_discarded()) throw AttemptFailure(role + " tool call " + call.name + ": arguments are not valid JSON");
        call.arguments = parsed;
      } else {
        call.arguments = Json::parse(args.dump());
      }
      if (!call.arguments.is_object()) throw AttemptFailure(role + " tool call " + call.name + ": arguments are not a JSON object");
      calls.push_back(std::move(call));
    }
    m.tool_calls = std::move(calls);
  }
  // ParticipantMessageBase.validate(): text or tool calls.
  if (!m.has_text_content() && !m.is_tool_call()) throw AttemptFailure(role + " sent an empty message");
  return m;
}

}  // namespace detail

// One simulation attempt. Throws detail::AttemptFailure (or the backend's exception) when the
// attempt has to be retried.
class Simulation {
 public:
  Simulation(const RunContext& ctx, const Task& task, const RunConfig& cfg) : ctx_(ctx), task_(task), cfg_(cfg) {
    env_ = ctx.make_env();
    agent_tools_ = env_->agent_tool_schemas();
    if (env_->user_tools() != nullptr) {
      for (const auto& t : env_->user_tools()->tools())
        if (!task.user_tools || std::find(task.user_tools->begin(), task.user_tools->end(), t.name) != task.user_tools->end())
          user_tools_.push_back(t.openai_schema());
    }
    agent_system_ = agent_system_prompt(env_->policy());
    user_system_ = user_system_prompt(user_tools_.empty() ? ctx.user_guidelines : ctx.user_guidelines_tools, task.user_instructions);
  }

  const std::string& agent_system() const { return agent_system_; }
  const std::string& user_system() const { return user_system_; }

  // Runs to termination; returns the trajectory and the termination reason.
  std::pair<std::vector<Message>, std::string> run() {
    initialize();
    while (!done_) {
      step();
      check_termination();
    }
    return {trajectory_, reason_};
  }

 private:
  enum class Role { Agent, User, Env };

  void initialize() {
    // Environment.set_state with the task's initial state (replaying its message history).
    set_state(*env_, task_, task_.message_history, /*strict=*/true);
    const auto& history = task_.message_history;
    if (history.empty()) {
      Message greeting;
      greeting.role = "assistant";
      greeting.content = kAgentGreeting;
      trajectory_ = {greeting};
      agent_messages_ = {greeting};
      pending_ = {greeting};
      from_ = Role::Agent;
      to_ = Role::User;
      return;
    }
    trajectory_ = history;
    const Message& last = history.back();
    auto agent_visible = [](const Message& m) {
      return m.role == "assistant" || (m.role == "user" && !m.is_tool_call()) || (m.role == "tool" && m.requestor == "assistant");
    };
    auto user_visible = [](const Message& m) {
      return m.role == "user" || (m.role == "assistant" && !m.is_tool_call()) || (m.role == "tool" && m.requestor == "user");
    };
    auto take = [&](bool (*pred)(const Message&), size_t end) {
      std::vector<Message> out;
      for (size_t i = 0; i < end; ++i)
        if (pred(history[i])) out.push_back(history[i]);
      return out;
    };
    const size_t n = history.size();
    if (last.role == "assistant") {
      from_ = Role::Agent;
      to_ = last.is_tool_call() ? Role::Env : Role::User;
      agent_messages_ = take(agent_visible, n);
      user_messages_ = take(user_visible, n - 1);
    } else if (last.role == "user") {
      from_ = Role::User;
      to_ = last.is_tool_call() ? Role::Env : Role::Agent;
      user_messages_ = take(user_visible, n);
      agent_messages_ = take(agent_visible, n - 1);
      if (is_user_stop(last)) finish(termination::kUserStop);
    } else if (last.role == "tool") {
      from_ = Role::Env;
      if (last.requestor == "assistant") {
        to_ = Role::Agent;
        agent_messages_ = take(agent_visible, n - 1);
        user_messages_ = take(user_visible, n);
      } else {
        to_ = Role::User;
        agent_messages_ = take(agent_visible, n);
        user_messages_ = take(user_visible, n - 1);
      }
    } else {
      throw std::runtime_error("task " + task_.id + ": the message history must end with an assistant, user or tool message");
    }
    // The pending input: the last message, or the trailing tool messages of the last call.
    pending_.clear();
    if (last.role == "tool") {
      size_t k = n;
      while (k > 0 && history[k - 1].role == "tool") --k;
      pending_.assign(history.begin() + static_cast<std::ptrdiff_t>(k), history.end());
    } else {
      pending_ = {last};
    }
  }

  void finish(const char* reason) {
    done_ = true;
    reason_ = reason;
  }

  ChatResponse ask(ChatBackend& backend, const std::string& system, const std::vector<Message>& messages, const Json& tools,
                   double temperature, int max_tokens, bool thinking) {
    ChatRequest req;
    req.messages.push_back(chat_text("system", system));
    for (const auto& m : messages) req.messages.push_back(detail::to_chat(m));
    req.tools = nlohmann::json::parse(tools.dump());
    req.temperature = temperature;
    req.max_tokens = max_tokens;
    req.seed = cfg_.seed;
    req.enable_thinking = thinking;
    if (&backend == ctx_.agent) {
      req.top_p = cfg_.agent_top_p;
      req.top_k = cfg_.agent_top_k;
    }
    return backend.chat(req);
  }

  void step() {
    if ((from_ == Role::Agent || from_ == Role::Env) && to_ == Role::User) {
      // The user sees its own messages as "assistant" and the agent's as "user".
      for (const auto& m : pending_)
        if (m.role == "tool" || m.has_text_content() || m.is_tool_call()) user_messages_.push_back(m);
      std::vector<Message> flipped;
      for (const auto& m : user_messages_) {
        Message f = m;
        if (m.role == "user") f.role = "assistant";
        else if (m.role == "assistant") {
          if (m.is_tool_call()) throw std::runtime_error("Tool calls are not supported in the flipped messages");
          f.role = "user";
        }
        flipped.push_back(f);
      }
      const ChatResponse r = ask(*ctx_.user, user_system_, flipped, Json(user_tools_), cfg_.user_temperature, cfg_.user_max_tokens, false);
      Message msg = detail::from_response(r, "user", "user");
      user_messages_.push_back(msg);
      if (is_user_stop(msg)) finish(termination::kUserStop);
      trajectory_.push_back(msg);
      pending_ = {msg};
      from_ = Role::User;
      to_ = msg.is_tool_call() ? Role::Env : Role::Agent;
    } else if ((from_ == Role::User || from_ == Role::Env) && to_ == Role::Agent) {
      for (const auto& m : pending_) agent_messages_.push_back(m);
      const ChatResponse r = ask(*ctx_.agent, agent_system_, agent_messages_, agent_tools_, cfg_.agent_temperature,
                                 cfg_.agent_max_tokens, cfg_.agent_thinking);
      Message msg = detail::from_response(r, "assistant", "assistant");
      agent_messages_.push_back(msg);
      trajectory_.push_back(msg);
      pending_ = {msg};
      from_ = Role::Agent;
      to_ = msg.is_tool_call() ? Role::Env : Role::User;
    } else if ((from_ == Role::Agent || from_ == Role::User) && to_ == Role::Env) {
      const Message call_msg = pending_.back();
      std::vector<Message> results;
      for (const auto& call : *call_msg.tool_calls) {
        Message result = env_->get_response(call);
        if (result.error) ++num_errors_;
        results.push_back(result);
      }
      for (const auto& r : results) trajectory_.push_back(r);
      pending_ = results;
      to_ = from_;
      from_ = Role::Env;
    } else {
      throw std::runtime_error("invalid turn state");
    }
    ++step_count_;
    env_->sync_tools();
  }

  // Max steps and max errors are only checked when no tool call is waiting for its result.
  void check_termination() {
    if (to_ == Role::Env) return;
    if (step_count_ >= cfg_.max_steps) finish(termination::kMaxSteps);
    if (num_errors_ >= cfg_.max_errors) finish(termination::kTooManyErrors);
  }

  const RunContext& ctx_;
  const Task& task_;
  const RunConfig& cfg_;
  std::unique_ptr<Environment> env_;
  Json agent_tools_ = Json::array();
  std::vector<Json> user_tools_;
  std::string agent_system_, user_system_;
  std::vector<Message> trajectory_, agent_messages_, user_messages_, pending_;
  Role from_ = Role::Agent, to_ = Role::User;
  bool done_ = false;
  std::string reason_;
  int step_count_ = 0;
  int num_errors_ = 0;
};

// Runs one trial of a task and scores it; never throws for model misbehaviour (those become
// infrastructure_error after the retries), only for bad inputs (task, data files).
inline SimulationRecord run_task(const RunContext& ctx, const std::string& domain, const Task& task, const RunConfig& cfg,
                                 int trial = 0) {
  if (ctx.agent == nullptr || ctx.user == nullptr) throw std::invalid_argument("run_task: agent and user backends are required");
  SimulationRecord rec;
  rec.domain = domain;
  rec.task_id = task.id;
  rec.trial = trial;
  rec.seed = cfg.seed;
  rec.id = domain + "/" + task.id + "/" + std::to_string(trial);
  rec.agent = ctx.agent->describe();
  rec.user_simulator = ctx.user->describe();
  if (ctx.judge) rec.judge = ctx.judge->describe();
  const auto start = std::chrono::steady_clock::now();
  std::string last_error;
  for (int attempt = 0; attempt <= cfg.max_retries; ++attempt) {
    try {
      Simulation sim(ctx, task, cfg);
      auto [messages, reason] = sim.run();
      for (size_t i = 0; i < messages.size(); ++i) messages[i].turn_idx = static_cast<int>(i);
      SimulationOutcome outcome{reason, messages, std::nullopt};
      EvaluationOptions opts;
      opts.judge = ctx.judge;
      opts.strict_replay = true;
      const RewardInfo reward = evaluate_simulation(ctx.make_env, task, outcome, opts);
      rec.termination_reason = reason;
      rec.messages = std::move(messages);
      rec.reward_info = reward.to_json();
      rec.error.reset();
      rec.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return rec;
    } catch (const std::invalid_argument&) {
      throw;
    } catch (const std::exception& e) {
      last_error = e.what();
    }
  }
  rec.termination_reason = termination::kInfrastructureError;
  rec.error = "failed after " + std::to_string(cfg.max_retries + 1) + " attempts: " + last_error;
  rec.reward_info = nullptr;  // excluded from metrics, as the official runner does
  rec.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return rec;
}

}  // namespace gemma4::eval::tau2
