// Helpers shared by the core tests: a small safetensors writer (to build good and deliberately
// broken checkpoints), tiny configs, and synthetic models generated in C++ (no bundle needed).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gemma4/gemma4.h"

namespace gemma4::test {

namespace fs = std::filesystem;

// A fresh, empty directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = fs::temp_directory_path() / ("gemma4_test_" + tag + "_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter()++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  fs::path path_;
};

struct RawTensor {
  std::string name;
  std::string dtype;  // "F32", "BF16", "F16", "I32"
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

inline RawTensor f32_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v) {
  RawTensor t{name, "F32", std::move(shape), {}};
  t.bytes.resize(v.size() * 4);
  std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

// Converts an F32 raw tensor to BF16 (round to nearest even) or F16 (via float -> half).
inline RawTensor narrow(const RawTensor& t, const std::string& dtype) {
  RawTensor o{t.name, dtype, t.shape, {}};
  const size_t n = t.bytes.size() / 4;
  o.bytes.resize(n * 2);
  for (size_t i = 0; i < n; ++i) {
    float f;
    std::memcpy(&f, &t.bytes[i * 4], 4);
    uint16_t h;
    if (dtype == "BF16") {
      h = f32_to_bf16(f);
    } else {  // F16, normal range only (test values are small)
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      const uint32_t sign = (bits >> 16) & 0x8000u;
      int exp = int((bits >> 23) & 0xff) - 127 + 15;
      uint32_t mant = bits & 0x7fffffu;
      if (exp <= 0) {
        h = uint16_t(sign);
      } else {
        uint32_t m = mant >> 13;
        const uint32_t rest = mant & 0x1fffu;
        if (rest > 0x1000u || (rest == 0x1000u && (m & 1u))) ++m;
        if (m == 0x400u) {
          m = 0;
          ++exp;
        }
        h = uint16_t(sign | (uint32_t(exp) << 10) | m);
      }
    }
    std::memcpy(&o.bytes[i * 2], &h, 2);
  }
  return o;
}

// Writes a safetensors file. `header_patch` may edit the JSON header before it is written (to
// build broken files); `truncate_by` drops that many bytes from the end.
inline void write_safetensors(const std::string& path, const std::vector<RawTensor>& tensors,
                              const std::function<void(nlohmann::json&)>& header_patch = {}, size_t truncate_by = 0) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<uint8_t> data;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data.insert(data.end(), t.bytes.begin(), t.bytes.end());
  }
  header["__metadata__"] = {{"format", "pt"}};
  if (header_patch) header_patch(header);
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';
  std::vector<uint8_t> out(8);
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(n >> (8 * i));
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), data.begin(), data.end());
  out.resize(out.size() - std::min(truncate_by, out.size()));
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size()));
}

