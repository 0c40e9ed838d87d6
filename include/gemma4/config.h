// The text model's configuration, read from a Hugging Face config.json, and the per-layer
// geometry derived from it ("dual-config attention": sliding and full layers differ in head dim,
// KV heads, RoPE and mask).
//
// Accepted forms: a top-level Gemma4Config ({"model_type": "gemma4", "text_config": {..},
// "vision_config": .., "audio_config": ..}) or a bare Gemma4TextConfig. Full-layer overrides come
// either from the release-era keys `global_head_dim` / `num_global_key_value_heads` or from the
// newer sparse `per_layer_config` map ({"05": {"head_dim": 512, "num_key_value_heads": 2}, ..}),
// resolved exactly as Gemma4TextConfig.__post_init__ does.
#pragma once

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gemma4/error.h"

namespace gemma4 {

enum class LayerType { kSliding, kFull };

inline const char* layer_type_name(LayerType t) {
  return t == LayerType::kSliding ? "sliding_attention" : "full_attention";
}

// RoPE of one layer type. "default": inv_freq[i] = θ^(−2i/D); "proportional" (p-RoPE): only the
// first int(p·D/2) frequencies are kept (still with exponent 2i/D over the FULL head dim), the
// rest are 0 so those dimensions pass through unrotated.
struct RopeSpec {
  double theta = 10000.0;
  double partial_rotary_factor = 1.0;  // 1.0 for "default"
  double factor = 1.0;                 // inv_freq /= factor (1 in every released config)
  bool proportional = false;
};

// Everything that varies from layer to layer.
struct LayerSpec {
  LayerType type = LayerType::kSliding;
  int head_dim = 0;
  int num_kv_heads = 0;
  int intermediate_size = 0;  // dense MLP width (2x for double-wide KV-shared layers)
  bool k_eq_v = false;        // full layer without v_proj: V comes from the raw k_proj output
  bool kv_shared = false;     // reuses the K/V of `kv_source` instead of computing its own
  int kv_source = -1;         // for shared layers: the last non-shared layer of the same type
  bool stores_shared_kv = false;  // is the kv_source of some later layer (or of its type)
};

struct TextConfig {
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int head_dim = 0;
  double rms_norm_eps = 1e-6;
  int sliding_window = 512;
  std::optional<double> final_logit_softcapping;
  bool tie_word_embeddings = true;
  bool attention_k_eq_v = false;
  int num_kv_shared_layers = 0;
  bool use_double_wide_mlp = false;
  bool enable_moe_block = false;
  int num_experts = 0;
  int top_k_experts = 0;
  int moe_intermediate_size = 0;
  int vocab_size_per_layer_input = 0;
  int hidden_size_per_layer_input = 0;  // PLE dim; 0 disables per-layer embeddings
  std::string use_bidirectional_attention;  // "", "vision"
  int pad_token_id = 0;
  int bos_token_id = 2;
  std::vector<int> eos_token_ids;
  RopeSpec rope_sliding, rope_full;
  std::vector<LayerSpec> layers;

  bool has_ple() const { return hidden_size_per_layer_input > 0; }
  int first_kv_shared_layer() const { return num_hidden_layers - num_kv_shared_layers; }
  const RopeSpec& rope(LayerType t) const { return t == LayerType::kSliding ? rope_sliding : rope_full; }
};

struct ModelConfig {
  std::string path;        // the config.json it came from
  std::string model_type;  // "gemma4" or "gemma4_text"
  TextConfig text;
  nlohmann::json vision_config;  // kept verbatim for the vision tower (null when absent)
  nlohmann::json audio_config;   // kept verbatim for the audio tower (null when absent)
  nlohmann::json raw;            // the whole file
};

namespace detail {

// Reads typed fields of one JSON object and names "<file>: <path>.<field>" in every error.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& obj, std::string file, std::string prefix)
      : obj_(obj), file_(std::move(file)), prefix_(std::move(prefix)) {}

  std::string where(const std::string& key) const { return file_ + ": field " + prefix_ + key; }
  bool has(const std::string& key) const { return obj_.contains(key) && !obj_[key].is_null(); }
  const nlohmann::json& raw(const std::string& key) const { return obj_[key]; }

