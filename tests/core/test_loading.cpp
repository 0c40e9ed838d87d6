// Loading: config.json forms, safetensors (single, sharded, f32/bf16/f16), binding by HF names,
// the synthetic-weight algorithm, and clear errors for broken inputs.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "gemma4/gemma4.h"
#include "test_util.h"

using namespace gemma4;
using namespace gemma4::test;

namespace {

// The message of the Error thrown by f (fails the test if nothing is thrown).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const gemma4::Error& e) {
    return e.what();
  }
  FAIL("expected a gemma4::Error");
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void write_json(const std::string& path, const nlohmann::json& j) { std::ofstream(path) << j.dump(1); }

}  // namespace

TEST_SUITE("loading") {

TEST_CASE("synthetic weights: bit-identical to tools/golden/g4golden/synthetic.py (pinned values)") {
  // Values computed with the Python implementation.
  CHECK(synthetic::fnv1a64("") == 0xCBF29CE484222325ull);
  CHECK(synthetic::fnv1a64("a") == 0xAF63DC4C8601EC8Cull);
  CHECK(synthetic::fnv1a64("model.language_model.embed_tokens.weight") == 0xddb796cdcc616f74ull);
  auto bits = [](const Weight& w) {
    std::vector<uint32_t> out(size_t(num_elements(w.shape)));
    std::memcpy(out.data(), w.data, out.size() * 4);
    return out;
  };
  const Weight e = synthetic::generate({"model.language_model.embed_tokens.weight", {2, 3}, 0.0, -3});
  CHECK(bits(e) == std::vector<uint32_t>{0xbdfd5bbd, 0x3dfbde8b, 0xbd187522, 0x3d86ada7, 0x3dc0d2ab, 0xbdfa12bd});
  const Weight n = synthetic::generate({"model.language_model.layers.0.input_layernorm.weight", {5}, 1.0, -4});
  CHECK(bits(n) == std::vector<uint32_t>{0x3f85f92f, 0x3f79da9c, 0x3f824894, 0x3f850114, 0x3f79fde2});
  // A large tensor: generated in parallel; spot values and the exact float64 sum of all elements.
  const Weight big = synthetic::generate({"x", {1 << 20}, 0.5, -7});
  const auto b = bits(big);
  CHECK(b[(1 << 20) - 1] == 0x3efd22b1u);
  CHECK(b[123457] == 0x3efcefb1u);
  double sum = 0;
  for (int64_t i = 0; i < (1 << 20); ++i) sum += double(big.f32()[i]);
  CHECK(sum == doctest::Approx(524287.8455209732).epsilon(1e-15));
  // fill() of a sub-range equals the same slice of the whole tensor.
  std::vector<float> part(1000);
  synthetic::fill({"x", {1 << 20}, 0.5, -7}, 5000, 1000, part.data());
  CHECK(std::memcmp(part.data(), big.f32() + 5000, 4000) == 0);
}

TEST_CASE("config: top-level with text_config, release-era global_head_dim keys") {
  nlohmann::json text = tiny_text_config("26b");
  text.erase("per_layer_config");
  text["global_head_dim"] = 32;
  text["num_global_key_value_heads"] = 1;
  const nlohmann::json top = {{"model_type", "gemma4"}, {"text_config", text},
                              {"vision_config", {{"model_type", "gemma4_vision"}}}, {"audio_config", nullptr},
                              {"tie_word_embeddings", true}};
  const ModelConfig mc = parse_model_config(top, "config.json");
  const TextConfig& c = mc.text;
  CHECK(mc.model_type == "gemma4");
  CHECK(mc.vision_config.is_object());
  CHECK(c.layers[0].head_dim == 16);
  CHECK(c.layers[0].num_kv_heads == 2);
  CHECK(c.layers[3].type == LayerType::kFull);
  CHECK(c.layers[3].head_dim == 32);
  CHECK(c.layers[3].num_kv_heads == 1);  // applied because attention_k_eq_v
  CHECK(c.layers[3].k_eq_v);
  CHECK_FALSE(c.layers[0].k_eq_v);
  CHECK(c.rope_full.proportional);
  CHECK(c.rope_full.partial_rotary_factor == 0.25);
  CHECK(c.enable_moe_block);
  CHECK(c.use_bidirectional_attention == "vision");
  // Same geometry from the new per_layer_config form.
  const TextConfig c2 = parse_model_config(tiny_text_config("26b"), "config.json").text;
  for (size_t i = 0; i < c.layers.size(); ++i) {
    CHECK(c2.layers[i].head_dim == c.layers[i].head_dim);
    CHECK(c2.layers[i].num_kv_heads == c.layers[i].num_kv_heads);
  }
}

TEST_CASE("config: defaults follow Gemma4TextConfig (global_head_dim 512, 5:1 pattern, last layer full)") {
  nlohmann::json j = tiny_text_config("e2b");
  j.erase("global_head_dim");
  j.erase("layer_types");
  j["num_hidden_layers"] = 8;
  j["num_kv_shared_layers"] = 0;
  const TextConfig c = parse_model_config(j, "config.json").text;
  for (int i = 0; i < 8; ++i) {
    const bool full = (i + 1) % 6 == 0 || i == 7;
    CHECK(c.layers[size_t(i)].type == (full ? LayerType::kFull : LayerType::kSliding));
    CHECK(c.layers[size_t(i)].head_dim == (full ? 512 : 16));
    CHECK(c.layers[size_t(i)].num_kv_heads == 1);  // num_global_key_value_heads only with K=V
  }
}

TEST_CASE("config: KV sharing map and double-wide MLP (E2B-like)") {
  const TextConfig c = parse_model_config(tiny_text_config("e2b"), "config.json").text;
  // layers [S,S,F | S,S,F], last 3 shared: sliding -> 1, full -> 2
  CHECK(c.first_kv_shared_layer() == 3);
  CHECK(c.layers[3].kv_shared);
  CHECK(c.layers[3].kv_source == 1);
  CHECK(c.layers[4].kv_source == 1);
  CHECK(c.layers[5].kv_source == 2);
  CHECK(c.layers[1].stores_shared_kv);
  CHECK(c.layers[2].stores_shared_kv);
  CHECK_FALSE(c.layers[0].stores_shared_kv);
  CHECK(c.layers[2].intermediate_size == 64);
  CHECK(c.layers[3].intermediate_size == 128);
}

TEST_CASE("config: errors name the file and the field") {
  nlohmann::json j = tiny_text_config("e2b");
  j.erase("hidden_size");
  auto msg = error_of([&] { parse_model_config(j, "/x/config.json"); });
  CHECK(contains(msg, "/x/config.json"));
  CHECK(contains(msg, "hidden_size"));
  CHECK(contains(msg, "missing"));

  nlohmann::json top = {{"model_type", "gemma4"}, {"text_config", tiny_text_config("e2b")}};
  top["text_config"]["num_attention_heads"] = "four";
  msg = error_of([&] { parse_model_config(top, "cfg.json"); });
  CHECK(contains(msg, "text_config.num_attention_heads"));
  CHECK(contains(msg, "integer"));

  j = tiny_text_config("26b");
  j["per_layer_config"]["3"]["sliding_window"] = 7;
  msg = error_of([&] { parse_model_config(j, "cfg.json"); });
  CHECK(contains(msg, "per_layer_config.3.sliding_window"));

  j = tiny_text_config("26b");
  j["rope_parameters"]["full_attention"]["rope_type"] = "yarn";
  msg = error_of([&] { parse_model_config(j, "cfg.json"); });
  CHECK(contains(msg, "rope_type"));

  TempDir dir("cfg");
  std::ofstream(dir.file("config.json")) << "{ not json";
  msg = error_of([&] { load_model_config(dir.file("config.json")); });
  CHECK(contains(msg, dir.file("config.json")));
  CHECK(contains(msg, "malformed JSON"));
}

TEST_CASE("safetensors: broken files give errors naming the file and the tensor") {
  TempDir dir("st");
  const std::vector<RawTensor> ok = {f32_tensor("a", {2, 2}, {1, 2, 3, 4}), f32_tensor("b", {3}, {5, 6, 7})};
  write_safetensors(dir.file("ok.safetensors"), ok);
  {
    SafetensorsFile f(dir.file("ok.safetensors"));
    REQUIRE(f.find("b") != nullptr);
    CHECK(f.find("b")->f32()[2] == 7.0f);
  }
  // Data block cut short: the last tensor is truncated.
  write_safetensors(dir.file("trunc.safetensors"), ok, {}, 4);
  auto msg = error_of([&] { SafetensorsFile f(dir.file("trunc.safetensors")); });
  CHECK(contains(msg, "trunc.safetensors"));
  CHECK(contains(msg, "tensor b"));
  CHECK(contains(msg, "truncated"));
  // Header length beyond the end of the file.
  write_safetensors(dir.file("hdr.safetensors"), ok, {}, 40);
  msg = error_of([&] { SafetensorsFile f(dir.file("hdr.safetensors")); });
  CHECK(contains(msg, "hdr.safetensors"));
  CHECK(contains(msg, "truncated"));
  // Shorter than the 8-byte length prefix.
  std::ofstream(dir.file("tiny.safetensors")) << "abc";
  msg = error_of([&] { SafetensorsFile f(dir.file("tiny.safetensors")); });
  CHECK(contains(msg, "tiny.safetensors"));
  // Byte count that does not match dtype and shape.
  write_safetensors(dir.file("size.safetensors"), ok, [](nlohmann::json& h) { h["a"]["shape"] = {2, 3}; });
  msg = error_of([&] { SafetensorsFile f(dir.file("size.safetensors")); });
  CHECK(contains(msg, "tensor a"));
  CHECK(contains(msg, "needs"));
  // Unknown dtype.
  write_safetensors(dir.file("dt.safetensors"), ok, [](nlohmann::json& h) { h["b"]["dtype"] = "F8_E4M3"; });
  msg = error_of([&] { SafetensorsFile f(dir.file("dt.safetensors")); });
  CHECK(contains(msg, "tensor b"));
  CHECK(contains(msg, "F8_E4M3"));
  // Missing file.
  msg = error_of([&] { SafetensorsFile f(dir.file("absent.safetensors")); });
  CHECK(contains(msg, "absent.safetensors"));
}

TEST_CASE("binding: missing tensor, shape mismatch and dtype mismatch name the tensor") {
  const ModelConfig mc = parse_model_config(tiny_text_config("e2b"), "config.json");
  TempDir dir("bind");
  auto tensors = synthetic_raw_tensors(mc.text, "model.language_model.");

  auto without = tensors;
  without.erase(std::remove_if(without.begin(), without.end(),
                               [](const RawTensor& t) { return t.name == "model.language_model.layers.2.mlp.up_proj.weight"; }),
                without.end());
  write_safetensors(dir.file("missing.safetensors"), without);
  auto msg = error_of([&] { Model::from_source(mc, CheckpointSource(TensorStore::open(dir.file("missing.safetensors")))); });
  CHECK(contains(msg, "missing.safetensors"));
  CHECK(contains(msg, "model.language_model.layers.2.mlp.up_proj.weight"));

  auto reshaped = tensors;
  for (auto& t : reshaped)
    if (t.name == "model.language_model.norm.weight") {
      t.shape = {63};
      t.bytes.resize(63 * 4);
    }
  write_safetensors(dir.file("shape.safetensors"), reshaped);
  msg = error_of([&] { Model::from_source(mc, CheckpointSource(TensorStore::open(dir.file("shape.safetensors")))); });
  CHECK(contains(msg, "model.language_model.norm.weight"));
  CHECK(contains(msg, "[63]"));
  CHECK(contains(msg, "[64]"));

  auto retyped = tensors;
  for (auto& t : retyped)
    if (t.name == "model.language_model.layers.0.self_attn.q_norm.weight") t.dtype = "I32";
  write_safetensors(dir.file("dtype.safetensors"), retyped);
  msg = error_of([&] { Model::from_source(mc, CheckpointSource(TensorStore::open(dir.file("dtype.safetensors")))); });
  CHECK(contains(msg, "layers.0.self_attn.q_norm.weight"));
  CHECK(contains(msg, "I32"));

  msg = error_of([&] { Model::from_source(mc, CheckpointSource(TensorStore::open(dir.path().string()))); });
  CHECK(contains(msg, "no model.safetensors"));
}

TEST_CASE("loading: sharded index, `model.` prefix, extra K/V of shared layers, bf16 and f16 all work") {
  const ModelConfig mc = parse_model_config(tiny_text_config("e2b"), "config.json");
  const Kernels k = highway_kernels();
  const std::vector<int> ids = {2, 5, 9, 13, 1, 60, 33, 7, 7, 20};
  // Reference: the synthetic weights straight from the generator (names are the multimodal keys).
  const Model reference =
      Model::from_source(mc, SyntheticSource(synthetic_specs(mc.text, "model.language_model."), "<synthetic>"));
  const auto ref_logits = prefill_logits(reference, ids, k);
  TempDir dir("shard");

  // Full multimodal prefix, split over two shards with an index; plus unused K/V weights of a
  // KV-shared layer (hub checkpoints still carry them) and a vision tensor we do not read.
  const auto base = synthetic_raw_tensors(mc.text, "model.language_model.");
  auto tensors = base;
  tensors.push_back(f32_tensor("model.language_model.layers.4.self_attn.k_proj.weight", {16, 64}, std::vector<float>(16 * 64, 9.0f)));
  tensors.push_back(f32_tensor("model.vision_tower.encoder.layers.0.mlp.down_proj.linear.weight", {2, 2}, {1, 2, 3, 4}));
  const size_t half = tensors.size() / 2;
  write_safetensors(dir.file("model-00001-of-00002.safetensors"), {tensors.begin(), tensors.begin() + long(half)});
  write_safetensors(dir.file("model-00002-of-00002.safetensors"), {tensors.begin() + long(half), tensors.end()});
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  for (size_t i = 0; i < tensors.size(); ++i)
    index["weight_map"][tensors[i].name] = i < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  write_json(dir.file("model.safetensors.index.json"), index);
  write_json(dir.file("config.json"), {{"model_type", "gemma4"}, {"text_config", tiny_text_config("e2b")}});
  const Model sharded = Model::load(dir.path().string());
  CHECK(sharded.weights.prefix == "model.language_model.");
  CHECK(prefill_logits(sharded, ids, k) == ref_logits);  // bit-identical: same weights, same kernels

  // An index that points at the wrong shard.
  index["weight_map"][tensors.back().name] = "model-00001-of-00002.safetensors";
  write_json(dir.file("bad.index.json"), index);
  auto msg = error_of([&] { TensorStore::open(dir.file("bad.index.json")); });
  CHECK(contains(msg, "bad.index.json"));
  CHECK(contains(msg, tensors.back().name));

  // Text-only checkpoint (Gemma4ForCausalLM): the same values under "model." names.
  std::vector<RawTensor> text_only = base;
  for (auto& t : text_only) t.name = "model." + t.name.substr(std::string("model.language_model.").size());
  write_safetensors(dir.file("text_only.safetensors"), text_only);
  const Model causal_lm = Model::from_source(mc, CheckpointSource(TensorStore::open(dir.file("text_only.safetensors"))));
  CHECK(causal_lm.weights.prefix == "model.");
  CHECK(prefill_logits(causal_lm, ids, k) == ref_logits);

  // bf16 and f16 checkpoints: bf16 matrices are used as bf16 by the kernels, f16 ones are widened
  // at load. Both must compute what a float32 checkpoint holding the same (rounded) values gives
  // (H = 64: √H = 8 is exact in every dtype, so the embedding scale is the same too).
  for (const std::string dt : {"BF16", "F16"}) {
    std::vector<RawTensor> narrowed, widened;
    for (const auto& t : base) {
      narrowed.push_back(narrow(t, dt));
      RawTensor w = t;  // the narrowed values, stored as F32
      const RawTensor& n = narrowed.back();
      for (size_t i = 0; i < n.bytes.size() / 2; ++i) {
        uint16_t h;
        std::memcpy(&h, &n.bytes[i * 2], 2);
        const float f = dt == "BF16" ? bf16_to_f32(h) : f16_to_f32(h);
        std::memcpy(&w.bytes[i * 4], &f, 4);
      }
      widened.push_back(std::move(w));
    }
    write_safetensors(dir.file("narrow.safetensors"), narrowed);
    write_safetensors(dir.file("widened.safetensors"), widened);
    const Model m = Model::from_source(mc, CheckpointSource(TensorStore::open(dir.file("narrow.safetensors"))));
    const Model mw = Model::from_source(mc, CheckpointSource(TensorStore::open(dir.file("widened.safetensors"))));
    CHECK(m.weights.embed_tokens.dtype == (dt == "BF16" ? DType::kBF16 : DType::kF32));
    CHECK(m.weights.layers[0].q_proj.dtype == (dt == "BF16" ? DType::kBF16 : DType::kF32));
    CHECK(m.weights.embed_tokens_file_dtype == (dt == "BF16" ? DType::kBF16 : DType::kF16));
    const auto logits = prefill_logits(m, ids, k);
    const auto expected = prefill_logits(mw, ids, k);
    double num = 0, den = 0, moved = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      num += (double(logits[i]) - expected[i]) * (double(logits[i]) - expected[i]);
      den += double(expected[i]) * expected[i];
      moved += (double(logits[i]) - ref_logits[i]) * (double(logits[i]) - ref_logits[i]);
    }
    INFO(dt << " NMSE vs the widened checkpoint " << num / den);
    if (dt == "F16") CHECK(logits == expected);  // widened at load: the very same float32 weights
    CHECK(num / den < 1e-12);
    CHECK(moved > 0.0);  // and the rounding did change the weights
  }
  CHECK(embedding_scale(1536, DType::kBF16) == 39.25f);
  CHECK(embedding_scale(96, DType::kF32) == float(std::sqrt(96.0)));
  CHECK(embedding_scale(96, DType::kBF16) == round_to_bf16(float(std::sqrt(96.0))));
}

}  // TEST_SUITE
