// Generation: prompt ids in, new tokens out, one decoder step at a time through the KV cache.
//
//   cache = empty KV cache                       (per request: nothing carries over, C21)
//   logits = forward(prompt)                     (prefill; only the last row is kept)
//   repeat until a stop id, max_new_tokens, or the callback says stop:
//     next = sample(logits)                      (sampling.h: greedy / temperature, top-k, top-p)
//     emit next;  logits = forward([next])       (decode)
//
// Stop ids are every id of generation_config.json's eos_token_id (<eos> 1, <turn|> 106,
// <|tool_response> 50 for the instruction-tuned models); the stop token is part of the output,
// as in transformers' generate(). On top: ChatModel, a checkpoint folder opened for chatting
// (weights, tokenizer, generation defaults, the chat template), shared by `gemma4 run`, `chat` and
// `serve`.
#pragma once

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gemma4/chat_template.h"
#include "gemma4/error.h"
#include "gemma4/kernels.h"
#include "gemma4/model.h"
#include "gemma4/multimodal.h"
#include "gemma4/sampling.h"
#include "gemma4/tokenizer.h"
#include "gemma4/tokenizer_load.h"

namespace gemma4 {

struct GenerateOptions {
  SamplingParams sampling{0.0f, 0, 1.0f, 0};  // temperature 0: greedy
  int max_new_tokens = 256;
  StopTokens stop = StopTokens::gemma4_default();
  // The prompt's media soft tokens (multimodal.h), merged in the prefill; null for text. Its ids
  // must be the prompt's.
  const MultimodalPrompt* media = nullptr;
};

enum class FinishReason { kStop, kLength, kCancelled };

inline const char* to_string(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "?";
}

struct GenerationStats {
  int prompt_tokens = 0;
  int new_tokens = 0;
  double prefill_seconds = 0;  // the prompt's forward pass
  double decode_seconds = 0;   // every later forward pass (one token each)
  double prefill_tokens_per_second() const { return prefill_seconds > 0 ? prompt_tokens / prefill_seconds : 0; }
  // Decode speed: tokens produced by decode steps (all but the first new token) per second.
  double decode_tokens_per_second() const {
    return decode_seconds > 0 && new_tokens > 1 ? (new_tokens - 1) / decode_seconds : 0;
  }
};

struct GenerationResult {
  std::vector<TokenId> tokens;  // new tokens, the stop token included when there is one
  FinishReason finish = FinishReason::kLength;
  GenerationStats stats;
};

// Called with each new token as soon as it is chosen; returning false stops generation
// (FinishReason::kCancelled), e.g. when the client of a stream went away.
using TokenCallback = std::function<bool(TokenId)>;

inline GenerationResult generate(const Model& model, const Kernels& kernels, std::span<const TokenId> prompt,
                                 const GenerateOptions& options, const TokenCallback& on_token = {}) {
  if (prompt.empty()) throw Error("generate: the prompt is empty (it needs at least <bos>)");
  const int V = model.text().vocab_size;
  for (TokenId id : prompt)
    if (id < 0 || id >= V)
      throw Error("generate: prompt token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                  std::to_string(V) + ")");
  using Clock = std::chrono::steady_clock;
  GenerationResult r;
  r.stats.prompt_tokens = int(prompt.size());
  if (options.max_new_tokens <= 0) return r;

  KVCache cache(model.text());
  Activations act;
  ForwardOptions last_only;
  last_only.all_logits = false;
  Sampler sampler(options.sampling);

  ForwardOptions prefill = last_only;
  if (options.media) {
    if (options.media->ids.size() != prompt.size() || !std::equal(prompt.begin(), prompt.end(), options.media->ids.begin()))
      throw Error("generate: the media prompt's ids differ from the prompt");
    prefill = options.media->forward_options(false);
  }
  auto t0 = Clock::now();
  forward(model, prompt.data(), prompt.size(), cache, act, kernels, {}, prefill);
  r.stats.prefill_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  t0 = Clock::now();
  while (true) {
    const TokenId next = sampler.sample(std::span<const float>(act.logits.data(), size_t(V)));
    r.tokens.push_back(next);
    if (on_token && !on_token(next)) {
      r.finish = FinishReason::kCancelled;
      break;
    }
    if (options.stop.contains(next)) {
      r.finish = FinishReason::kStop;
      break;
    }
    if (int(r.tokens.size()) >= options.max_new_tokens) {
      r.finish = FinishReason::kLength;
      break;
    }
    forward(model, &next, 1, cache, act, kernels, {}, last_only);
  }
  r.stats.decode_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.stats.new_tokens = int(r.tokens.size());
  return r;
}

// generation_config.json (falling back to config.json): the stop ids and the sampling the model
// was released with (Gemma 4: temperature 1.0, top_k 64, top_p 0.95).
struct GenerationDefaults {
  StopTokens stop = StopTokens::gemma4_default();
  SamplingParams sampling{1.0f, 64, 0.95f, 0};
  TokenId bos_token_id = 2;
  int max_position_embeddings = 0;  // 0: unknown