  int required_int(const std::string& key) const {
    if (!has(key)) fail(where(key), "missing (required)");
    return as_int(key);
  }
  int int_or(const std::string& key, int fallback) const { return has(key) ? as_int(key) : fallback; }
  double double_or(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    if (!obj_[key].is_number()) fail(where(key), "expected a number, got " + std::string(obj_[key].type_name()));
    return obj_[key].get<double>();
  }
  bool bool_or(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!obj_[key].is_boolean()) fail(where(key), "expected true/false, got " + std::string(obj_[key].type_name()));
    return obj_[key].get<bool>();
  }
  std::string string_or(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!obj_[key].is_string()) fail(where(key), "expected a string, got " + std::string(obj_[key].type_name()));
    return obj_[key].get<std::string>();
  }

 private:
  int as_int(const std::string& key) const {
    const auto& v = obj_[key];
    if (!v.is_number_integer()) fail(where(key), "expected an integer, got " + std::string(v.type_name()));
    const int64_t x = v.get<int64_t>();
    if (x < 0 || x > (int64_t(1) << 31) - 1) fail(where(key), "value " + std::to_string(x) + " out of range");
    return int(x);
  }
  const nlohmann::json& obj_;
  std::string file_, prefix_;
};

inline RopeSpec parse_rope(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail(where, "expected an object");
  FieldReader r(j, "", "");
  RopeSpec s;
  const std::string type = j.contains("rope_type") && j["rope_type"].is_string() ? j["rope_type"].get<std::string>() : "";
  if (type != "default" && type != "proportional")
    fail(where + ".rope_type", "unsupported \"" + type + "\" (supported: default, proportional)");
  if (!j.contains("rope_theta") || !j["rope_theta"].is_number()) fail(where + ".rope_theta", "missing or not a number");
  s.theta = j["rope_theta"].get<double>();
  s.proportional = type == "proportional";
  if (j.contains("partial_rotary_factor")) {
    if (!j["partial_rotary_factor"].is_number()) fail(where + ".partial_rotary_factor", "not a number");
    s.partial_rotary_factor = j["partial_rotary_factor"].get<double>();
  }
  if (!s.proportional && s.partial_rotary_factor != 1.0)
    fail(where + ".partial_rotary_factor", "only supported with rope_type \"proportional\"");
  if (j.contains("factor") && !j["factor"].is_null()) {
    if (!j["factor"].is_number()) fail(where + ".factor", "not a number");
    s.factor = j["factor"].get<double>();
  }
  return s;
}

}  // namespace detail

