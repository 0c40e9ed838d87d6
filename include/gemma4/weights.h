// The text decoder's weights, bound by their Hugging Face names.
//
// Prefix: `model.language_model.` (Gemma4ForConditionalGeneration, the hub checkpoints) or
// `model.` (text-only Gemma4ForCausalLM). Shapes are checked against the config; norms and other
// vectors become float32; matrices stay float32 or bf16 (the matmul kernels take both; f16 is
// widened to float32 once at load). KV-shared layers have no K/V weights of their own: extra
// k_proj/v_proj/k_norm tensors that converted hub files still carry for them are ignored.
#pragma once

#include <string>
#include <vector>

#include "gemma4/config.h"
#include "gemma4/error.h"
#include "gemma4/tensor.h"
#include "gemma4/weight_source.h"

namespace gemma4 {

struct LayerWeights {
  Weight input_layernorm, post_attention_layernorm, pre_feedforward_layernorm, post_feedforward_layernorm;
  float layer_scalar = 1.0f;  // scales the whole residual stream at the end of the layer
  // attention
  Weight q_proj, q_norm, o_proj;
  Weight k_proj, k_norm, v_proj;  // empty for KV-shared layers; v_proj empty when K=V
  // dense GeGLU MLP
  Weight gate_proj, up_proj, down_proj;
  // per-layer embeddings (PLE models)
  Weight per_layer_input_gate, per_layer_projection, post_per_layer_input_norm;
  // parallel MoE (26B-A4B)
  Weight router_proj, router_scale, router_per_expert_scale;
  Weight experts_gate_up, experts_down;  // [E, 2·I_moe, H], [E, H, I_moe]
  Weight pre_feedforward_layernorm_2, post_feedforward_layernorm_1, post_feedforward_layernorm_2;
};

struct TextWeights {
  std::string prefix;  // "model.language_model." or "model."
  Weight embed_tokens;  // [V, H], also the tied LM head
  DType embed_tokens_file_dtype = DType::kF32;  // as stored (f16 tables are widened at load)
  DType embed_tokens_per_layer_file_dtype = DType::kF32;
  Weight lm_head;       // untied models only
  Weight norm;
  Weight embed_tokens_per_layer, per_layer_model_projection, per_layer_projection_norm;  // PLE
  std::vector<LayerWeights> layers;

  const Weight& output_matrix() const { return lm_head.empty() ? embed_tokens : lm_head; }
};

namespace detail {

class Binder {
 public:
  Binder(const WeightSource& src, std::string prefix) : src_(src), prefix_(std::move(prefix)) {}

  // A tensor of exactly `shape`; a matrix keeps f32/bf16, f16 is widened.
  Weight matrix(const std::string& rel, std::vector<int64_t> shape, DType* stored_dtype = nullptr) const {
    Weight w = fetch(rel, shape);
    if (stored_dtype) *stored_dtype = w.dtype;
    return w.dtype == DType::kF16 ? to_f32(w) : w;
  }
  // A small tensor, always float32.
  Weight vector(const std::string& rel, std::vector<int64_t> shape) const { return to_f32(fetch(rel, shape)); }

