// One decoder layer (Gemma4TextDecoderLayer): attention, feed-forward (dense, or dense ∥ MoE),
// per-layer embedding, layer scalar — each a sandwich of pre-norm, op, post-norm, residual add.
#pragma once

#include "gemma4/activations.h"
#include "gemma4/attention.h"
#include "gemma4/config.h"
#include "gemma4/kv_cache.h"
#include "gemma4/mlp.h"
#include "gemma4/moe.h"
#include "gemma4/ops.h"
#include "gemma4/ple.h"
#include "gemma4/trace.h"
#include "gemma4/weights.h"

namespace gemma4 {

inline void decoder_layer(const TextConfig& c, int i, const LayerWeights& w, Activations& a, KVCache& cache,
                          const MaskRule& mask, const Kernels& k, const Trace& trace) {
  const size_t S = size_t(a.tokens), H = size_t(c.hidden_size);
  const float eps = float(c.rms_norm_eps);
  const std::vector<int64_t> shape{int64_t(S), int64_t(H)};

  // h = h + post_attention_norm( attention( input_norm(h) ) )
  ops::rmsnorm(k, a.x.data(), S, w.input_layernorm, eps, a.normed.data());
  trace("attn_norm", i, a.normed.data(), shape);
  self_attention(c, i, w, a, cache, mask, k, trace);  // a.normed -> a.branch
  ops::rmsnorm(k, a.branch.data(), S, w.post_attention_layernorm, eps, a.branch.data());
  trace("attn_post_norm", i, a.branch.data(), shape);
  ops::add(a.x.data(), a.branch.data(), a.x.data(), S * H);
  trace("attn_out", i, a.x.data(), shape);

  // h = h + post_ffn_norm( mlp( pre_ffn_norm(h) ) )            [26B-A4B: mlp ∥ MoE, moe.h]
  if (c.enable_moe_block) {
    parallel_dense_and_moe(c, i, w, a, k, trace);  // a.x -> a.branch
  } else {
    ops::rmsnorm(k, a.x.data(), S, w.pre_feedforward_layernorm, eps, a.normed.data());
    trace("ffn_norm", i, a.normed.data(), shape);
    gated_mlp(w, a.normed.data(), S, a, a.branch.data(), k, trace, i);
  }
  ops::rmsnorm(k, a.branch.data(), S, w.post_feedforward_layernorm, eps, a.branch.data());
  trace("ffn_post_norm", i, a.branch.data(), shape);
  ops::add(a.x.data(), a.branch.data(), a.x.data(), S * H);
  trace("ffn_residual", i, a.x.data(), shape);

  // h = h + post_ple_norm( ple_proj( gelu(ple_gate(h)) ⊙ ple[:, i] ) )      [E2B/E4B, ple.h]
  if (c.has_ple()) per_layer_embedding_block(c, i, w, a, k, trace);

  // h = h · layer_scalar
  ops::scale(a.x.data(), S * H, w.layer_scalar);
  trace("l_out", i, a.x.data(), shape);
}

}  // namespace gemma4
