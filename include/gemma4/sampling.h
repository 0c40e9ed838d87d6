// Choosing the next token from logits, and knowing when to stop.
//
// Same processing order as transformers' generate(): logits / temperature, then top-k, then top-p
// (TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper), then a draw from the softmax of
// what is left. temperature == 0 means greedy (argmax; the lowest id wins a tie, as torch.argmax).
// The random source is a seeded xoshiro256** with our own uniform mapping, so a seed gives the
// same tokens on every platform and standard library (std::uniform_real_distribution does not).
//
// Stopping: Gemma 4 instruction-tuned models end a turn with <turn|> (106), hand off to a tool
// with <|tool_response>  (50), or emit <eos> (1); generation_config.json lists all of them in
// eos_token_id, and generation must stop on every one (runtime-bugs.md C11: stopping on
// tokenizer.eos_token_id alone runs past the turn end).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gemma4/tokenizer.h"  // TokenId

namespace gemma4 {

struct SamplingParams {
  float temperature = 1.0f;  // 0: greedy
  int top_k = 0;             // 0: off
  float top_p = 1.0f;        // 1: off
  std::uint64_t seed = 0;
};

// xoshiro256** (Blackman & Vigna), seeded through splitmix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& s : state_) {
      seed += 0x9E3779B97F4A7C15ull;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      s = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

// argmax; the first maximum wins.
inline TokenId greedy_token(std::span<const float> logits) {
  if (logits.empty()) throw std::invalid_argument("sampling: empty logits");
  return static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// The probabilities sampling draws from: softmax of the processed logits; removed tokens get 0.
// Exposed for tests and for callers that want the distribution (e.g. logprobs).
inline std::vector<double> sampling_distribution(std::span<const float> logits, const SamplingParams& p) {
  if (logits.empty()) throw std::invalid_argument("sampling: empty logits");
  if (!(p.temperature > 0.0f)) throw std::invalid_argument("sampling: temperature must be > 0 (0 means greedy)");
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) throw std::invalid_argument("sampling: top_p must be in (0, 1]");
  if (p.top_k < 0) throw std::invalid_argument("sampling: top_k must be >= 0");
  const std::size_t n = logits.size();
  if (std::any_of(logits.begin(), logits.end(), [](float x) { return std::isnan(x); }))
    throw std::invalid_argument("sampling: NaN in logits");
  if (std::all_of(logits.begin(), logits.end(), [](float x) { return std::isinf(x) && x < 0; }))
    throw std::invalid_argument("sampling: every logit is -inf");
  const double neg_inf = -std::numeric_limits<double>::infinity();
  std::vector<double> scores(n);
  for (std::size_t i = 0; i < n; ++i) scores[i] = static_cast<double>(logits[i]) / p.temperature;

  // top-k: drop every score below the k-th largest (ties with it stay, as in TopKLogitsWarper).
  if (p.top_k > 0 && static_cast<std::size_t>(p.top_k) < n) {
    std::vector<double> sorted = scores;
    std::nth_element(sorted.begin(), sorted.begin() + (p.top_k - 1), sorted.end(), std::greater<>());
    const double kth = sorted[static_cast<std::size_t>(p.top_k - 1)];
    for (double& s : scores)
      if (s < kth) s = neg_inf;
  }

  auto softmax = [&](std::vector<double>& v) {
    const double mx = *std::max_element(v.begin(), v.end());
    double sum = 0;
    for (double& x : v) sum += (x = std::isinf(x) && x < 0 ? 0.0 : std::exp(x - mx));
    for (double& x : v) x /= sum;
  };

  // top-p (TopPLogitsWarper): sort ascending, remove tokens whose cumulative probability is
  // <= 1 - top_p, always keep the most likely one.
  if (p.top_p < 1.0f) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
    std::vector<double> probs = scores;
    softmax(probs);
    double cumulative = 0;
    for (std::size_t r = 0; r + 1 < n; ++r) {
      cumulative += probs[order[r]];
      if (cumulative <= 1.0 - static_cast<double>(p.top_p)) scores[order[r]] = neg_inf;
    }
  }
  softmax(scores);
  return scores;
}

class Sampler {
 public:
  explicit Sampler(SamplingParams params) : params_(params), rng_(params.seed) {}

  TokenId sample(std::span<const float> logits) {
    if (params_.temperature == 0.0f) return greedy_token(logits);
    const std::vector<double> probs = sampling_distribution(logits, params_);
    // Inverse CDF in id order; the last token with nonzero mass catches rounding at the top end.
    const double u = rng_.uniform();
    double cumulative = 0;
    TokenId last = -1;
    for (std::size_t i = 0; i < probs.size(); ++i) {
      if (probs[i] <= 0) continue;
      last = static_cast<TokenId>(i);
      cumulative += probs[i];
      if (u < cumulative) return last;
    }
    return last;
  }

  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  Rng rng_;
};

// The ids that end generation.
class StopTokens {
 public:
  StopTokens() = default;
  explicit StopTokens(std::vector<TokenId> ids) : ids_(std::move(ids)) {}

  // From a config.json / generation_config.json object: eos_token_id as a number or a list.
  static StopTokens from_config(const nlohmann::json& config, const std::string& source = "generation_config.json") {
    if (!config.contains("eos_token_id")) throw std::runtime_error(source + ": missing field eos_token_id");
    const auto& e = config["eos_token_id"];
    std::vector<TokenId> ids;
    if (e.is_number_integer()) {
      ids.push_back(e.get<TokenId>());
    } else if (e.is_array()) {
      for (const auto& v : e) {
        if (!v.is_number_integer()) throw std::runtime_error(source + ": eos_token_id entries must be integers");
        ids.push_back(v.get<TokenId>());
      }
    } else {
      throw std::runtime_error(source + ": eos_token_id must be an integer or a list of integers");
    }
    return StopTokens(std::move(ids));
  }

  // <eos>, <turn|>, <|tool_response>: the instruction-tuned Gemma 4 generation_config.
  static StopTokens gemma4_default() { return StopTokens({1, 106, 50}); }

  // Adds the ids of another config (e.g. config.json's [1, 106] and generation_config's list).
  void merge(const StopTokens& other) {
    for (TokenId id : other.ids_)
      if (!contains(id)) ids_.push_back(id);
  }

  bool contains(TokenId id) const { return std::find(ids_.begin(), ids_.end(), id) != ids_.end(); }
  const std::vector<TokenId>& ids() const { return ids_; }

 private:
  std::vector<TokenId> ids_;
};

}  // namespace gemma4
