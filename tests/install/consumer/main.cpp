// Uses the installed headers: one translation unit instantiates the Highway kernels, parses a
// config, generates synthetic weights and runs a tiny forward pass with both kernel sets.
#define GEMMA4_IMPLEMENTATION
#include <gemma4/gemma4.h>

#include <cstdio>
#include <vector>

int main() {
  const nlohmann::json cfg = {
      {"model_type", "gemma4_text"}, {"vocab_size", 32}, {"hidden_size", 16}, {"intermediate_size", 32},
      {"num_hidden_layers", 2}, {"num_attention_heads", 2}, {"num_key_value_heads", 1}, {"head_dim", 8},
      {"global_head_dim", 16}, {"hidden_size_per_layer_input", 0}, {"sliding_window", 4},
      {"final_logit_softcapping", 30.0}, {"layer_types", {"sliding_attention", "full_attention"}}};
  const gemma4::ModelConfig mc = gemma4::parse_model_config(cfg, "<consumer>");
  std::vector<gemma4::synthetic::TensorSpec> specs;
  auto add = [&](std::string name, std::vector<int64_t> shape, double center) {
    specs.push_back({"model." + name, shape, center, -2});
  };
  add("embed_tokens.weight", {32, 16}, 0.0);
  add("norm.weight", {16}, 1.0);
  for (int i = 0; i < 2; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    const int64_t D = mc.text.layers[size_t(i)].head_dim;
    for (const char* n : {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                          "post_feedforward_layernorm"})
      add(p + n + ".weight", {16}, 1.0);
    add(p + "layer_scalar", {1}, 1.0);
    add(p + "self_attn.q_proj.weight", {2 * D, 16}, 0.0);
    add(p + "self_attn.k_proj.weight", {D, 16}, 0.0);
    add(p + "self_attn.v_proj.weight", {D, 16}, 0.0);
    add(p + "self_attn.o_proj.weight", {16, 2 * D}, 0.0);
    add(p + "self_attn.q_norm.weight", {D}, 1.0);
    add(p + "self_attn.k_norm.weight", {D}, 1.0);
    add(p + "mlp.gate_proj.weight", {32, 16}, 0.0);
    add(p + "mlp.up_proj.weight", {32, 16}, 0.0);
    add(p + "mlp.down_proj.weight", {16, 32}, 0.0);
  }
  const gemma4::Model model = gemma4::Model::from_source(mc, gemma4::SyntheticSource(specs, "<consumer>"));
  const std::vector<int> ids = {2, 5, 7, 11, 13, 17};
  std::vector<float> logits[2];
  int i = 0;
  for (gemma4::Backend b : {gemma4::Backend::kScalar, gemma4::Backend::kHighway}) {
    gemma4::KVCache cache(model.text());
    gemma4::Activations act;
    gemma4::forward(model, ids.data(), ids.size(), cache, act, gemma4::select_kernels(b));
    logits[i++] = act.logits;
  }
  double num = 0, den = 0;
  for (size_t j = 0; j < logits[0].size(); ++j) {
    num += (logits[0][j] - logits[1][j]) * (logits[0][j] - logits[1][j]);
    den += double(logits[0][j]) * logits[0][j];
  }
  std::printf("consumer: %zu logits, scalar vs highway (%s) NMSE %.3g\n", logits[0].size(),
              gemma4::highway_target_name().c_str(), num / den);
  return (den > 0 && num / den < 1e-10) ? 0 : 1;
}
