// The Gemma 4 text model: config + weights, and the forward pass over new tokens through a KV
// cache (prefill: many tokens; decode: one). Pseudocode of what forward() does:
//
//   x0 = E[ids] · √H                                     (embedding.h)
//   ple = per-layer inputs from ids and x0               (ple.h, E2B/E4B)
//   for each layer: x = decoder_layer(x)                 (decoder_layer.h)
//   logits = 30 · tanh( (norm(x) · Eᵀ) / 30 )           (tied LM head, final soft-cap)
#pragma once

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gemma4/activations.h"
#include "gemma4/config.h"
#include "gemma4/decoder_layer.h"
#include "gemma4/embedding.h"
#include "gemma4/kernels.h"
#include "gemma4/kv_cache.h"
#include "gemma4/mask.h"
#include "gemma4/ops.h"
#include "gemma4/ple.h"
#include "gemma4/rope.h"
#include "gemma4/trace.h"
#include "gemma4/weight_source.h"
#include "gemma4/weights.h"

namespace gemma4 {

struct Model {
  ModelConfig config;
  TextWeights weights;
  // Streaming mode (models larger than memory, e.g. real-width synthetic ones): weights.layers is
  // empty and each layer is bound from `layer_source` just before it runs, then dropped.
  std::shared_ptr<const WeightSource> layer_source;

  const TextConfig& text() const { return config.text; }

  // Layer i's weights: the bound ones, or freshly bound into `storage` when streaming.
  const LayerWeights& layer(int i, LayerWeights& storage) const {
    if (!layer_source) return weights.layers[size_t(i)];
    storage = bind_layer_weights(config.text, *layer_source, weights.prefix, i);
    return storage;
  }

  static Model streaming(ModelConfig config, std::shared_ptr<const WeightSource> source) {
    Model m;
    m.config = std::move(config);
    m.weights = bind_text_weights(m.config.text, *source, /*bind_layers=*/false);
    m.layer_source = std::move(source);
    return m;
  }

  // Binds the text weights of `source` to `config` (shapes checked, names per HF).
  static Model from_source(ModelConfig config, const WeightSource& source) {
    Model m;
    m.config = std::move(config);
    m.weights = bind_text_weights(m.config.text, source);
    return m;
  }

