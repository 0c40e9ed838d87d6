// The Gemma 4 vision tower (Gemma4VisionModel) and its projection into the language model
// (Gemma4MultimodalEmbedder, `embed_vision`): patches of one image -> soft tokens that replace the
// image's <|image|> placeholders. Pseudocode (P patch slots, Hv tower width):
//
//   x  = input_proj(2·(pixels − 0.5)) + T[0][pos.x] + T[1][pos.y]   (position term 0 on padding)
//   for each encoder layer:                      (bidirectional; padding slots are masked as keys)
//     h = input_layernorm(x)
//     q, k, v = q_proj(h), k_proj(h), v_proj(h)  (clippable linears: clamp input and output)
//     q, k = rope2d(q_norm(q)), rope2d(k_norm(k));  v = v_norm(v)   (v_norm has no scale)
//     x = x + post_attention_layernorm(o_proj(softmax(q·kᵀ·1.0 + mask)·v))
//     x = x + post_feedforward_layernorm(down(gelu_tanh(gate(h')) · up(h'))), h' = pre_ff_norm(x)
//   pooled[s] = √Hv · mean of the 3×3 patch block s        (padding patches count as 0)
//   out = pooled[valid slots];  large tower: out = (out − std_bias) · std_scale
//   soft_tokens = embedding_projection(rmsnorm_noscale(out))   -> [M, H_text]
//
// 2D RoPE ("axial", θ = 100): inv_freq[i] = θ^(−2i/(D/2)) for i < D/4; the first D/2 channels of
// a head rotate by the patch column x, the last D/2 by the row y, each half with rotate_half
// pairs (j, j + D/4). Padding slots keep their position (−1, −1) here, as in the reference.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gemma4/clippable_linear.h"
#include "gemma4/config.h"
#include "gemma4/error.h"
#include "gemma4/kernels.h"
#include "gemma4/ops.h"
#include "gemma4/tensor.h"
#include "gemma4/trace.h"
#include "gemma4/weight_source.h"
#include "gemma4/weights.h"

namespace gemma4 {

struct VisionConfig {
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int head_dim = 0;
  double rms_norm_eps = 1e-6;
  int patch_size = 16;
  int pooling_kernel_size = 3;
  int position_embedding_size = 10240;
  bool use_clipped_linears = false;  // the on-device (E2B/E4B) tower
  bool standardize = false;          // the large (26B-A4B/31B) tower
  double rope_theta = 100.0;
};

// Parses `vision_config` of a Gemma4Config; errors name "<file>: field vision_config.<key>".
inline VisionConfig parse_vision_config(const nlohmann::json& j, const std::string& file) {
  const std::string prefix = "vision_config.";
  if (!j.is_object()) fail(file + ": field vision_config", "expected an object");
  detail::FieldReader r(j, file, prefix);
  VisionConfig c;
  c.hidden_size = r.required_int("hidden_size");
  c.intermediate_size = r.required_int("intermediate_size");
  c.num_hidden_layers = r.required_int("num_hidden_layers");
  c.num_attention_heads = r.required_int("num_attention_heads");
  c.num_key_value_heads = r.int_or("num_key_value_heads", c.num_attention_heads);
  c.head_dim = r.int_or("head_dim", c.num_attention_heads ? c.hidden_size / c.num_attention_heads : 0);
  c.rms_norm_eps = r.double_or("rms_norm_eps", 1e-6);
  c.patch_size = r.int_or("patch_size", 16);
  c.pooling_kernel_size = r.int_or("pooling_kernel_size", 3);
  c.position_embedding_size = r.int_or("position_embedding_size", 10240);
  c.use_clipped_linears = r.bool_or("use_clipped_linears", false);
  c.standardize = r.bool_or("standardize", false);
  const std::string act = r.string_or("hidden_activation", "gelu_pytorch_tanh");
  if (act != "gelu_pytorch_tanh") fail(r.where("hidden_activation"), "unsupported \"" + act + "\" (supported: gelu_pytorch_tanh)");
  if (r.has("rope_parameters")) {
    const auto& rp = r.raw("rope_parameters");
    detail::FieldReader rr(rp, file, prefix + "rope_parameters.");
    const std::string type = rr.string_or("rope_type", "axial");
    if (type != "axial") fail(rr.where("rope_type"), "unsupported \"" + type + "\" (supported: axial)");
    c.rope_theta = rr.double_or("rope_theta", 100.0);
  }
  if (c.num_attention_heads < 1 || c.num_key_value_heads < 1 || c.num_attention_heads % c.num_key_value_heads != 0)
    fail(r.where("num_key_value_heads"), "must divide num_attention_heads");
  if (c.head_dim % 4 != 0) fail(r.where("head_dim"), "must be a multiple of 4 (2D RoPE splits it in quarters)");
  if (c.pooling_kernel_size < 1) fail(r.where("pooling_kernel_size"), "must be positive");
  return c;
}

struct VisionLayerWeights {
  Weight input_layernorm, post_attention_layernorm, pre_feedforward_layernorm, post_feedforward_layernorm;
  ClippableLinear q_proj, k_proj, v_proj, o_proj;
  Weight q_norm, k_norm;
  ClippableLinear gate_proj, up_proj, down_proj;
};

struct VisionWeights {
  Weight input_proj;                // [Hv, 3·patch²]
  Weight position_embedding_table;  // [2, position_embedding_size, Hv]: x table, y table
  std::vector<VisionLayerWeights> layers;
  Weight std_bias, std_scale;       // standardize only
  Weight embedding_projection;      // embed_vision: [H_text, Hv]
};

struct VisionModel {
  VisionConfig config;
  int text_hidden_size = 0;
  VisionWeights weights;

