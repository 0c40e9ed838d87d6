// Every buffer a forward pass writes, in one place (gemma.cpp's Activations): sized once for the
// largest layer and the number of tokens of the call, reused by every layer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gemma4/config.h"
#include "gemma4/kv_cache.h"
#include "gemma4/mask.h"
#include "gemma4/rope.h"

namespace gemma4 {

struct Activations {
  int tokens = 0;
  std::vector<int> positions;   // [S] absolute positions of the new tokens

  std::vector<float> x;         // [S, H] the residual stream
  std::vector<float> normed;    // [S, H] input of the current sub-block (after its pre-norm)
  std::vector<float> branch;    // [S, H] output of the current sub-block (before/after its post-norm)
  std::vector<float> branch2;   // [S, H] second branch (MoE) / post-normed output

  // attention
  std::vector<float> q;         // [S, Hq·D]
  std::vector<float> k, v;      // [S, Hkv·D] of the new tokens
  std::vector<float> attn;      // [S, Hq·D] attention output before o_proj
  std::vector<float> attn_probs;  // [Hq, S, T] (only when tracing)
  std::vector<uint8_t> mask;    // [S, T]
  RopeTable rope[2];            // per layer type (index: LayerType)
  KeySet shared_kv[2];          // per layer type: the keys of the layer KV-shared layers read
  std::vector<float> gather_k[2], gather_v[2];  // sliding keys gathered for attention (per type)
  std::vector<int> gather_pos[2];

  // feed-forward
  std::vector<float> gate, up, hidden;  // [S, I]
  std::vector<float> ffn_out;           // [S, H]

  // MoE
  std::vector<float> router_in;         // [S, H]
  std::vector<float> router_logits;     // [S, E]
  std::vector<float> router_probs;      // [S, E]
  std::vector<int32_t> topk_index;      // [S, k]
  std::vector<float> topk_weight;       // [S, k]
  std::vector<float> moe_in, moe_out;   // [S, H]
  std::vector<float> expert_x, expert_gate_up, expert_hidden, expert_y;  // tokens routed to one expert

  // per-layer embeddings
  std::vector<float> ple_selected;      // [S, L, P] token-identity part
  std::vector<float> ple;               // [S, L, P] combined per-layer inputs
  std::vector<float> ple_gate;          // [S, P]

  std::vector<float> logits;            // [rows, V]

  void resize(const TextConfig& c, int num_tokens) {
    tokens = num_tokens;
    const size_t S = size_t(num_tokens), H = size_t(c.hidden_size);
    size_t qd = 0, kvd = 0, inter = 0;
    for (const LayerSpec& l : c.layers) {
      qd = std::max(qd, size_t(c.num_attention_heads) * size_t(l.head_dim));
      kvd = std::max(kvd, size_t(l.num_kv_heads) * size_t(l.head_dim));
      inter = std::max(inter, size_t(l.intermediate_size));
    }
    positions.resize(S);
    for (auto* b : {&x, &normed, &branch, &branch2, &ffn_out}) b->resize(S * H);
    q.resize(S * qd);
    attn.resize(S * qd);
    k.resize(S * kvd);
    v.resize(S * kvd);
    for (auto* b : {&gate, &up, &hidden}) b->resize(S * inter);
    if (c.enable_moe_block) {
      const size_t E = size_t(c.num_experts), K = size_t(c.top_k_experts), Im = size_t(c.moe_intermediate_size);
      router_in.resize(S * H);
      router_logits.resize(S * E);
      router_probs.resize(S * E);
      topk_index.resize(S * K);
      topk_weight.resize(S * K);
      moe_in.resize(S * H);
      moe_out.resize(S * H);
      expert_x.resize(S * H);
      expert_gate_up.resize(S * 2 * Im);
      expert_hidden.resize(S * Im);
      expert_y.resize(S * H);
    }
    if (c.has_ple()) {
      const size_t LP = size_t(c.num_hidden_layers) * size_t(c.hidden_size_per_layer_input);
      ple_selected.resize(S * LP);
      ple.resize(S * LP);
      ple_gate.resize(S * size_t(c.hidden_size_per_layer_input));
    }
  }
};

}  // namespace gemma4
