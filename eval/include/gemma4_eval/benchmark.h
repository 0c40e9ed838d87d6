// The seam between the harness (runs, resumption, metrics, reports, backends) and one benchmark.
//
// A benchmark is a list of items and three duties:
//   * `prompt(item, sample)`: the chat request for one sample (GPQA reshuffles per sample);
//   * `score(item, sample_prompt, answer)`: official answer extraction on the final answer text;
//   * `run_sample(...)`: one sample end to end. The default sends `prompt` to the backend once,
//     removes the thought channel and calls `score`. Benchmarks that are not one request and one
//     answer (tau2-bench: an agent/user/environment loop; LiveCodeBench: sandboxed execution)
//     override `run_sample` and fill the same SampleRecord.
// Everything downstream only reads SampleRecord, so new benchmarks get resumable runs, metrics,
// `results.json` and `report.md` for free.
#pragma once

#include "gemma4_eval/chat_backend.h"
#include "gemma4_eval/thinking.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gemma4::eval {

struct EvalItem {
  std::string id;          // the dataset's own id, stable across runs
  std::string category;    // per-category metrics (MMLU-Pro category, MMMU-Pro subject, ...)
  nlohmann::json gold;     // "B", 42, ... as the dataset gives it
  nlohmann::json data;     // the parsed row (benchmark-specific)
};

// What one sample asks the model; `record` is logged with the sample (e.g. GPQA's permutation)
// and `gold` is the answer in the prompt's terms (after shuffling).
struct SamplePrompt {
  std::vector<ChatMessage> messages;
  nlohmann::json gold;
  nlohmann::json record = nlohmann::json::object();
  int num_choices = 0;     // multiple choice: how many letters the official random fallback draws from
};

// The official scorer's verdict on one answer text.
struct AnswerScore {
  nlohmann::json extracted;    // null when the official scorer finds nothing
  bool correct = false;
  bool fallback_random = false;  // the official code would now guess at random; we do not
  nlohmann::json detail = nlohmann::json::object();  // which rule fired, warnings
};

// Sampling and budget for every request of a run.
struct GenerationSettings {
  double temperature = 1.0;   // Gemma 4 model card: T=1.0, top_p=0.95, top_k=64
  double top_p = 0.95;
  std::optional<int> top_k = 64;
  int max_tokens = 32768;
  bool enable_thinking = true;
  std::uint64_t seed = 0;
};

// Sample status (the record's "status"), counted separately in the metrics:
//   ok        an answer was extracted
//   unparsed  the answer text had no answer the official scorer recognises
//   truncated the output hit max_tokens (finish_reason "length") or thinking never closed
//   error     the backend failed after its retries (not scored; resuming retries it)

class Benchmark {
 public:
  virtual ~Benchmark() = default;
  virtual std::string name() const = 0;
  virtual const std::vector<EvalItem>& items() const = 0;
  // Everything about prompting/scoring that changes results (k-shot, setting, image order...);
  // it is part of the run's config hash.
  virtual nlohmann::json settings() const = 0;
  virtual SamplePrompt prompt(const EvalItem& item, int sample) const = 0;
  virtual AnswerScore score(const EvalItem& item, const SamplePrompt& prompt, const std::string& answer) const = 0;

  virtual nlohmann::json run_sample(const EvalItem& item, int sample, ChatBackend& backend,
                                    const GenerationSettings& gen) const;

  // Benchmark-specific scores over the run's records (this configuration, scored or not), beyond
  // the harness's mean over samples: LiveCodeBench's pass@k, tau2's pass^k per domain. Stored as
  // results.json's "benchmark_metrics" and listed in report.md; null: none.
  virtual nlohmann::json summary_metrics(const std::vector<nlohmann::json>& /*records*/) const { return nullptr; }
};

inline ChatMessage text_message(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

// ---- the default single-request sample --------------------------------------------------------

inline ChatRequest make_request(const SamplePrompt& p, const GenerationSettings& gen, std::uint64_t seed) {
  ChatRequest r;
  r.messages = p.messages;
  r.temperature = gen.temperature;
  r.top_p = gen.top_p;
  r.top_k = gen.top_k;
  r.max_tokens = gen.max_tokens;
  r.enable_thinking = gen.enable_thinking;
  r.seed = seed;
  return r;
}

// A per-sample seed that does not depend on scheduling: the run seed mixed with item and sample.
inline std::uint64_t sample_seed(std::uint64_t run_seed, const std::string& item_id, int sample) {
  std::uint64_t h = 1469598103934665603ull ^ run_seed;
  for (unsigned char c : item_id) h = (h ^ c) * 1099511628211ull;
  h = (h ^ static_cast<std::uint64_t>(sample)) * 1099511628211ull;
  return h >> 1;  // keep it positive as a signed 64-bit JSON number
}

inline nlohmann::json Benchmark::run_sample(const EvalItem& item, int sample, ChatBackend& backend,
                                            const GenerationSettings& gen) const {
  const SamplePrompt p = prompt(item, sample);
  nlohmann::json rec;
  rec["category"] = item.category;
  rec["gold"] = p.gold;
  if (!p.record.empty()) rec["prompt_record"] = p.record;
  const auto t0 = std::chrono::steady_clock::now();
  ChatResponse resp;
  try {
    resp = backend.chat(make_request(p, gen, sample_seed(gen.seed, item.id, sample)));
  } catch (const std::exception& e) {
    rec["status"] = "error";
    rec["error"] = e.what();
    rec["score"] = nullptr;
    return rec;
  }
  rec["latency_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // `content` may still carry the channel if the server did not parse it; `reasoning` is the
  // OpenAI-style separate thought. Either way extraction sees only the answer.
  const SplitOutput split = split_thinking(resp.message.content);
  const bool truncated = resp.finish_reason == "length" || !split.thought_closed;
  const AnswerScore s = score(item, p, split.answer);
  rec["response"] = resp.raw.empty() ? resp.message.content : resp.raw;
  if (!resp.message.reasoning.empty()) rec["reasoning"] = resp.message.reasoning;
  rec["answer_text"] = split.answer;
  rec["thought_chars"] = split.thought.size() + resp.message.reasoning.size();
  rec["thought_closed"] = split.thought_closed;
  rec["finish_reason"] = resp.finish_reason;
  rec["prompt_tokens"] = resp.prompt_tokens;
  rec["completion_tokens"] = resp.completion_tokens;
  rec["extracted"] = s.extracted;
  rec["correct"] = s.correct;
  rec["score"] = s.correct ? 1.0 : 0.0;
  if (s.fallback_random) {
    rec["fallback"] = "random";
    rec["num_choices"] = p.num_choices;
  }
  if (!s.detail.empty()) rec["extraction"] = s.detail;
  rec["status"] = truncated ? "truncated" : (s.extracted.is_null() ? "unparsed" : "ok");
  return rec;
}

}  // namespace gemma4::eval