// Parses a text config object (`text_config`, or the whole file of a bare text model).
inline TextConfig parse_text_config(const nlohmann::json& j, const std::string& file, const std::string& prefix) {
  if (!j.is_object()) fail(file + ": field " + prefix, "expected an object");
  detail::FieldReader r(j, file, prefix);
  TextConfig c;
  c.vocab_size = r.required_int("vocab_size");
  c.hidden_size = r.required_int("hidden_size");
  c.intermediate_size = r.required_int("intermediate_size");
  c.num_hidden_layers = r.required_int("num_hidden_layers");
  c.num_attention_heads = r.required_int("num_attention_heads");
  c.num_key_value_heads = r.required_int("num_key_value_heads");
  c.head_dim = r.required_int("head_dim");
  c.rms_norm_eps = r.double_or("rms_norm_eps", 1e-6);
  c.sliding_window = r.int_or("sliding_window", 512);
  if (r.has("final_logit_softcapping")) c.final_logit_softcapping = r.double_or("final_logit_softcapping", 0.0);
  c.tie_word_embeddings = r.bool_or("tie_word_embeddings", true);
  c.attention_k_eq_v = r.bool_or("attention_k_eq_v", false);
  c.num_kv_shared_layers = r.int_or("num_kv_shared_layers", 0);
  c.use_double_wide_mlp = r.bool_or("use_double_wide_mlp", false);
  c.enable_moe_block = r.bool_or("enable_moe_block", false);
  if (c.enable_moe_block) {
    c.num_experts = r.required_int("num_experts");
    c.top_k_experts = r.required_int("top_k_experts");
    c.moe_intermediate_size = r.required_int("moe_intermediate_size");
    if (c.top_k_experts < 1 || c.top_k_experts > c.num_experts)
      fail(r.where("top_k_experts"), "must be between 1 and num_experts");
  }
  c.hidden_size_per_layer_input = r.int_or("hidden_size_per_layer_input", 256);
  c.vocab_size_per_layer_input = r.int_or("vocab_size_per_layer_input", 262144);
  c.use_bidirectional_attention = r.string_or("use_bidirectional_attention", "");
  if (!c.use_bidirectional_attention.empty() && c.use_bidirectional_attention != "vision")
    fail(r.where("use_bidirectional_attention"),
         "unsupported \"" + c.use_bidirectional_attention + "\" (supported: null, \"vision\")");
  c.pad_token_id = r.int_or("pad_token_id", 0);
  c.bos_token_id = r.int_or("bos_token_id", 2);
  if (r.has("eos_token_id")) {
    const auto& e = r.raw("eos_token_id");
    if (e.is_number_integer()) c.eos_token_ids = {e.get<int>()};
    else if (e.is_array()) for (const auto& x : e) c.eos_token_ids.push_back(x.get<int>());
    else fail(r.where("eos_token_id"), "expected an integer or a list of integers");
  } else {
    c.eos_token_ids = {1};
  }
  const std::string act = r.string_or("hidden_activation", "gelu_pytorch_tanh");
  if (act != "gelu_pytorch_tanh") fail(r.where("hidden_activation"), "unsupported \"" + act + "\"");
  if (r.bool_or("attention_bias", false)) fail(r.where("attention_bias"), "true is not supported (no Gemma 4 uses it)");
  if (c.num_attention_heads == 0 || c.num_key_value_heads == 0 || c.head_dim == 0 || c.hidden_size == 0)
    fail(file + ": field " + prefix, "hidden_size, num_attention_heads, num_key_value_heads and head_dim must be > 0");
  if (c.num_kv_shared_layers > c.num_hidden_layers)
    fail(r.where("num_kv_shared_layers"), "larger than num_hidden_layers");

  // Layer types: explicit list, or the default 5 sliding : 1 full pattern; the last layer is full.
  std::vector<LayerType> types;
  if (r.has("layer_types")) {
    const auto& lt = r.raw("layer_types");
    if (!lt.is_array() || int(lt.size()) != c.num_hidden_layers)
      fail(r.where("layer_types"), "expected a list of num_hidden_layers (" + std::to_string(c.num_hidden_layers) +
                                       ") strings");
    for (size_t i = 0; i < lt.size(); ++i) {
      const std::string s = lt[i].is_string() ? lt[i].get<std::string>() : "";
      if (s == "sliding_attention") types.push_back(LayerType::kSliding);
      else if (s == "full_attention") types.push_back(LayerType::kFull);
      else fail(r.where("layer_types[" + std::to_string(i) + "]"), "unknown layer type \"" + s + "\"");
    }
  } else {
    for (int i = 0; i < c.num_hidden_layers; ++i)
      types.push_back((i + 1) % 6 ? LayerType::kSliding : LayerType::kFull);
  }
  if (!types.empty()) types.back() = LayerType::kFull;

  // RoPE per layer type.
  if (r.has("rope_parameters")) {
    const auto& rp = r.raw("rope_parameters");
    if (!rp.is_object() || !rp.contains("sliding_attention") || !rp.contains("full_attention"))
      fail(r.where("rope_parameters"), "expected {\"sliding_attention\": {..}, \"full_attention\": {..}}");
    c.rope_sliding = detail::parse_rope(rp["sliding_attention"], r.where("rope_parameters.sliding_attention"));
    c.rope_full = detail::parse_rope(rp["full_attention"], r.where("rope_parameters.full_attention"));
  } else {
    c.rope_sliding = RopeSpec{10000.0, 1.0, 1.0, false};
    c.rope_full = RopeSpec{1000000.0, 0.25, 1.0, true};
  }

  // Per-layer geometry. Start from the global values, then apply the full-layer overrides.
  c.layers.resize(size_t(c.num_hidden_layers));
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    LayerSpec& l = c.layers[size_t(i)];
    l.type = types[size_t(i)];
    l.head_dim = c.head_dim;
    l.num_kv_heads = c.num_key_value_heads;
    l.intermediate_size = c.intermediate_size;
  }
  if (r.has("per_layer_config")) {
    // New form: sparse {layer index (maybe zero-padded): {attribute: value}}.
    const auto& plc = r.raw("per_layer_config");
    if (!plc.is_object()) fail(r.where("per_layer_config"), "expected an object {layer index: overrides}");
    for (auto it = plc.begin(); it != plc.end(); ++it) {
      const std::string where = r.where("per_layer_config." + it.key());
      int idx = -1;
      try {
        size_t pos = 0;
        idx = std::stoi(it.key(), &pos);
        if (pos != it.key().size()) idx = -1;
      } catch (const std::exception&) {
        idx = -1;
      }
      if (idx < 0 || idx >= c.num_hidden_layers) fail(where, "key is not a layer index in [0, num_hidden_layers)");
      if (!it.value().is_object()) fail(where, "expected an object of attribute overrides");
      LayerSpec& l = c.layers[size_t(idx)];
      for (auto a = it.value().begin(); a != it.value().end(); ++a) {
        if (!a.value().is_number_integer() || a.value().get<int64_t>() <= 0)
          fail(where + "." + a.key(), "expected a positive integer");
        const int v = a.value().get<int>();
        if (a.key() == "head_dim") l.head_dim = v;
        else if (a.key() == "num_key_value_heads") l.num_kv_heads = v;
        else if (a.key() == "intermediate_size") l.intermediate_size = v;
        else fail(where + "." + a.key(), "unsupported per-layer override (supported: head_dim, num_key_value_heads, "
                                         "intermediate_size)");
      }
    }
  } else {
    // Release form: plain keys; global_head_dim defaults to 512 exactly as in HF.
    const int global_head_dim = r.int_or("global_head_dim", 512);
    const int global_kv = r.int_or("num_global_key_value_heads", 0);
    for (LayerSpec& l : c.layers) {
      if (l.type != LayerType::kFull) continue;
      l.head_dim = global_head_dim;
      if (c.attention_k_eq_v && global_kv > 0) l.num_kv_heads = global_kv;
    }
  }

  // KV sharing: layers >= first_shared reuse the K/V of the last non-shared layer of their type.
  const int first_shared = c.first_kv_shared_layer();
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    LayerSpec& l = c.layers[size_t(i)];
    l.k_eq_v = c.attention_k_eq_v && l.type == LayerType::kFull;
    if (c.num_attention_heads % l.num_kv_heads != 0)
      fail(file + ": field " + prefix + "num_attention_heads",
           "not a multiple of the KV heads (" + std::to_string(l.num_kv_heads) + ") of layer " + std::to_string(i));
    if (l.head_dim % 2 != 0) fail(file + ": layer " + std::to_string(i), "head_dim must be even for RoPE");
    if (c.num_kv_shared_layers > 0 && i >= first_shared) {
      l.kv_shared = true;
      if (c.use_double_wide_mlp) l.intermediate_size *= 2;
      for (int j = first_shared - 1; j >= 0; --j) {
        if (c.layers[size_t(j)].type == l.type) {
          l.kv_source = j;
          break;
        }
      }
      if (l.kv_source < 0)
        fail(file + ": field " + prefix + "num_kv_shared_layers",
             "layer " + std::to_string(i) + " is KV-shared but no earlier non-shared layer has type " +
                 layer_type_name(l.type));
      LayerSpec& src = c.layers[size_t(l.kv_source)];
      if (src.head_dim != l.head_dim || src.num_kv_heads != l.num_kv_heads)
        fail(file + ": layer " + std::to_string(i), "KV-shared layer's geometry differs from its source layer " +
                                                         std::to_string(l.kv_source));
      src.stores_shared_kv = true;
    }
  }
  return c;
}

