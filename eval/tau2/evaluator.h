// Reward computation, as tau2's evaluator/evaluate_simulation (EvaluationType.ALL, the default of
// a run) computes it.
//
//   reward = product over the task's reward_basis of
//     DB            predicted env (initial state + every tool call of the trajectory replayed) has
//                   the same agent-DB and user-DB hashes as the gold env (initial state + the
//                   task's reference actions; reference actions that raise are skipped);
//     ENV_ASSERTION each env assertion, run on the predicted env, returns its assert_value;
//     COMMUNICATE   each communicate_info string is a case-insensitive substring of some
//                   assistant message with its commas removed;
//     NL_ASSERTION  a judge model marks every nl_assertion as met;
//     ACTION        every reference action matches some tool call of the trajectory.
//   A simulation that ended other than by the agent or the user scores 0; a task without
//   evaluation criteria scores 1.
#pragma once

#include "tau2/environment.h"
#include "tau2/task.h"

#include "gemma4_eval/chat_backend.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gemma4::eval::tau2 {

// Builds a fresh environment of the domain (same database and policy every time).
using EnvironmentFactory = std::function<std::unique_ptr<Environment>()>;

// Python: (1 - 1e-6) <= reward <= (1 + 1e-6).
inline bool is_successful(double reward) { return reward >= 1 - 1e-6 && reward <= 1 + 1e-6; }

// The termination reasons of a simulation (data_model/simulation.py TerminationReason).
namespace termination {
inline constexpr const char* kUserStop = "user_stop";
inline constexpr const char* kAgentStop = "agent_stop";
inline constexpr const char* kMaxSteps = "max_steps";
inline constexpr const char* kTooManyErrors = "too_many_errors";
inline constexpr const char* kAgentError = "agent_error";
inline constexpr const char* kUserError = "user_error";
inline constexpr const char* kInfrastructureError = "infrastructure_error";
}  // namespace termination

// Thrown when a recorded trajectory cannot be replayed (malformed, or a strict replay disagreed
// with the recorded tool output).
struct ReplayError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- the judge for NL assertions -------------------------------------------------------------
struct NLAssertionCheck {
  std::string nl_assertion;
  bool met = false;
  std::string justification;
};

// The judge prompt, verbatim from evaluator_nl_assertions.py (indentation included: it is what the
// judge model sees).
inline std::string nl_judge_system_prompt() {
  return "\n        TASK\n        - You will be given a list of expected outcomes and a conversation that was collected during a "
         "test case run.\n        - The conversation is between an agent and a customer.\n        - Your job is to evaluate "
         "whether the agent satisfies each of the expected outcomes.\n        - Grade each expected outcome individually.\n\n   "
         "     FORMAT\n        - Your response should be a JSON object with the following fields:\n        - `reasoning`: a "
         "short explanation for your classification\n        - `metExpectation`: `true` if the agent satisfies the expected "
         "outcomes, `false` otherwise\n        - `expectedOutcome`: repeat the expectation from the input that you are "
         "grading\n        \n        Example response structure:\n        {\n            \"results\": [\n                {\n     "
         "               \"expectedOutcome\": \"<one of the expected outcomes from the input>\",\n                    "
         "\"reasoning\": \"<reasoning trace>\",\n                    \"metExpectation\": <false or true>,\n                }\n "
         "           ]\n        }\n        ";
}

// "role: content" for every message ("None" when there is no content), one per line.
inline std::string nl_judge_transcript(const std::vector<Message>& trajectory) {
  std::string out;
  for (size_t i = 0; i < trajectory.size(); ++i) {
    if (i) out += "\n";
    out += trajectory[i].role + ": " + (trajectory[i].content ? *trajectory[i].content : std::string("None"));
  }
  return out;
}

inline std::string nl_judge_user_prompt(const std::vector<Message>& trajectory, const std::vector<std::string>& assertions) {
  return "\n        conversation:\n        " + nl_judge_transcript(trajectory) + "\n        \n        expectedOutcomes:\n        " +
         py::repr(assertions) + "\n        ";
}

