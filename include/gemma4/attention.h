// Self-attention of one layer (Gemma4TextAttention), for S new tokens.
//
//   q = rope(q_norm(q_proj(x)))                       per head RMSNorm(D) with weight, then RoPE
//   k = rope(k_norm(k_proj(x)))
//   v = v_norm(v_proj(x))                             weight-free RMSNorm, no RoPE
//   K=V (full layers of 31B/26B-A4B): no v_proj; v = v_norm(k_proj(x)) — the RAW projection,
//     not the normed/roped key.
//   out = o_proj( softmax(q·kᵀ · 1.0 + mask) · v )   scale 1.0: QK-norm replaces 1/√D; GQA
// Head dim, KV heads and RoPE depend on the layer type (config.h, "dual-config attention").
#pragma once

#include <algorithm>
#include <cstring>

#include "gemma4/activations.h"
#include "gemma4/config.h"
#include "gemma4/kv_cache.h"
#include "gemma4/kv_sharing.h"
#include "gemma4/mask.h"
#include "gemma4/ops.h"
#include "gemma4/trace.h"
#include "gemma4/weights.h"

namespace gemma4 {

// a.normed [S, H] -> a.branch [S, H] (the attention output after o_proj).
inline void self_attention(const TextConfig& c, int layer, const LayerWeights& w, Activations& a, KVCache& cache,
                           const MaskRule& mask_rule, const Kernels& k, const Trace& trace) {
  const LayerSpec& spec = c.layers[size_t(layer)];
  const int64_t S = a.tokens, D = spec.head_dim, Hq = c.num_attention_heads, Hkv = spec.num_kv_heads;
  const float eps = float(c.rms_norm_eps);
  const RopeTable& rope = a.rope[int(spec.type)];

  // Queries.
  ops::matmul(k, a.normed.data(), size_t(S), w.q_proj, a.q.data());
  trace("Qcur", layer, a.q.data(), {S, Hq * D});
  ops::rmsnorm(k, a.q.data(), size_t(S * Hq), w.q_norm, eps, a.q.data());
  trace("Qcur_normed", layer, a.q.data(), {S, Hq, D});
  k.rope(a.q.data(), size_t(S), size_t(Hq), size_t(D), rope.cos.data(), rope.sin.data());
  trace("Qcur_pos", layer, a.q.data(), {S, Hq, D});

  // Keys and values: computed and cached here, or read from the source layer (KV sharing).
  KeySet keys;
  if (spec.kv_shared) {
    keys = shared_kv_for(spec, layer, a);
  } else {
    ops::matmul(k, a.normed.data(), size_t(S), w.k_proj, a.k.data());
    trace("Kcur", layer, a.k.data(), {S, Hkv * D});
    if (spec.k_eq_v) std::copy(a.k.begin(), a.k.begin() + S * Hkv * D, a.v.begin());  // K=V: raw k_proj
    else ops::matmul(k, a.normed.data(), size_t(S), w.v_proj, a.v.data());
    trace("Vcur", layer, a.v.data(), {S, Hkv * D});
    ops::rmsnorm(k, a.k.data(), size_t(S * Hkv), w.k_norm, eps, a.k.data());
    trace("Kcur_normed", layer, a.k.data(), {S, Hkv, D});
    ops::rmsnorm_noscale(k, a.v.data(), size_t(S * Hkv), size_t(D), eps, a.v.data());
    trace("Vcur_normed", layer, a.v.data(), {S, Hkv, D});
    k.rope(a.k.data(), size_t(S), size_t(Hkv), size_t(D), rope.cos.data(), rope.sin.data());
    trace("Kcur_pos", layer, a.k.data(), {S, Hkv, D});
    const int t = int(spec.type);
    keys = cache.layer(layer).append(a.k.data(), a.v.data(), a.positions.data(), int(S), a.gather_k[t],
                                     a.gather_v[t], a.gather_pos[t]);
    publish_shared_kv(spec, keys, a);
  }

  // softmax(q·kᵀ + mask)·v over the visible keys.
  build_mask(mask_rule, a.positions.data(), size_t(S), keys.pos, size_t(keys.n), a.mask);
  AttentionArgs args;
  args.q = a.q.data();
  args.k = keys.k;
  args.v = keys.v;
  args.mask = a.mask.data();
  args.out = a.attn.data();
  args.num_queries = int(S);
  args.num_keys = keys.n;
  args.num_q_heads = int(Hq);
  args.num_kv_heads = int(Hkv);
  args.head_dim = int(D);
  args.scale = 1.0f;
  if (trace.enabled()) {
    a.attn_probs.resize(size_t(Hq * S) * size_t(keys.n));
    args.probs = a.attn_probs.data();
  }
  k.attention(args);
  if (trace.enabled()) trace("kq_soft_max", layer, a.attn_probs.data(), {Hq, S, int64_t(keys.n)});
  trace("kqv_out", layer, a.attn.data(), {S, Hq * D});

  ops::matmul(k, a.attn.data(), size_t(S), w.o_proj, a.branch.data());
  trace("attn_proj", layer, a.branch.data(), {S, int64_t(c.hidden_size)});
}

}  // namespace gemma4