 private:
  Weight fetch(const std::string& rel, const std::vector<int64_t>& shape) const {
    const std::string name = prefix_ + rel;
    if (!src_.contains(name)) fail(src_.where(name), "missing tensor " + name);
    Weight w = src_.get(name);
    if (w.dtype != DType::kF32 && w.dtype != DType::kBF16 && w.dtype != DType::kF16)
      fail(src_.where(name), "tensor " + name + ": dtype " + dtype_name(w.dtype) + " is not F32, BF16 or F16");
    if (w.shape != shape)
      fail(src_.where(name),
           "tensor " + name + ": shape " + shape_str(w.shape) + " does not match the expected " + shape_str(shape));
    return w;
  }
  const WeightSource& src_;
  std::string prefix_;
};

}  // namespace detail

// The weights of decoder layer i (also used on its own to stream layers of very large models).
inline LayerWeights bind_layer_weights(const TextConfig& c, const WeightSource& src, const std::string& prefix, int i) {
  const detail::Binder b(src, prefix);
  const int64_t H = c.hidden_size;
  const LayerSpec& s = c.layers[size_t(i)];
  LayerWeights w;
  const std::string p = "layers." + std::to_string(i) + ".";
  const int64_t D = s.head_dim, Hq = c.num_attention_heads, Hkv = s.num_kv_heads, I = s.intermediate_size;
  w.input_layernorm = b.vector(p + "input_layernorm.weight", {H});
  w.post_attention_layernorm = b.vector(p + "post_attention_layernorm.weight", {H});
  w.pre_feedforward_layernorm = b.vector(p + "pre_feedforward_layernorm.weight", {H});
  w.post_feedforward_layernorm = b.vector(p + "post_feedforward_layernorm.weight", {H});
  w.layer_scalar = b.vector(p + "layer_scalar", {1}).f32()[0];
  w.q_proj = b.matrix(p + "self_attn.q_proj.weight", {Hq * D, H});
  w.q_norm = b.vector(p + "self_attn.q_norm.weight", {D});
  w.o_proj = b.matrix(p + "self_attn.o_proj.weight", {H, Hq * D});
  if (!s.kv_shared) {
    w.k_proj = b.matrix(p + "self_attn.k_proj.weight", {Hkv * D, H});
    w.k_norm = b.vector(p + "self_attn.k_norm.weight", {D});
    if (!s.k_eq_v) w.v_proj = b.matrix(p + "self_attn.v_proj.weight", {Hkv * D, H});
  }
  w.gate_proj = b.matrix(p + "mlp.gate_proj.weight", {I, H});
  w.up_proj = b.matrix(p + "mlp.up_proj.weight", {I, H});
  w.down_proj = b.matrix(p + "mlp.down_proj.weight", {H, I});
  if (c.has_ple()) {
    const int64_t P = c.hidden_size_per_layer_input;
    w.per_layer_input_gate = b.matrix(p + "per_layer_input_gate.weight", {P, H});
    w.per_layer_projection = b.matrix(p + "per_layer_projection.weight", {H, P});
    w.post_per_layer_input_norm = b.vector(p + "post_per_layer_input_norm.weight", {H});
  }
  if (c.enable_moe_block) {
    const int64_t E = c.num_experts, Im = c.moe_intermediate_size;
    w.router_proj = b.matrix(p + "router.proj.weight", {E, H});
    w.router_scale = b.vector(p + "router.scale", {H});
    w.router_per_expert_scale = b.vector(p + "router.per_expert_scale", {E});
    w.experts_gate_up = b.matrix(p + "experts.gate_up_proj", {E, 2 * Im, H});
    w.experts_down = b.matrix(p + "experts.down_proj", {E, H, Im});
    w.pre_feedforward_layernorm_2 = b.vector(p + "pre_feedforward_layernorm_2.weight", {H});
    w.post_feedforward_layernorm_1 = b.vector(p + "post_feedforward_layernorm_1.weight", {H});
    w.post_feedforward_layernorm_2 = b.vector(p + "post_feedforward_layernorm_2.weight", {H});
  }
  return w;
}

// Binds every tensor the text decoder reads (with bind_layers = false: only the global ones, for a
// model that binds each layer when it runs).
inline TextWeights bind_text_weights(const TextConfig& c, const WeightSource& src, bool bind_layers = true) {
  TextWeights tw;
  if (src.contains("model.language_model.embed_tokens.weight")) tw.prefix = "model.language_model.";
  else if (src.contains("model.embed_tokens.weight")) tw.prefix = "model.";
  else
    fail(src.where("model.language_model.embed_tokens.weight"),
         "missing tensor model.language_model.embed_tokens.weight (or model.embed_tokens.weight for a text-only "
         "checkpoint)");
  const detail::Binder b(src, tw.prefix);
  const int64_t H = c.hidden_size, L = c.num_hidden_layers;
  tw.embed_tokens = b.matrix("embed_tokens.weight", {c.vocab_size, H}, &tw.embed_tokens_file_dtype);
  tw.norm = b.vector("norm.weight", {H});
  if (!c.tie_word_embeddings) {
    const detail::Binder top(src, "");
    tw.lm_head = top.matrix("lm_head.weight", {c.vocab_size, H});
  }
  if (c.has_ple()) {
    const int64_t P = c.hidden_size_per_layer_input;
    tw.embed_tokens_per_layer = b.matrix("embed_tokens_per_layer.weight", {c.vocab_size_per_layer_input, L * P},
                                         &tw.embed_tokens_per_layer_file_dtype);
    tw.per_layer_model_projection = b.matrix("per_layer_model_projection.weight", {L * P, H});
    tw.per_layer_projection_norm = b.vector("per_layer_projection_norm.weight", {P});
  }
  if (bind_layers) {
    tw.layers.resize(size_t(L));
    for (int i = 0; i < L; ++i) tw.layers[size_t(i)] = bind_layer_weights(c, src, tw.prefix, i);
  }
  return tw;
}

}  // namespace gemma4
