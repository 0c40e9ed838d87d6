// The parallel MoE block of 26B-A4B: a dense GeGLU FFN and a sparse mixture of experts run side
// by side on the same residual r (the stream after the attention residual add):
//
//   dense  = post_ffn_norm_1( mlp( pre_ffn_norm(r) ) )
//   router: z = rmsnorm_noscale(r) · router.scale · H^-0.5;  p = softmax(Wr·z) (fp32, all E experts)
//           top-k of p (AFTER the softmax), renormalised to sum 1, times per_expert_scale[e]
//   moe    = post_ffn_norm_2( Σ_e w_e · down_e( gelu_tanh(gate_e(x2)) ⊙ up_e(x2) ) ),  x2 = pre_ffn_norm_2(r)
//   branch = dense + moe          (then the layer's post_feedforward_layernorm and residual add)
//
// Note the router reads r itself, not the pre-FFN-normed tensor. Experts are summed in ascending
// expert index, as transformers' index_add_ loop does.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "gemma4/activations.h"
#include "gemma4/config.h"
#include "gemma4/mlp.h"
#include "gemma4/ops.h"
#include "gemma4/trace.h"
#include "gemma4/weights.h"

namespace gemma4 {

// Router: a.x (r) -> a.topk_index / a.topk_weight.
inline void moe_router(const TextConfig& c, int layer, const LayerWeights& w, Activations& a, const Kernels& k,
                       const Trace& trace) {
  const size_t S = size_t(a.tokens), H = size_t(c.hidden_size), E = size_t(c.num_experts);
  const size_t K = size_t(c.top_k_experts);
  ops::rmsnorm_noscale(k, a.x.data(), S, H, float(c.rms_norm_eps), a.router_in.data());
  const float root = float(1.0 / std::sqrt(double(H)));
  for (size_t t = 0; t < S; ++t)
    for (size_t j = 0; j < H; ++j) a.router_in[t * H + j] = (a.router_in[t * H + j] * w.router_scale.f32()[j]) * root;
  ops::matmul(k, a.router_in.data(), S, w.router_proj, a.router_logits.data());
  trace("ffn_moe_logits", layer, a.router_logits.data(), {int64_t(S), int64_t(E)});
  std::copy(a.router_logits.begin(), a.router_logits.begin() + S * E, a.router_probs.begin());
  for (size_t t = 0; t < S; ++t) k.softmax(&a.router_probs[t * E], E);
  trace("ffn_moe_probs", layer, a.router_probs.data(), {int64_t(S), int64_t(E)});

  std::vector<int32_t> order(E);
  for (size_t t = 0; t < S; ++t) {
    const float* p = &a.router_probs[t * E];
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + K, order.end(),
                      [&](int32_t x, int32_t y) { return p[x] > p[y] || (p[x] == p[y] && x < y); });
    float sum = 0.0f;
    for (size_t j = 0; j < K; ++j) sum += p[order[j]];
    for (size_t j = 0; j < K; ++j) {
      a.topk_index[t * K + j] = order[j];
      a.topk_weight[t * K + j] = (p[order[j]] / sum) * w.router_per_expert_scale.f32()[order[j]];
    }
  }
  trace("ffn_moe_topk", layer, a.topk_index.data(), {int64_t(S), int64_t(K)});
  trace("ffn_moe_weights", layer, a.topk_weight.data(), {int64_t(S), int64_t(K)});
}

// Experts: a.moe_in (x2) -> a.moe_out. Tokens routed to one expert go through it as one matmul.
inline void moe_experts(const TextConfig& c, const LayerWeights& w, Activations& a, const Kernels& k) {
  const size_t S = size_t(a.tokens), H = size_t(c.hidden_size), K = size_t(c.top_k_experts);
  const size_t Im = size_t(c.moe_intermediate_size);
  std::fill(a.moe_out.begin(), a.moe_out.begin() + S * H, 0.0f);
  std::vector<size_t> tokens;
  std::vector<float> weights;
  for (int e = 0; e < c.num_experts; ++e) {
    tokens.clear();
    weights.clear();
    for (size_t t = 0; t < S; ++t)
      for (size_t j = 0; j < K; ++j)
        if (a.topk_index[t * K + j] == e) {
          tokens.push_back(t);
          weights.push_back(a.topk_weight[t * K + j]);
        }
    if (tokens.empty()) continue;
    const size_t n = tokens.size();
    for (size_t r = 0; r < n; ++r) std::copy_n(&a.moe_in[tokens[r] * H], H, &a.expert_x[r * H]);
    ops::matmul_expert(k, a.expert_x.data(), n, w.experts_gate_up, e, a.expert_gate_up.data());  // [n, 2·Im]
    for (size_t r = 0; r < n; ++r)
      k.geglu(&a.expert_gate_up[r * 2 * Im], &a.expert_gate_up[r * 2 * Im + Im], &a.expert_hidden[r * Im], Im);
    ops::matmul_expert(k, a.expert_hidden.data(), n, w.experts_down, e, a.expert_y.data());  // [n, H]
    for (size_t r = 0; r < n; ++r)
      for (size_t j = 0; j < H; ++j) a.moe_out[tokens[r] * H + j] += a.expert_y[r * H + j] * weights[r];
  }
}

// The whole parallel block: a.x (r) -> a.branch (dense + moe, before post_feedforward_layernorm).
inline void parallel_dense_and_moe(const TextConfig& c, int layer, const LayerWeights& w, Activations& a,
                                   const Kernels& k, const Trace& trace) {
  const size_t S = size_t(a.tokens), H = size_t(c.hidden_size);
  const float eps = float(c.rms_norm_eps);
  const std::vector<int64_t> shape{int64_t(S), int64_t(H)};
  // Dense branch.
  ops::rmsnorm(k, a.x.data(), S, w.pre_feedforward_layernorm, eps, a.normed.data());
  trace("ffn_norm_1", layer, a.normed.data(), shape);
  gated_mlp(w, a.normed.data(), S, a, a.ffn_out.data(), k, trace, layer);
  ops::rmsnorm(k, a.ffn_out.data(), S, w.post_feedforward_layernorm_1, eps, a.branch.data());
  trace("ffn_mlp", layer, a.branch.data(), shape);
  // Sparse branch.
  moe_router(c, layer, w, a, k, trace);
  ops::rmsnorm(k, a.x.data(), S, w.pre_feedforward_layernorm_2, eps, a.moe_in.data());
  trace("ffn_norm_2", layer, a.moe_in.data(), shape);
  moe_experts(c, w, a, k);
  trace("ffn_moe_out", layer, a.moe_out.data(), shape);
  ops::rmsnorm(k, a.moe_out.data(), S, w.post_feedforward_layernorm_2, eps, a.branch2.data());
  trace("ffn_moe", layer, a.branch2.data(), shape);
  ops::add(a.branch.data(), a.branch2.data(), a.branch.data(), S * H);
  trace("ffn_moe_combined", layer, a.branch.data(), shape);
}

}  // namespace gemma4