// Small text configs (bare Gemma4TextConfig JSON), one per feature mix, window 4 so that a
// dozen tokens cross it several times.
inline nlohmann::json tiny_text_config(const std::string& kind) {
  nlohmann::json c = {
      {"model_type", "gemma4_text"}, {"vocab_size", 64}, {"hidden_size", 64}, {"intermediate_size", 64},
      {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"head_dim", 16}, {"rms_norm_eps", 1e-6},
      {"sliding_window", 4}, {"final_logit_softcapping", 30.0}, {"tie_word_embeddings", true},
      {"hidden_size_per_layer_input", 0}, {"vocab_size_per_layer_input", 64},
      {"rope_parameters",
       {{"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 10000.0}}},
        {"full_attention", {{"rope_type", "proportional"}, {"partial_rotary_factor", 0.25}, {"rope_theta", 1e6}}}}}};
  if (kind == "e2b") {  // PLE + KV sharing + double-wide MLP
    c["num_hidden_layers"] = 6;
    c["layer_types"] = {"sliding_attention", "sliding_attention", "full_attention",
                        "sliding_attention", "sliding_attention", "full_attention"};
    c["num_key_value_heads"] = 1;
    c["global_head_dim"] = 32;
    c["num_kv_shared_layers"] = 3;
    c["use_double_wide_mlp"] = true;
    c["hidden_size_per_layer_input"] = 16;  // √16 exact in every dtype
  } else if (kind == "26b") {  // K=V on full layers, dense + MoE, vision mask
    c["num_hidden_layers"] = 4;
    c["layer_types"] = {"sliding_attention", "sliding_attention", "sliding_attention", "full_attention"};
    c["per_layer_config"] = {{"3", {{"head_dim", 32}, {"num_key_value_heads", 1}}}};
    c["attention_k_eq_v"] = true;
    c["enable_moe_block"] = true;
    c["num_experts"] = 8;
    c["top_k_experts"] = 3;
    c["moe_intermediate_size"] = 16;
    c["use_bidirectional_attention"] = "vision";
  } else {
    throw std::runtime_error("unknown tiny config " + kind);
  }
  return c;
}

// (name, shape) of every tensor a checkpoint of this text config holds, under `prefix`.
inline std::vector<std::pair<std::string, std::vector<int64_t>>> checkpoint_shapes(const TextConfig& c,
                                                                                  const std::string& prefix) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  const int64_t H = c.hidden_size, L = c.num_hidden_layers;
  out.push_back({prefix + "embed_tokens.weight", {c.vocab_size, H}});
  out.push_back({prefix + "norm.weight", {H}});
  if (c.has_ple()) {
    const int64_t P = c.hidden_size_per_layer_input;
    out.push_back({prefix + "embed_tokens_per_layer.weight", {c.vocab_size_per_layer_input, L * P}});
    out.push_back({prefix + "per_layer_model_projection.weight", {L * P, H}});
    out.push_back({prefix + "per_layer_projection_norm.weight", {P}});
  }
  for (int i = 0; i < L; ++i) {
    const LayerSpec& s = c.layers[size_t(i)];
    const std::string p = prefix + "layers." + std::to_string(i) + ".";
    const int64_t D = s.head_dim, Hq = c.num_attention_heads, Hkv = s.num_kv_heads, I = s.intermediate_size;
    for (const char* n : {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                          "post_feedforward_layernorm"})
      out.push_back({p + n + ".weight", {H}});
    out.push_back({p + "layer_scalar", {1}});
    out.push_back({p + "self_attn.q_proj.weight", {Hq * D, H}});
    out.push_back({p + "self_attn.q_norm.weight", {D}});
    out.push_back({p + "self_attn.o_proj.weight", {H, Hq * D}});
    if (!s.kv_shared) {
      out.push_back({p + "self_attn.k_proj.weight", {Hkv * D, H}});
      out.push_back({p + "self_attn.k_norm.weight", {D}});
      if (!s.k_eq_v) out.push_back({p + "self_attn.v_proj.weight", {Hkv * D, H}});
    }
    out.push_back({p + "mlp.gate_proj.weight", {I, H}});
    out.push_back({p + "mlp.up_proj.weight", {I, H}});
    out.push_back({p + "mlp.down_proj.weight", {H, I}});
    if (c.has_ple()) {
      const int64_t P = c.hidden_size_per_layer_input;
      out.push_back({p + "per_layer_input_gate.weight", {P, H}});
      out.push_back({p + "per_layer_projection.weight", {H, P}});
      out.push_back({p + "post_per_layer_input_norm.weight", {H}});
    }
    if (c.enable_moe_block) {
      const int64_t E = c.num_experts, Im = c.moe_intermediate_size;
      out.push_back({p + "router.proj.weight", {E, H}});
      out.push_back({p + "router.scale", {H}});
      out.push_back({p + "router.per_expert_scale", {E}});
      out.push_back({p + "experts.gate_up_proj", {E, 2 * Im, H}});
      out.push_back({p + "experts.down_proj", {E, H, Im}});
      for (const char* n : {"pre_feedforward_layernorm_2", "post_feedforward_layernorm_1", "post_feedforward_layernorm_2"})
        out.push_back({p + n + ".weight", {H}});
    }
  }
  return out;
}

// Generator parameters in the spirit of the golden bundle: unit-order activations, norms near 1.
inline synthetic::TensorSpec spec_for(const std::string& name, const std::vector<int64_t>& shape) {
  synthetic::TensorSpec s{name, shape, 0.0, -3};
  const bool vector = shape.size() == 1;
  if (name.find("layer_scalar") != std::string::npos) s = {name, shape, 0.75, -3};
  else if (name.find("q_norm") != std::string::npos || name.find("k_norm") != std::string::npos) s = {name, shape, 0.625, -4};
  else if (name.find("router.proj") != std::string::npos) s = {name, shape, 0.0, 1};
  else if (name.find("per_expert_scale") != std::string::npos) s = {name, shape, 1.0, -1};
  else if (vector) s = {name, shape, 1.0, -3};
  else s = {name, shape, 0.0, int(std::lround(std::log2(std::sqrt(3.0 / double(shape.back())))))};
  return s;
}

inline std::vector<synthetic::TensorSpec> synthetic_specs(const TextConfig& c, const std::string& prefix) {
  std::vector<synthetic::TensorSpec> specs;
  for (const auto& [name, shape] : checkpoint_shapes(c, prefix)) specs.push_back(spec_for(name, shape));
  return specs;
}

// A tiny model with synthetic float32 weights, built entirely in C++.
inline Model synthetic_model(const std::string& kind) {
  ModelConfig mc = parse_model_config(tiny_text_config(kind), "<" + kind + " test config>");
  SyntheticSource src(synthetic_specs(mc.text, "model."), "<synthetic " + kind + ">");
  return Model::from_source(std::move(mc), src);
}

// The tensors of a synthetic model as raw F32 (to write checkpoints).
inline std::vector<RawTensor> synthetic_raw_tensors(const TextConfig& c, const std::string& prefix) {
  std::vector<RawTensor> out;
  for (const auto& s : synthetic_specs(c, prefix)) {
    const Weight w = synthetic::generate(s);
    out.push_back(f32_tensor(s.name, s.shape, std::vector<float>(w.f32(), w.f32() + num_elements(s.shape))));
  }
  return out;
}

// All logits of a prefill over `ids`.
inline std::vector<float> prefill_logits(const Model& m, const std::vector<int>& ids, const Kernels& k) {
  KVCache cache(m.text());
  Activations a;
  forward(m, ids.data(), ids.size(), cache, a, k);
  return a.logits;
}

inline std::string bundle_dir() {
  if (const char* env = std::getenv("GEMMA4_BUNDLE")) return env;
  return GEMMA4_TEST_BUNDLE;
}

}  // namespace gemma4::test
