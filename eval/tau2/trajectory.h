// One simulation as a line of a JSONL file: enough to re-score it later without any model.
//
//   {"benchmark": "tau2", "tau2_revision", "id", "domain", "task_id", "trial", "seed",
//    "termination_reason", "messages": [...official message shape...],
//    "agent": "<backend description>", "user_simulator": "...", "judge": "..." | null,
//    "reward_info": {...} | null, "judge_answer": "<raw judge text>" | null, "error": "..." | null}
//
// "reward_info.nl_assertions" keeps the judge's verdicts, so a re-score without a judge reuses
// them; everything else in the reward is recomputed from the messages.
#pragma once

#include "tau2/evaluator.h"
#include "tau2/messages.h"

#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace gemma4::eval::tau2 {

// The tau2-bench revision whose semantics this implementation follows (v1.0.1 line).
inline constexpr const char* kTau2Revision = "a2c024725189473d2d7cea3a5cfdbcc67478e41f";

struct SimulationRecord {
  std::string id;
  std::string domain;
  std::string task_id;
  int trial = 0;
  std::optional<std::uint64_t> seed;
  std::string termination_reason;
  std::vector<Message> messages;
  std::string agent;           // ChatBackend::describe() of the model under test
  std::string user_simulator;  // ... of the user simulator
  std::optional<std::string> judge;
  std::optional<std::string> judge_answer;
  Json reward_info = nullptr;
  std::optional<std::string> error;  // what went wrong for infrastructure errors
  double duration_s = 0.0;

  SimulationOutcome outcome() const {
    SimulationOutcome o;
    o.termination_reason = termination_reason;
    o.messages = messages;
    if (reward_info.is_object() && reward_info.contains("nl_assertions") && reward_info["nl_assertions"].is_array()) {
      std::vector<NLAssertionCheck> checks;
      for (const auto& c : reward_info["nl_assertions"])
        checks.push_back(NLAssertionCheck{c.value("nl_assertion", std::string()), c.value("met", false),
                                          c.value("justification", std::string())});
      o.recorded_nl_assertions = std::move(checks);
    }
    return o;
  }

  Json to_json() const {
    Json j = Json::object();
    j["benchmark"] = "tau2";
    j["tau2_revision"] = kTau2Revision;
    j["id"] = id;
    j["domain"] = domain;
    j["task_id"] = task_id;
    j["trial"] = trial;
    j["seed"] = seed ? Json(*seed) : Json(nullptr);
    j["termination_reason"] = termination_reason;
    j["messages"] = tau2::to_json(messages);
    j["agent"] = agent;
    j["user_simulator"] = user_simulator;
    j["judge"] = judge ? Json(*judge) : Json(nullptr);
    j["judge_answer"] = judge_answer ? Json(*judge_answer) : Json(nullptr);
    j["reward_info"] = reward_info;
    j["error"] = error ? Json(*error) : Json(nullptr);
    j["duration_s"] = duration_s;
    return j;
  }
};

inline SimulationRecord record_from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + ": a simulation record must be a JSON object");
  SimulationRecord r;
  auto str = [&](const char* key, bool required) -> std::string {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) throw std::runtime_error(where + ": missing field '" + key + "'");
      return {};
    }
    if (!it->is_string()) throw std::runtime_error(where + ": field '" + key + "' must be a string");
    return it->get<std::string>();
  };
  r.id = str("id", false);
  r.domain = str("domain", true);
  r.task_id = str("task_id", true);
  r.termination_reason = str("termination_reason", true);
  r.agent = str("agent", false);
  r.user_simulator = str("user_simulator", false);
  if (auto v = str("judge", false); !v.empty()) r.judge = v;
  if (auto v = str("judge_answer", false); !v.empty()) r.judge_answer = v;
  if (auto v = str("error", false); !v.empty()) r.error = v;
  if (auto t = j.find("trial"); t != j.end() && t->is_number_integer()) r.trial = t->get<int>();
  if (auto s = j.find("seed"); s != j.end() && s->is_number_integer()) r.seed = s->get<std::uint64_t>();
  if (auto d = j.find("duration_s"); d != j.end() && d->is_number()) r.duration_s = d->get<double>();
  if (!j.contains("messages")) throw std::runtime_error(where + ": missing field 'messages'");
  r.messages = messages_from_json(j["messages"], where);
  if (auto ri = j.find("reward_info"); ri != j.end()) r.reward_info = *ri;
  return r;
}

// Reads a JSONL file of records; a truncated last line (a run killed mid-write) is reported, not
// silently dropped, unless `allow_truncated_tail` says to skip it.
inline std::vector<SimulationRecord> read_records(const std::string& path, bool allow_truncated_tail = false) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open file");
  std::vector<SimulationRecord> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      if (allow_truncated_tail && in.peek() == EOF) break;
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": invalid JSON");
    }
    out.push_back(record_from_json(j, path + ":" + std::to_string(line_no)));
  }
  return out;
}

}  // namespace gemma4::eval::tau2