  // A Hugging Face checkpoint directory: config.json + model.safetensors (or sharded + index).
  static Model load(const std::string& dir) {
    const std::string cfg = (std::filesystem::path(dir) / "config.json").string();
    auto source = CheckpointSource::open(dir);
    return from_source(load_model_config(cfg), *source);
  }
};

struct ForwardOptions {
  bool all_logits = true;  // logits for every new token (prefill goldens), or only the last one
  // Vision block id per absolute position (mask.h); null: causal text. Only for the first forward
  // over an image, and only used by models with use_bidirectional_attention = "vision".
  const std::vector<int>* vision_blocks = nullptr;
  // Contrast only (the golden `result_output_block_both`): also lift causality inside vision blocks
  // on full layers, as Gemma 3 did. Gemma 4 never does this.
  bool vision_blocks_on_full_layers = false;
  // Media soft tokens (multimodal.h), over the n new tokens: where media_rows[t] is 1 the token's
  // embedding is media_embeddings[t·H ..] (a tower output, not scaled by √H) and its id counts as
  // <pad> for the embedding lookup and the per-layer embeddings, as Gemma4Model.forward does.
  const uint8_t* media_rows = nullptr;
  const float* media_embeddings = nullptr;
};

// Runs `n` new tokens (positions cache.num_tokens() ...) through the model and appends them to
// the cache. Fills a.logits with [n or 1, vocab] soft-capped logits.
inline void forward(const Model& m, const int* tokens, size_t n, KVCache& cache, Activations& a,
                    const Kernels& k, const Trace& trace = {}, const ForwardOptions& opt = {}) {
  const TextConfig& c = m.text();
  const TextWeights& w = m.weights;
  const size_t H = size_t(c.hidden_size), V = size_t(c.vocab_size);
  const int64_t S = int64_t(n);
  if (n == 0) fail("gemma4::forward", "called with no tokens");
  a.resize(c, int(n));
  for (size_t t = 0; t < n; ++t) a.positions[t] = cache.num_tokens() + int(t);
  trace("inp_pos", -1, reinterpret_cast<const int32_t*>(a.positions.data()), {S});

  // Embeddings; media placeholders look up <pad>, then take their soft tokens.
  std::vector<int> padded_ids;
  if (opt.media_rows) {
    if (!opt.media_embeddings) fail("gemma4::forward", "media_rows given without media_embeddings");
    padded_ids.assign(tokens, tokens + n);
    for (size_t t = 0; t < n; ++t)
      if (opt.media_rows[t]) padded_ids[t] = c.pad_token_id;
    tokens = padded_ids.data();
  }
  embed_rows(w.embed_tokens, tokens, n, embedding_scale(c.hidden_size, w.embed_tokens_file_dtype), a.x.data());
  if (opt.media_rows)
    for (size_t t = 0; t < n; ++t)
      if (opt.media_rows[t]) std::copy(opt.media_embeddings + t * H, opt.media_embeddings + (t + 1) * H, a.x.data() + t * H);
  trace("inp_scaled", -1, a.x.data(), {S, int64_t(H)});
  if (c.has_ple()) per_layer_inputs(c, w, tokens, a, k, trace);

  // RoPE tables and mask rules, once per layer type.
  MaskRule rules[2];
  for (LayerType t : {LayerType::kSliding, LayerType::kFull}) {
    int dim = 0;
    for (const LayerSpec& l : c.layers)
      if (l.type == t) dim = l.head_dim;
    if (dim > 0) a.rope[int(t)].compute(c.rope(t), dim, a.positions.data(), n);
    rules[int(t)].type = t;
    rules[int(t)].window = c.sliding_window;
    rules[int(t)].blocks = c.use_bidirectional_attention == "vision" ? opt.vision_blocks : nullptr;
    rules[int(t)].blocks_on_full = opt.vision_blocks_on_full_layers;
  }
  a.shared_kv[0] = a.shared_kv[1] = KeySet{};

  for (int i = 0; i < c.num_hidden_layers; ++i) {
    LayerWeights streamed;
    decoder_layer(c, i, m.layer(i, streamed), a, cache, rules[int(c.layers[size_t(i)].type)], k, trace);
  }
  cache.advance(int(n));

  // Final norm, tied LM head, soft-cap.
  ops::rmsnorm(k, a.x.data(), n, w.norm, float(c.rms_norm_eps), a.normed.data());
  trace("result_norm", -1, a.normed.data(), {S, int64_t(H)});
  const size_t rows = opt.all_logits ? n : 1;
  const float* last = a.normed.data() + (n - rows) * H;
  a.logits.resize(rows * V);
  ops::matmul(k, last, rows, w.output_matrix(), a.logits.data());
  trace("result_output_uncapped", -1, a.logits.data(), {int64_t(rows), int64_t(V)});
  if (c.final_logit_softcapping) k.softcap(a.logits.data(), rows * V, float(*c.final_logit_softcapping));
  trace("result_output", -1, a.logits.data(), {int64_t(rows), int64_t(V)});
}

inline int argmax(const float* x, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return int(best);
}

// Greedy decoding: prefill the prompt, then one token at a time until `max_new` tokens or a stop
// id. `step_logits` (optional) receives each step's logits [vocab].
// `prefill` carries the prompt's media (its all_logits is ignored).
inline std::vector<int> generate_greedy(const Model& m, const std::vector<int>& prompt, int max_new,
                                        const std::vector<int>& stop_ids, const Kernels& k,
                                        std::vector<std::vector<float>>* step_logits = nullptr,
                                        ForwardOptions prefill = {}) {
  KVCache cache(m.text());
  Activations a;
  ForwardOptions last_only;
  last_only.all_logits = false;
  prefill.all_logits = false;
  const size_t V = size_t(m.text().vocab_size);
  forward(m, prompt.data(), prompt.size(), cache, a, k, {}, prefill);
  std::vector<int> out;
  for (int step = 0; step < max_new; ++step) {
    if (step_logits) step_logits->emplace_back(a.logits.begin(), a.logits.begin() + long(V));
    const int next = argmax(a.logits.data(), V);
    out.push_back(next);
    if (std::find(stop_ids.begin(), stop_ids.end(), next) != stop_ids.end()) break;
    if (step + 1 < max_new) forward(m, &next, 1, cache, a, k, {}, last_only);
  }
  return out;
}

}  // namespace gemma4