  // Binds `model.vision_tower.*` and `model.embed_vision.*` of a Gemma4ForConditionalGeneration
  // checkpoint (or synthetic source). Fails, naming the config file, when it has no vision_config.
  static VisionModel from_source(const ModelConfig& mc, const WeightSource& src) {
    if (mc.vision_config.is_null()) fail(mc.path, "no vision_config: this checkpoint has no vision tower");
    VisionModel m;
    m.config = parse_vision_config(mc.vision_config, mc.path);
    m.text_hidden_size = mc.text.hidden_size;
    const VisionConfig& c = m.config;
    const int64_t Hv = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
    const int64_t Hq = c.num_attention_heads, Hkv = c.num_key_value_heads;
    const detail::Binder b(src, "model.vision_tower.");
    auto clippable = [&](const std::string& p, std::vector<int64_t> shape) {
      return bind_clippable_linear(b, p, std::move(shape), c.use_clipped_linears);
    };
    VisionWeights& w = m.weights;
    w.input_proj = b.matrix("patch_embedder.input_proj.weight", {Hv, 3 * int64_t(c.patch_size) * c.patch_size});
    w.position_embedding_table =
        b.vector("patch_embedder.position_embedding_table", {2, int64_t(c.position_embedding_size), Hv});
    for (int i = 0; i < c.num_hidden_layers; ++i) {
      const std::string p = "encoder.layers." + std::to_string(i) + ".";
      VisionLayerWeights l;
      l.input_layernorm = b.vector(p + "input_layernorm.weight", {Hv});
      l.post_attention_layernorm = b.vector(p + "post_attention_layernorm.weight", {Hv});
      l.pre_feedforward_layernorm = b.vector(p + "pre_feedforward_layernorm.weight", {Hv});
      l.post_feedforward_layernorm = b.vector(p + "post_feedforward_layernorm.weight", {Hv});
      l.q_proj = clippable(p + "self_attn.q_proj", {Hq * D, Hv});
      l.k_proj = clippable(p + "self_attn.k_proj", {Hkv * D, Hv});
      l.v_proj = clippable(p + "self_attn.v_proj", {Hkv * D, Hv});
      l.o_proj = clippable(p + "self_attn.o_proj", {Hv, Hq * D});
      l.q_norm = b.vector(p + "self_attn.q_norm.weight", {D});
      l.k_norm = b.vector(p + "self_attn.k_norm.weight", {D});
      l.gate_proj = clippable(p + "mlp.gate_proj", {I, Hv});
      l.up_proj = clippable(p + "mlp.up_proj", {I, Hv});
      l.down_proj = clippable(p + "mlp.down_proj", {Hv, I});
      w.layers.push_back(std::move(l));
    }
    if (c.standardize) {
      w.std_bias = b.vector("std_bias", {Hv});
      w.std_scale = b.vector("std_scale", {Hv});
    }
    const detail::Binder e(src, "model.embed_vision.");
    w.embedding_projection = e.matrix("embedding_projection.weight", {int64_t(m.text_hidden_size), Hv});
    return m;
  }
};

// The 2D RoPE tables of the patches: cos/sin [P, D/2] per axis, cat(freqs, freqs) layout.
struct VisionRope {
  int half = 0;                      // D/2 channels per axis
  std::vector<float> cos[2], sin[2];  // [0]: by x (first D/2 channels), [1]: by y