// A plain text message for a ChatRequest.
inline ChatMessage chat_text(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

// Asks the judge; throws when its answer is not the JSON the official evaluator parses.
inline std::vector<NLAssertionCheck> judge_nl_assertions(ChatBackend& judge, const std::vector<Message>& trajectory,
                                                         const std::vector<std::string>& assertions) {
  ChatRequest req;
  req.messages.push_back(chat_text("system", nl_judge_system_prompt()));
  req.messages.push_back(chat_text("user", nl_judge_user_prompt(trajectory, assertions)));
  req.temperature = 0.0;  // DEFAULT_LLM_NL_ASSERTIONS_TEMPERATURE
  const ChatResponse resp = judge.chat(req);
  Json parsed = Json::parse(resp.message.content, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) throw std::runtime_error("NL-assertion judge (" + judge.describe() + ") did not answer with JSON");
  std::vector<NLAssertionCheck> out;
  if (!parsed.is_object()) throw std::runtime_error("NL-assertion judge answer is not a JSON object");
  auto results = parsed.find("results");
  if (results == parsed.end()) return out;  // result_data.get("results", []) -> all([]) is True
  if (!results->is_array()) throw std::runtime_error("NL-assertion judge: 'results' is not a list");
  for (const auto& r : *results) {
    if (!r.is_object() || !r.contains("expectedOutcome") || !r.contains("metExpectation") || !r.contains("reasoning"))
      throw std::runtime_error("NL-assertion judge: a result lacks expectedOutcome/metExpectation/reasoning");
    NLAssertionCheck c;
    c.nl_assertion = r["expectedOutcome"].is_string() ? r["expectedOutcome"].get<std::string>() : py::dumps(r["expectedOutcome"]);
    // pydantic bool: true/false, 0/1 and the usual strings
    c.met = validate(*types::boolean(), r["metExpectation"], "metExpectation").get<bool>();
    c.justification = r["reasoning"].is_string() ? r["reasoning"].get<std::string>() : py::dumps(r["reasoning"]);
    out.push_back(std::move(c));
  }
  return out;
}

// ---- replay ------------------------------------------------------------------------------------
// Recorded and replayed tool outputs are compared as decoded JSON (or text when not JSON).
// Pydantic validation messages end with a version-specific URL we do not reproduce, so for those
// only the part we do produce is compared.
inline bool same_tool_output(const std::string& replayed, const std::string& recorded) {
  const Json a = Json::parse(replayed, nullptr, false);
  const Json b = Json::parse(recorded, nullptr, false);
  if (!a.is_discarded() && !b.is_discarded()) return py::equal(a, b);
  if (replayed == recorded) return true;
  const std::string pydantic = "Error: 1 validation error for ";
  return recorded.rfind(pydantic, 0) == 0 && recorded.rfind(replayed, 0) == 0;
}

// Environment.set_state: initial data, initial actions, then the mutating tool calls of `history`.
inline void set_state(Environment& env, const Task& task, const std::vector<Message>& history, bool strict) {
  if (task.agent_data) env.tools().update_db(*task.agent_data);
  if (task.user_data) {
    if (env.user_tools() == nullptr) throw ReplayError("task " + task.id + " has user_data but the domain has no user tools");
    env.user_tools()->update_db(*task.user_data);
  }
  for (const auto& action : task.initialization_actions) env.run_env_function(action.env_type, action.func_name, action.arguments);
  // Pair each tool call with the tool message that follows it.
  size_t i = 0;
  while (i < history.size()) {
    const Message& m = history[i++];
    if (m.role == "tool") throw ReplayError("Tool message not expected. Tool messages should always follow a tool call.");
    if ((m.role != "assistant" && m.role != "user") || !m.is_tool_call()) continue;
    for (const auto& call : *m.tool_calls) {
      if (i >= history.size()) throw ReplayError("Tool message expected. Got None.");
      const Message& tm = history[i++];
      if (tm.role != "tool") throw ReplayError("Tool message expected. Got " + tm.role + " message.");
      if (call.id != tm.id) throw ReplayError("Tool call id mismatch. Got " + call.id + " and " + tm.id);
      if (!env.has_tool(call.name)) continue;     // hallucinated tool: a no-op live as well
      if (!env.is_mutating(call.name)) continue;  // reads cannot change state
      const Message replayed = env.get_response(call);
      if (strict && !same_tool_output(replayed.content.value_or(""), tm.content.value_or("")))
        throw ReplayError("replayed tool call " + call.name + " " + py::dumps(call.arguments) + " returned\n" +
                          replayed.content.value_or("") + "\nbut the trajectory recorded\n" + tm.content.value_or(""));
    }
  }
  env.sync_tools();
}

// ---- the result --------------------------------------------------------------------------------
struct RewardInfo {
  double reward = 0.0;
  std::optional<bool> db_match;
  Json env_assertions = nullptr;      // [{"env_assertion", "met", "reward"}]
  Json action_checks = nullptr;       // [{"action", "action_match", "action_reward"}]
  Json communicate_checks = nullptr;  // [{"info", "met", "justification"}]
  std::optional<std::vector<NLAssertionCheck>> nl_assertions;
  std::vector<std::string> reward_basis;
  Json reward_breakdown = Json::object();
  std::string note;

  Json to_json() const {
    Json j = Json::object();
    j["reward"] = reward;
    j["db_check"] = db_match ? Json{{"db_match", *db_match}, {"db_reward", *db_match ? 1.0 : 0.0}} : Json(nullptr);
    j["env_assertions"] = env_assertions;
    j["action_checks"] = action_checks;
    if (nl_assertions) {
      Json nl = Json::array();
      for (const auto& c : *nl_assertions)
        nl.push_back(Json{{"nl_assertion", c.nl_assertion}, {"met", c.met}, {"justification", c.justification}});
      j["nl_assertions"] = nl;
    } else {
      j["nl_assertions"] = nullptr;
    }
    j["communicate_checks"] = communicate_checks;
    Json basis = Json::array();
    for (const auto& b : reward_basis) basis.push_back(b);
    j["reward_basis"] = reward_basis.empty() ? Json(nullptr) : basis;
    j["reward_breakdown"] = reward_breakdown;
    j["info"] = note.empty() ? Json(nullptr) : Json{{"note", note}};
    return j;
  }
};

// What the evaluator needs from a finished simulation.
struct SimulationOutcome {
  std::string termination_reason;
  std::vector<Message> messages;  // the full trajectory, task message_history included
  // NL-assertion verdicts recorded by an earlier scoring; used when no judge is given.
  std::optional<std::vector<NLAssertionCheck>> recorded_nl_assertions;
};

struct EvaluationOptions {
  ChatBackend* judge = nullptr;  // for NL_ASSERTION; without one, recorded verdicts are reused
  bool strict_replay = true;     // live runs: true; re-scoring recorded trajectories: false
};

namespace detail {

inline std::string ascii_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct EnvResult {
  double reward = 1.0;
  std::optional<bool> db_match;
  Json env_assertions = Json::array();
  Json breakdown = Json::object();
};

inline EnvResult evaluate_environment(const EnvironmentFactory& make_env, const Task& task, const SimulationOutcome& sim,
                                      bool strict) {
  EnvResult r;
  const EvaluationCriteria& c = *task.evaluation_criteria;
  if (!c.actions && !c.env_assertions) {  // nothing to compare
    r.db_match = true;
    r.env_assertions = nullptr;
    return r;
  }
  auto predicted = make_env();
  set_state(*predicted, task, sim.messages, strict);
  auto gold = make_env();
  set_state(*gold, task, task.message_history, strict);
  for (const auto& action : c.actions.value_or(std::vector<Action>{})) {
    try {
      gold->make_tool_call(action.name, action.requestor, action.arguments);
    } catch (const std::exception&) {
      // Gold actions that raise are skipped, as the official evaluator does (it logs a warning).
    }
  }
  const bool match = gold->db_hash() == predicted->db_hash() && gold->user_db_hash() == predicted->user_db_hash();
  r.db_match = match;
  const double db_reward = match ? 1.0 : 0.0;
  double assertion_reward = 1.0;
  for (const auto& a : c.env_assertions.value_or(std::vector<EnvFunctionCall>{})) {
    const Json res = predicted->run_env_function(a.env_type, a.func_name, a.arguments);
    if (!res.is_boolean()) throw std::runtime_error("Function " + a.func_name + " returned " + py::type_name(res) + " instead of bool");
    const bool met = res.get<bool>() == a.assert_value;
    Json assertion{{"env_type", a.env_type}, {"func_name", a.func_name}, {"arguments", a.arguments},
                   {"assert_value", a.assert_value}, {"message", a.message ? Json(*a.message) : Json(nullptr)}};
    r.env_assertions.push_back(Json{{"env_assertion", assertion}, {"met", met}, {"reward", met ? 1.0 : 0.0}});
    assertion_reward *= met ? 1.0 : 0.0;
  }
  r.reward = 1.0;
  if (c.basis_has("DB")) {
    r.breakdown["DB"] = db_reward;
    r.reward *= db_reward;
  }
  if (c.basis_has("ENV_ASSERTION")) {
    r.breakdown["ENV_ASSERTION"] = assertion_reward;
    r.reward *= assertion_reward;
  }
  return r;
}

}  // namespace detail

// evaluate_simulation(..., EvaluationType.ALL).
inline RewardInfo evaluate_simulation(const EnvironmentFactory& make_env, const Task& task, const SimulationOutcome& sim,
                                      const EvaluationOptions& options = {}) {
  RewardInfo info;
  if (sim.termination_reason != termination::kAgentStop && sim.termination_reason != termination::kUserStop) {
    info.reward = 0.0;
    info.note = "Simulation terminated prematurely. Termination reason: " + sim.termination_reason;
    return info;
  }
  if (!task.evaluation_criteria) {
    info.reward = 1.0;
    info.note = "No evaluation criteria";
    return info;
  }
  const EvaluationCriteria& c = *task.evaluation_criteria;
  info.reward_basis = c.reward_basis;

  // ENV (DB + env assertions)
  const detail::EnvResult env = detail::evaluate_environment(make_env, task, sim, options.strict_replay);
  info.db_match = env.db_match;
  info.env_assertions = env.env_assertions;

  // ACTION: reference actions against every tool call (agent's and user's).
  double action_reward = 1.0;
  if (c.actions && !c.actions->empty()) {
    info.action_checks = Json::array();
    for (const auto& action : *c.actions) {
      bool found = false;
      for (const auto& m : sim.messages)
        if ((m.role == "assistant" || m.role == "user") && m.is_tool_call())
          for (const auto& call : *m.tool_calls) found = found || action.matches(call);
      Json a{{"action_id", action.action_id}, {"requestor", action.requestor}, {"name", action.name}, {"arguments", action.arguments}};
      info.action_checks.push_back(Json{{"action", a}, {"action_match", found}, {"action_reward", found ? 1.0 : 0.0}});
      if (!found) action_reward = 0.0;
    }
  }

  // COMMUNICATE
  double communicate_reward = 1.0;
  if (c.communicate_info && !c.communicate_info->empty()) {
    info.communicate_checks = Json::array();
    for (const auto& needle : *c.communicate_info) {
      bool found = false;
      std::string where;
      for (const auto& m : sim.messages) {
        if (m.role != "assistant" || !m.has_text_content()) continue;
        std::string text = detail::ascii_lower(*m.content);
        text.erase(std::remove(text.begin(), text.end(), ','), text.end());
        if (text.find(detail::ascii_lower(needle)) != std::string::npos) {
          found = true;
          where = *m.content;
          break;
        }
      }
      info.communicate_checks.push_back(
          Json{{"info", needle}, {"met", found},
               {"justification", found ? "Information '" + needle + "' communicated in the message:\n '" + where + "'"
                                       : "Information '" + needle + "' not communicated."}});
      if (!found) communicate_reward = 0.0;
    }
  }

  // NL_ASSERTION: only run when it gates the reward (EvaluationType.ALL).
  double nl_reward = 1.0;
  if (c.basis_has("NL_ASSERTION")) {
    if (c.nl_assertions && !c.nl_assertions->empty()) {
      if (options.judge != nullptr) info.nl_assertions = judge_nl_assertions(*options.judge, sim.messages, *c.nl_assertions);
      else if (sim.recorded_nl_assertions) info.nl_assertions = sim.recorded_nl_assertions;
      else throw std::runtime_error("task " + task.id + " needs an NL-assertion judge (reward_basis has NL_ASSERTION) and none was given");
      for (const auto& check : *info.nl_assertions)
        if (!check.met) nl_reward = 0.0;
    } else {
      info.nl_assertions = std::vector<NLAssertionCheck>{};
    }
  }

  // Combine the components named by reward_basis.
  double reward = 1.0;
  if (c.basis_has("DB") || c.basis_has("ENV_ASSERTION")) {
    info.reward_breakdown.update(env.breakdown);
    reward *= env.reward;
  }
  if (c.basis_has("ACTION")) {
    info.reward_breakdown["ACTION"] = action_reward;
    reward *= action_reward;
  }
  if (c.basis_has("NL_ASSERTION")) {
    info.reward_breakdown["NL_ASSERTION"] = nl_reward;
    reward *= nl_reward;
  }
  if (c.basis_has("COMMUNICATE")) {
    info.reward_breakdown["COMMUNICATE"] = communicate_reward;
    reward *= communicate_reward;
  }
  info.reward = reward;
  return info;
}

// ---- pass^k ------------------------------------------------------------------------------------
inline double binomial(int n, int k) {
  if (k < 0 || k > n) return 0.0;
  double r = 1.0;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

// pass^k = mean over tasks of C(successes, k) / C(trials, k), for k = 1..(fewest trials of a task).
// Infrastructure errors are excluded first (agent_metrics.py).
struct TrialResult {
  std::string task_id;
  double reward = 0.0;
  std::string termination_reason;
};

struct PassHatK {
  std::vector<double> pass_hat_k;  // index k-1
  double avg_reward = 0.0;
  int num_tasks = 0;
  int num_simulations = 0;
  int infra_errors = 0;
};

inline PassHatK compute_pass_hat_k(const std::vector<TrialResult>& trials) {
  PassHatK out;
  std::map<std::string, std::pair<int, int>> per_task;  // task -> (trials, successes)
  double reward_sum = 0.0;
  for (const auto& t : trials) {
    if (t.termination_reason == termination::kInfrastructureError) {
      ++out.infra_errors;
      continue;
    }
    auto& [n, s] = per_task[t.task_id];
    ++n;
    if (is_successful(t.reward)) ++s;
    reward_sum += t.reward;
    ++out.num_simulations;
  }
  out.num_tasks = static_cast<int>(per_task.size());
  if (per_task.empty()) return out;
  out.avg_reward = reward_sum / out.num_simulations;
  int max_k = std::numeric_limits<int>::max();
  for (const auto& [id, ns] : per_task) max_k = std::min(max_k, ns.first);
  for (int k = 1; k <= max_k; ++k) {
    double sum = 0.0;
    for (const auto& [id, ns] : per_task) sum += binomial(ns.second, k) / binomial(ns.first, k);
    out.pass_hat_k.push_back(sum / static_cast<double>(per_task.size()));
  }
  return out;
}

}  // namespace gemma4::eval::tau2