  static GenerationDefaults load(const std::filesystem::path& dir) {
    GenerationDefaults d;
    auto read = [](const std::filesystem::path& p) -> std::optional<nlohmann::json> {
      if (!std::filesystem::exists(p)) return std::nullopt;
      std::ifstream in(p);
      try {
        return nlohmann::json::parse(in);
      } catch (const nlohmann::json::exception& e) {
        throw Error(p.string() + ": malformed JSON: " + e.what());
      }
    };
    const auto gen_path = dir / "generation_config.json";
    const auto cfg_path = dir / "config.json";
    const auto gen = read(gen_path);
    const auto cfg = read(cfg_path);
    bool have_stop = false;
    if (gen && gen->contains("eos_token_id")) {
      d.stop = StopTokens::from_config(*gen, gen_path.string());
      have_stop = true;
    }
    if (cfg) {  // config.json's (or text_config's) eos ids add to generation_config's
      for (const nlohmann::json* c : {&*cfg, cfg->contains("text_config") ? &(*cfg)["text_config"] : nullptr}) {
        if (c == nullptr || !c->is_object()) continue;
        if (c->contains("eos_token_id") && !(*c)["eos_token_id"].is_null()) {
          StopTokens more = StopTokens::from_config(*c, cfg_path.string());
          if (have_stop) d.stop.merge(more);
          else d.stop = more, have_stop = true;
        }
        if (c->contains("max_position_embeddings") && (*c)["max_position_embeddings"].is_number_integer())
          d.max_position_embeddings = (*c)["max_position_embeddings"].get<int>();
      }
    }
    if (gen) {
      auto number = [&](const char* key, auto& out) {
        if (!gen->contains(key) || (*gen)[key].is_null()) return;
        if (!(*gen)[key].is_number()) throw Error(gen_path.string() + ": field " + key + " must be a number");
        out = (*gen)[key].get<std::remove_reference_t<decltype(out)>>();
      };
      number("temperature", d.sampling.temperature);
      number("top_k", d.sampling.top_k);
      number("top_p", d.sampling.top_p);
      number("bos_token_id", d.bos_token_id);
      if (gen->contains("do_sample") && (*gen)["do_sample"] == false) d.sampling.temperature = 0.0f;
    }
    return d;
  }
};

// A checkpoint folder opened for generation: config.json + safetensors, the tokenizer
// (tokenizer.json or tokenizer.model), generation_config.json.
struct ChatModel {
  std::string name;  // the folder's name, reported as the model id
  Model model;
  std::optional<VisionModel> vision;  // checkpoints with a vision_config
  std::unique_ptr<Tokenizer> tokenizer;
  GenerationDefaults defaults;
  Kernels kernels;

  static ChatModel load(const std::filesystem::path& dir, Backend backend = Backend::kHighway) {
    ChatModel m;
    std::filesystem::path clean = dir.lexically_normal();
    if (clean.filename().empty()) clean = clean.parent_path();
    m.name = clean.filename().string();
    m.model = Model::load(dir.string());
    if (!m.model.config.vision_config.is_null())
      m.vision = VisionModel::from_source(m.model.config, *CheckpointSource::open(dir.string()));
    m.tokenizer = load_tokenizer(dir);
    m.defaults = GenerationDefaults::load(dir);
    m.kernels = select_kernels(backend);
    return m;
  }

  // The chat template applied to a conversation, ending with the generation prompt.
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                     bool enable_thinking) const {
    ChatTemplateOptions o;
    o.add_generation_prompt = true;
    o.enable_thinking = enable_thinking;
    return render_chat_template(messages, tools, o);
  }

  // Text with the special tokens the template wrote (<bos>, <|turn>, ...) to ids.
  std::vector<TokenId> encode_prompt(std::string_view text) const {
    EncodeOptions o;
    o.parse_special = true;
    o.add_special_tokens = false;
    return tokenizer->encode(text, o);
  }

  // A raw (template-free) prompt: its ids, with <bos> put in front when missing — Gemma without
  // BOS degenerates (runtime-bugs.md C11).
  std::vector<TokenId> encode_raw(std::string_view text) const {
    std::vector<TokenId> ids = encode_prompt(text);
    if (ids.empty() || ids.front() != defaults.bos_token_id) ids.insert(ids.begin(), defaults.bos_token_id);
    return ids;
  }

  GenerateOptions options(const SamplingParams& sampling, int max_new_tokens) const {
    GenerateOptions o;
    o.sampling = sampling;
    o.max_new_tokens = max_new_tokens;
    o.stop = defaults.stop;
    return o;
  }

  GenerationResult generate(std::span<const TokenId> prompt, const GenerateOptions& options,
                            const TokenCallback& on_token = {}) const {
    return gemma4::generate(model, kernels, prompt, options, on_token);
  }
};

}  // namespace gemma4