  void compute(const VisionConfig& c, const int32_t* pos_xy, size_t n) {
    half = c.head_dim / 2;
    const int quarter = half / 2;
    std::vector<float> inv(static_cast<size_t>(quarter));
    for (int i = 0; i < quarter; ++i) {  // float32 as PyTorch: 1 / θ^(float(2i) / (D/2))
      const float exponent = float(2 * i) / float(half);
      inv[size_t(i)] = 1.0f / float(std::pow(double(float(c.rope_theta)), double(exponent)));
    }
    for (int axis = 0; axis < 2; ++axis) {
      cos[axis].resize(n * size_t(half));
      sin[axis].resize(n * size_t(half));
      for (size_t p = 0; p < n; ++p)
        for (int i = 0; i < quarter; ++i) {
          const float angle = float(pos_xy[p * 2 + size_t(axis)]) * inv[size_t(i)];
          const float cv = float(std::cos(double(angle))), sv = float(std::sin(double(angle)));
          cos[axis][p * size_t(half) + size_t(i)] = cos[axis][p * size_t(half) + size_t(i + quarter)] = cv;
          sin[axis][p * size_t(half) + size_t(i)] = sin[axis][p * size_t(half) + size_t(i + quarter)] = sv;
        }
    }
  }

  // x [P, heads, D] in place: each half of every head rotated by its own axis.
  void apply(const Kernels& k, float* x, size_t n, size_t heads, std::vector<float>& scratch) const {
    const size_t D = size_t(2 * half), H2 = size_t(half);
    scratch.resize(n * heads * H2);
    for (int axis = 0; axis < 2; ++axis) {
      for (size_t r = 0; r < n * heads; ++r)
        std::copy(x + r * D + size_t(axis) * H2, x + r * D + size_t(axis + 1) * H2, scratch.data() + r * H2);
      k.rope(scratch.data(), n, heads, H2, cos[axis].data(), sin[axis].data());
      for (size_t r = 0; r < n * heads; ++r)
        std::copy(scratch.data() + r * H2, scratch.data() + (r + 1) * H2, x + r * D + size_t(axis) * H2);
    }
  }
};

// Runs the tower on one image's patch slots and returns its soft tokens [M, H_text] (M = pooled
// slots that hold patches). pixel_values [slots, 3·patch²], position ids [slots, 2] (x, y) with
// (−1, −1) on padding slots; slots must be a multiple of pooling².
inline std::vector<float> vision_forward(const VisionModel& m, const float* pixel_values, const int32_t* pos_xy,
                                         int slots, const Kernels& k, const Trace& trace = {},
                                         int* num_soft_tokens = nullptr) {
  const VisionConfig& c = m.config;
  const VisionWeights& w = m.weights;
  const int64_t P = slots, Hv = c.hidden_size, D = c.head_dim, I = c.intermediate_size;
  const int64_t Hq = c.num_attention_heads, Hkv = c.num_key_value_heads;
  const int64_t patch_dim = 3 * int64_t(c.patch_size) * c.patch_size;
  const int k2 = c.pooling_kernel_size * c.pooling_kernel_size;
  const float eps = float(c.rms_norm_eps);
  if (slots <= 0 || slots % k2 != 0)
    fail("vision tower", std::to_string(slots) + " patch slots is not a positive multiple of " + std::to_string(k2));
  std::vector<uint8_t> padding(static_cast<size_t>(P));
  for (int64_t p = 0; p < P; ++p) {
    padding[size_t(p)] = pos_xy[2 * p] == -1 && pos_xy[2 * p + 1] == -1;
    const int32_t x = pos_xy[2 * p], y = pos_xy[2 * p + 1];
    if (!padding[size_t(p)] && (x < 0 || y < 0 || x >= c.position_embedding_size || y >= c.position_embedding_size))
      fail("vision tower", "patch " + std::to_string(p) + " has position (" + std::to_string(x) + ", " +
                               std::to_string(y) + ") outside the " + std::to_string(c.position_embedding_size) +
                               "-entry position table");
  }

  // Patch embedding: input_proj(2·(pv − 0.5)) + learned x/y position embeddings.
  std::vector<float> scaled(size_t(P * patch_dim));
  for (size_t i = 0; i < scaled.size(); ++i) scaled[i] = 2.0f * (pixel_values[i] - 0.5f);
  std::vector<float> x(size_t(P * Hv)), pos_embd(size_t(P * Hv), 0.0f);
  ops::matmul(k, scaled.data(), size_t(P), w.input_proj, x.data());
  trace("v_patch_proj", -1, x.data(), {P, Hv});
  const float* table = w.position_embedding_table.f32();
  for (int64_t p = 0; p < P; ++p) {
    if (padding[size_t(p)]) continue;
    const float* tx = table + size_t(pos_xy[2 * p]) * size_t(Hv);
    const float* ty = table + (size_t(c.position_embedding_size) + size_t(pos_xy[2 * p + 1])) * size_t(Hv);
    for (int64_t j = 0; j < Hv; ++j) pos_embd[size_t(p * Hv + j)] = tx[j] + ty[j];
  }
  trace("v_pos_embd", -1, pos_embd.data(), {P, Hv});
  ops::add(x.data(), pos_embd.data(), x.data(), x.size());
  trace("v_inp", -1, x.data(), {P, Hv});

  // Bidirectional attention: every query sees every real patch, never a padding slot.
  std::vector<uint8_t> mask(size_t(P * P));
  for (int64_t q = 0; q < P; ++q)
    for (int64_t kv = 0; kv < P; ++kv) mask[size_t(q * P + kv)] = padding[size_t(kv)] ? 0 : 1;
  VisionRope rope;
  rope.compute(c, pos_xy, size_t(P));

  std::vector<float> h(size_t(P * Hv)), q(size_t(P * Hq * D)), kk(size_t(P * Hkv * D)), v(size_t(P * Hkv * D));
  std::vector<float> attn(size_t(P * Hq * D)), branch(size_t(P * Hv)), gate(size_t(P * I)), up(size_t(P * I));
  std::vector<float> scratch, rope_scratch;
  for (int li = 0; li < c.num_hidden_layers; ++li) {
    const VisionLayerWeights& l = w.layers[size_t(li)];
    ops::rmsnorm(k, x.data(), size_t(P), l.input_layernorm, eps, h.data());
    trace("v_attn_norm", li, h.data(), {P, Hv});
    l.q_proj.apply(k, h.data(), size_t(P), q.data(), scratch);
    trace("v_Qcur", li, q.data(), {P, Hq * D});
    ops::rmsnorm(k, q.data(), size_t(P * Hq), l.q_norm, eps, q.data());
    trace("v_Qcur_normed", li, q.data(), {P, Hq, D});
    rope.apply(k, q.data(), size_t(P), size_t(Hq), rope_scratch);
    trace("v_Qcur_pos", li, q.data(), {P, Hq, D});
    l.k_proj.apply(k, h.data(), size_t(P), kk.data(), scratch);
    trace("v_Kcur", li, kk.data(), {P, Hkv * D});
    ops::rmsnorm(k, kk.data(), size_t(P * Hkv), l.k_norm, eps, kk.data());
    trace("v_Kcur_normed", li, kk.data(), {P, Hkv, D});
    rope.apply(k, kk.data(), size_t(P), size_t(Hkv), rope_scratch);
    trace("v_Kcur_pos", li, kk.data(), {P, Hkv, D});
    l.v_proj.apply(k, h.data(), size_t(P), v.data(), scratch);
    trace("v_Vcur", li, v.data(), {P, Hkv * D});
    ops::rmsnorm_noscale(k, v.data(), size_t(P * Hkv), size_t(D), eps, v.data());
    trace("v_Vcur_normed", li, v.data(), {P, Hkv, D});

    AttentionArgs args;
    args.q = q.data();
    args.k = kk.data();
    args.v = v.data();
    args.mask = mask.data();
    args.out = attn.data();
    args.num_queries = int(P);
    args.num_keys = int(P);
    args.num_q_heads = int(Hq);
    args.num_kv_heads = int(Hkv);
    args.head_dim = int(D);
    args.scale = 1.0f;
    k.attention(args);
    trace("v_kqv_out", li, attn.data(), {P, Hq * D});
    l.o_proj.apply(k, attn.data(), size_t(P), branch.data(), scratch);
    trace("v_attn_proj", li, branch.data(), {P, Hv});
    ops::rmsnorm(k, branch.data(), size_t(P), l.post_attention_layernorm, eps, branch.data());
    trace("v_attn_post_norm", li, branch.data(), {P, Hv});
    ops::add(x.data(), branch.data(), x.data(), x.size());
    trace("v_attn_out", li, x.data(), {P, Hv});

    ops::rmsnorm(k, x.data(), size_t(P), l.pre_feedforward_layernorm, eps, h.data());
    trace("v_ffn_norm", li, h.data(), {P, Hv});
    l.gate_proj.apply(k, h.data(), size_t(P), gate.data(), scratch);
    l.up_proj.apply(k, h.data(), size_t(P), up.data(), scratch);
    k.geglu(gate.data(), up.data(), gate.data(), gate.size());
    trace("v_ffn_gate_par", li, gate.data(), {P, I});
    l.down_proj.apply(k, gate.data(), size_t(P), branch.data(), scratch);
    trace("v_ffn_out", li, branch.data(), {P, Hv});
    ops::rmsnorm(k, branch.data(), size_t(P), l.post_feedforward_layernorm, eps, branch.data());
    trace("v_ffn_post_norm", li, branch.data(), {P, Hv});
    ops::add(x.data(), branch.data(), x.data(), x.size());
    trace("v_l_out", li, x.data(), {P, Hv});
  }

  // Pooler: average each k×k block of patches (by position; padding counts as 0), × √Hv.
  // Slot of a patch = x/k + (max_x + 1)/k · (y/k), max_x over the clamped positions.
  const int pk = c.pooling_kernel_size;
  const int64_t S = P / k2;
  int32_t max_x = 0;
  for (int64_t p = 0; p < P; ++p) max_x = std::max(max_x, std::max(pos_xy[2 * p], 0));
  const int64_t row_slots = (int64_t(max_x) + 1) / pk;
  const float weight = 1.0f / float(k2);  // the one-hot pooling matrix's entries, float32
  std::vector<double> acc(size_t(S * Hv), 0.0);
  std::vector<int32_t> slot_used(size_t(S), 0);
  for (int64_t p = 0; p < P; ++p) {
    const int64_t px = std::max(pos_xy[2 * p], 0) / pk, py = std::max(pos_xy[2 * p + 1], 0) / pk;
    const int64_t s = px + row_slots * py;
    if (s < 0 || s >= S) fail("vision tower", "patch " + std::to_string(p) + " pools into slot " + std::to_string(s) +
                                                  " of " + std::to_string(S));
    slot_used[size_t(s)] = 1;  // the reference marks a slot valid when any patch (even padding) maps to it
    if (padding[size_t(p)]) continue;
    for (int64_t j = 0; j < Hv; ++j) acc[size_t(s * Hv + j)] += double(weight) * double(x[size_t(p * Hv + j)]);
  }
  const float root = float(std::sqrt(double(Hv)));
  std::vector<float> pooled(size_t(S * Hv));
  for (size_t i = 0; i < pooled.size(); ++i) pooled[i] = float(acc[i]) * root;
  trace("v_pooled", -1, pooled.data(), {S, Hv});
  trace("v_pooled_mask", -1, slot_used.data(), {S});

  std::vector<float> out;
  for (int64_t s = 0; s < S; ++s)
    if (slot_used[size_t(s)]) out.insert(out.end(), pooled.begin() + s * Hv, pooled.begin() + (s + 1) * Hv);
  const int64_t M = int64_t(out.size()) / Hv;
  if (c.standardize)
    for (int64_t t = 0; t < M; ++t)
      for (int64_t j = 0; j < Hv; ++j) {
        float& o = out[size_t(t * Hv + j)];
        o = (o - w.std_bias.f32()[j]) * w.std_scale.f32()[j];
      }
  trace("v_out", -1, out.data(), {M, Hv});

  // embed_vision: weight-free RMSNorm, then the projection to the text width.
  std::vector<float> normed(out.size());
  ops::rmsnorm_noscale(k, out.data(), size_t(M), size_t(Hv), eps, normed.data());
  trace("v_mm_norm", -1, normed.data(), {M, Hv});
  std::vector<float> soft(size_t(M) * size_t(m.text_hidden_size));
  ops::matmul(k, normed.data(), size_t(M), w.embedding_projection, soft.data());
  trace("v_soft_tokens", -1, soft.data(), {M, int64_t(m.text_hidden_size)});
  if (num_soft_tokens) *num_soft_tokens = int(M);
  return soft;
}

}  // namespace gemma4