// Parses config.json (top-level Gemma4Config or a bare Gemma4TextConfig).
inline ModelConfig parse_model_config(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object()) fail(file, "expected a JSON object");
  ModelConfig mc;
  mc.path = file;
  mc.raw = j;
  mc.model_type = j.contains("model_type") && j["model_type"].is_string() ? j["model_type"].get<std::string>() : "";
  if (j.contains("text_config")) {
    if (mc.model_type != "gemma4" && !mc.model_type.empty())
      fail(file + ": field model_type", "expected \"gemma4\" for a config with text_config, got \"" + mc.model_type + "\"");
    mc.text = parse_text_config(j["text_config"], file, "text_config.");
    // The top-level tie_word_embeddings (Gemma4Config) governs the LM head of the full model.
    if (j.contains("tie_word_embeddings") && j["tie_word_embeddings"].is_boolean())
      mc.text.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
    if (j.contains("vision_config")) mc.vision_config = j["vision_config"];
    if (j.contains("audio_config")) mc.audio_config = j["audio_config"];
  } else {
    if (mc.model_type != "gemma4_text" && !mc.model_type.empty())
      fail(file + ": field model_type", "expected \"gemma4_text\" (or a \"text_config\" object), got \"" +
                                            mc.model_type + "\"");
    mc.text = parse_text_config(j, file, "");
  }
  return mc;
}

inline ModelConfig load_model_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, "cannot open");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("malformed JSON: ") + e.what());
  }
  return parse_model_config(j, path);
}

}  // namespace gemma4
