// Per-Layer Embeddings (PLE, E2B/E4B): a second, per-layer input stream of width P = 256.
//
// Once per forward pass, before the layers:
//   selected = Eple[ids] · √P                                    -> [S, L, P]  (token identity)
//   proj     = rmsnorm_P( (Wplp · x0) · H^-0.5 )                 -> [S, L, P]  (context, from x0)
//   ple      = (proj + selected) · 2^-0.5
// Inside layer l, after the FFN residual:
//   h += post_per_layer_input_norm( Wproj_l · (gelu_tanh(Wgate_l · h) ⊙ ple[:, l, :]) )
#pragma once

#include <cmath>

#include "gemma4/activations.h"
#include "gemma4/config.h"
#include "gemma4/embedding.h"
#include "gemma4/ops.h"
#include "gemma4/trace.h"
#include "gemma4/weights.h"

namespace gemma4 {

inline void per_layer_inputs(const TextConfig& c, const TextWeights& w, const int* ids, Activations& a,
                             const Kernels& k, const Trace& trace) {
  const size_t S = size_t(a.tokens), L = size_t(c.num_hidden_layers), P = size_t(c.hidden_size_per_layer_input);
  const size_t n = S * L * P;
  const Weight& table = w.embed_tokens_per_layer;
  embed_rows(table, ids, S, embedding_scale(int(P), w.embed_tokens_per_layer_file_dtype), a.ple_selected.data());
  trace("inp_per_layer_selected", -1, a.ple_selected.data(), {int64_t(S), int64_t(L), int64_t(P)});

  ops::matmul(k, a.x.data(), S, w.per_layer_model_projection, a.ple.data());
  ops::scale(a.ple.data(), n, float(1.0 / std::sqrt(double(c.hidden_size))));
  ops::rmsnorm(k, a.ple.data(), S * L, w.per_layer_projection_norm, float(c.rms_norm_eps), a.ple.data());
  trace("per_layer_proj", -1, a.ple.data(), {int64_t(S), int64_t(L), int64_t(P)});

  const float half_sqrt2 = float(1.0 / std::sqrt(2.0));
  for (size_t i = 0; i < n; ++i) a.ple[i] = (a.ple[i] + a.ple_selected[i]) * half_sqrt2;
  trace("inp_per_layer", -1, a.ple.data(), {int64_t(S), int64_t(L), int64_t(P)});
}

// h += post_per_layer_input_norm(per_layer_projection(gelu(per_layer_input_gate(h)) ⊙ ple_l))
inline void per_layer_embedding_block(const TextConfig& c, int layer, const LayerWeights& w, Activations& a,
                                      const Kernels& k, const Trace& trace) {
  const size_t S = size_t(a.tokens), H = size_t(c.hidden_size), P = size_t(c.hidden_size_per_layer_input);
  const size_t L = size_t(c.num_hidden_layers);
  ops::matmul(k, a.x.data(), S, w.per_layer_input_gate, a.ple_gate.data());
  k.gelu_tanh(a.ple_gate.data(), S * P);
  for (size_t t = 0; t < S; ++t)
    for (size_t j = 0; j < P; ++j) a.ple_gate[t * P + j] *= a.ple[(t * L + size_t(layer)) * P + j];
  ops::matmul(k, a.ple_gate.data(), S, w.per_layer_projection, a.branch.data());
  ops::rmsnorm(k, a.branch.data(), S, w.post_per_layer_input_norm, float(c.rms_norm_eps), a.branch.data());
  trace("per_layer_embd_out", layer, a.branch.data(), {int64_t(S), int64_t(H)});
  ops::add(a.x.data(), a.branch.data(), a.x.data(), S * H);
}

}  // namespace gemma4
