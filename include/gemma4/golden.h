// Reading the golden bundle (reference_outputs/) and checking this implementation against it.
//
// manifest.json lists models (config, weights file or synthetic-weight specs) and cases (kind,
// model, tensor file, tensors). A text case is replayed through forward() and every tensor it
// lists is compared with what the forward pass reported under the same name (trace.h):
//   NMSE = Σ(x − ref)² / Σ ref²,  cosine = x·ref / (‖x‖‖ref‖),  pass: NMSE ≤ tol ∧ cosine ≥ tol;
//   integer tensors (token ids, expert indices) must match exactly. max abs / max rel are reported
//   only (rel = |x − ref| / max(|ref|, 1e-6·max|ref|), the floor keeps near-zero entries sane).
//
// Kinds: text-prefill (one forward, every intermediate), text-prefill-rows (one long forward,
// logits of some rows), text-decode (prefill P tokens, then single-token decode steps through the
// KV cache), text-generate (greedy tokens), text-batch (padded rows = single-sequence runs), rope
// (tables and rotation), image_preprocess (image_processor.h), vision (vision_tower.h),
// audio_features (audio_features.h), audio (audio_encoder.h), multimodal (multimodal.h: text +
// images + audio through the whole model, masks, contrasts), video (video.h: frame sampling, the
// mm:ss prompt layout, frames through the vision tower). Other
// kinds are reported as skipped until their component lands.
#pragma once

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gemma4/audio_encoder.h"
#include "gemma4/audio_features.h"
#include "gemma4/config.h"
#include "gemma4/error.h"
#include "gemma4/kernels.h"
#include "gemma4/model.h"
#include "gemma4/multimodal.h"
#include "gemma4/safetensors.h"
#include "gemma4/image_processor.h"
#include "gemma4/synthetic_weights.h"
#include "gemma4/tokenizer_load.h"
#include "gemma4/video.h"
#include "gemma4/vision_tower.h"
#include "gemma4/weight_source.h"

namespace gemma4::golden {

struct Tolerance {
  double nmse = 1e-10;
  double cosine = 0.9999999;
};

struct TensorResult {
  std::string name;
  std::vector<int64_t> shape;
  double max_abs = 0, max_rel = 0, nmse = 0, cosine = 1;
  bool exact = false;   // integer tensor: compared for equality
  bool pass = false;
  std::string note;     // why it failed, when not numeric
};

struct CaseResult {
  std::string name, kind;
  enum Status { kPass, kFail, kSkip } status = kSkip;
  std::string note;
  Tolerance tolerance;
  double seconds = 0;
  std::vector<TensorResult> tensors;
  double max_nmse() const {
    double m = 0;
    for (const auto& t : tensors)
      if (!t.exact && std::isfinite(t.nmse)) m = std::max(m, t.nmse);
    return m;
  }
};

// A captured or golden tensor: float32 or int32 values with a shape.
struct HostTensor {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::vector<float> f;
  std::vector<int32_t> i;
};

inline HostTensor to_host(const Weight& w, const std::string& where) {
  HostTensor h;
  h.shape = w.shape;
  const size_t n = size_t(num_elements(w.shape));
  if (w.dtype == DType::kF32) {
    h.f.assign(w.f32(), w.f32() + n);
  } else if (w.dtype == DType::kI32) {
    h.dtype = DType::kI32;
    const int32_t* p = static_cast<const int32_t*>(w.data);
    h.i.assign(p, p + n);
  } else if (w.dtype == DType::kU8) {
    h.dtype = DType::kI32;
    const uint8_t* p = static_cast<const uint8_t*>(w.data);
    for (size_t j = 0; j < n; ++j) h.i.push_back(int32_t(p[j]));
  } else if (w.dtype == DType::kI64) {
    h.dtype = DType::kI32;
    const int64_t* p = static_cast<const int64_t*>(w.data);
    for (size_t j = 0; j < n; ++j) h.i.push_back(int32_t(p[j]));
  } else {
    fail(where, "tensor " + w.name + ": unexpected dtype " + dtype_name(w.dtype));
  }
  return h;
}

inline TensorResult compare(const std::string& name, const HostTensor& got, const HostTensor& ref,
                            const Tolerance& tol) {
  TensorResult r;
  r.name = name;
  r.shape = ref.shape;
  if (got.shape != ref.shape) {
    r.note = "shape " + shape_str(got.shape) + " differs from the golden " + shape_str(ref.shape);
    r.nmse = INFINITY;
    r.cosine = 0;
    return r;
  }
  if (ref.dtype == DType::kI32) {
    r.exact = true;
    size_t mismatches = 0;
    for (size_t j = 0; j < ref.i.size(); ++j) {
      const int32_t g = got.dtype == DType::kI32 ? got.i[j] : int32_t(got.f[j]);
      if (g != ref.i[j]) {
        ++mismatches;
        r.max_abs = std::max(r.max_abs, std::fabs(double(g) - double(ref.i[j])));
      }
    }
    r.nmse = mismatches ? 1.0 : 0.0;
    r.pass = mismatches == 0;
    if (mismatches) r.note = std::to_string(mismatches) + " of " + std::to_string(ref.i.size()) + " differ";
    return r;
  }
  double sd = 0, sr = 0, sx = 0, sxr = 0, maxref = 0;
  for (float v : ref.f) maxref = std::max(maxref, std::fabs(double(v)));
  const double floor = std::max(1e-6 * maxref, 1e-30);
  bool finite = true;
  for (size_t j = 0; j < ref.f.size(); ++j) {
    const double x = got.f[j], y = ref.f[j], d = x - y;
    if (!std::isfinite(x)) finite = false;
    sd += d * d;
    sr += y * y;
    sx += x * x;
    sxr += x * y;
    r.max_abs = std::max(r.max_abs, std::fabs(d));
    r.max_rel = std::max(r.max_rel, std::fabs(d) / std::max(std::fabs(y), floor));
  }
  r.nmse = sr > 0 ? sd / sr : (sd > 0 ? INFINITY : 0.0);
  r.cosine = (sx > 0 && sr > 0) ? sxr / std::sqrt(sx * sr) : (sx == 0 && sr == 0 ? 1.0 : 0.0);
  if (!finite) {
    r.nmse = INFINITY;
    r.note = "non-finite values";
  }
  r.pass = finite && r.nmse <= tol.nmse && r.cosine >= tol.cosine;
  return r;
}

class Bundle {
 public:
  explicit Bundle(std::string root) : root_(std::move(root)) {
    const std::string path = (std::filesystem::path(root_) / "manifest.json").string();
    std::ifstream in(path);
    if (!in) fail(path, "cannot open (is this a golden bundle directory?)");
    try {
      manifest_ = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail(path, std::string("malformed JSON: ") + e.what());
    }
    manifest_path_ = path;
    if (!manifest_.contains("cases") || !manifest_["cases"].is_object()) fail(path, "missing field \"cases\"");
  }

  const std::string& root() const { return root_; }
  const nlohmann::json& manifest() const { return manifest_; }
  std::string path(const std::string& rel) const { return (std::filesystem::path(root_) / rel).string(); }

  std::vector<std::string> case_names() const {
    std::vector<std::string> out;
    for (auto it = manifest_["cases"].begin(); it != manifest_["cases"].end(); ++it) out.push_back(it.key());
    return out;
  }
  const nlohmann::json& case_entry(const std::string& name) const {
    if (!manifest_["cases"].contains(name)) fail(manifest_path_, "no case " + name);
    return manifest_["cases"][name];
  }

  Tolerance tolerance_for(const nlohmann::json& entry, const std::string& precision = "float32") const {
    Tolerance t;
    auto read = [&](const nlohmann::json& j) {
      if (j.contains("nmse") && j["nmse"].is_number()) t.nmse = j["nmse"].get<double>();
      if (j.contains("cosine") && j["cosine"].is_number()) t.cosine = j["cosine"].get<double>();
    };
    if (manifest_.contains("tolerances") && manifest_["tolerances"].contains(precision))
      read(manifest_["tolerances"][precision]);
    if (entry.contains("tolerances") && entry["tolerances"].is_object()) {
      const auto& ct = entry["tolerances"];
      if (ct.contains(precision) && ct[precision].is_object()) read(ct[precision]);
      else read(ct);
    }
    return t;
  }

  // The model of a case: from its checkpoint file when present, else regenerated from the
  // manifest's synthetic_weights. Loaded once per model entry.
  const Model& model(const std::string& rel) {
    auto it = models_.find(rel);
    if (it != models_.end()) return *it->second;
    ModelConfig mc;
    double bytes = 0;
    std::shared_ptr<const WeightSource> src = source(rel, mc, &bytes);
    std::unique_ptr<Model> m;
    // Above ~2 GiB of float32 weights, generate each layer when it runs instead of all at once.
    if (bytes > 2.0 * (1 << 30)) m = std::make_unique<Model>(Model::streaming(std::move(mc), src));
    else m = std::make_unique<Model>(Model::from_source(std::move(mc), *src));
    return *(models_[rel] = std::move(m));
  }

  // The vision tower + embed_vision of a model entry (tiny checkpoints, or the real-width
  // `*-realwidth-vision` entries whose synthetic_weights list only those components).
  const VisionModel& vision_model(const std::string& rel) {
    auto it = vision_models_.find(rel);
    if (it != vision_models_.end()) return *it->second;
    ModelConfig mc;
    std::shared_ptr<const WeightSource> src = source(rel, mc, nullptr);
    auto vm = std::make_unique<VisionModel>(VisionModel::from_source(mc, *src));
    return *(vision_models_[rel] = std::move(vm));
  }

  // The audio tower + embed_audio of a model entry (tiny checkpoints, or `*-realwidth-audio`).
  const AudioModel& audio_model(const std::string& rel) {
    auto it = audio_models_.find(rel);
    if (it != audio_models_.end()) return *it->second;
    ModelConfig mc;
    std::shared_ptr<const WeightSource> src = source(rel, mc, nullptr);
    auto am = std::make_unique<AudioModel>(AudioModel::from_source(mc, *src));
    return *(audio_models_[rel] = std::move(am));
  }

  // Config and weight source of a model entry; `bytes`: float32 size of synthetic weights.
  std::shared_ptr<const WeightSource> source(const std::string& rel, ModelConfig& mc, double* bytes) const {
    if (!manifest_.contains("models") || !manifest_["models"].contains(rel))
      fail(manifest_path_, "case refers to model " + rel + ", which models{} does not list");
    const auto& e = manifest_["models"][rel];
    const std::string cfg = e.contains("config") && e["config"].is_string() ? path(e["config"].get<std::string>())
                                                                           : path(rel + "/config.json");
    mc = load_model_config(cfg);
    const std::string weights = e.contains("weights_file") && e["weights_file"].is_string()
                                    ? path(e["weights_file"].get<std::string>())
                                    : std::string();
    if (!weights.empty() && std::filesystem::exists(weights))
      return std::make_shared<CheckpointSource>(TensorStore::open(weights));
    if (!e.contains("synthetic_weights") || !e["synthetic_weights"].is_array())
      fail(manifest_path_, "model " + rel + " has neither a weights file nor synthetic_weights");
    std::vector<synthetic::TensorSpec> specs;
    for (const auto& s : e["synthetic_weights"]) {
      synthetic::TensorSpec t;
      t.name = s.at("name").get<std::string>();
      t.shape = s.at("shape").get<std::vector<int64_t>>();
      t.center = s.at("center").get<double>();
      t.scale_log2 = s.at("scale_log2").get<int>();
      if (bytes) *bytes += 4.0 * double(num_elements(t.shape));
      specs.push_back(std::move(t));
    }
    return std::make_shared<SyntheticSource>(std::move(specs), manifest_path_ + ": models." + rel + ".synthetic_weights");
  }

  void release_models() {
    models_.clear();
    vision_models_.clear();
    audio_models_.clear();
  }

 private:
  std::string root_, manifest_path_;
  nlohmann::json manifest_;
  std::map<std::string, std::unique_ptr<Model>> models_;
  std::map<std::string, std::unique_ptr<VisionModel>> vision_models_;
  std::map<std::string, std::unique_ptr<AudioModel>> audio_models_;
};

inline bool case_matches(const std::string& name, const std::string& pattern) {
  if (pattern.empty()) return true;
  if (pattern.find_first_of("*?[") != std::string::npos) return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
  return name.find(pattern) != std::string::npos;
}

// Runs one case. Never throws for a numerical mismatch (that is a failed result); throws Error for
// a broken bundle.
inline CaseResult run_case(Bundle& b, const std::string& name, const Kernels& k) {
  const auto t0 = std::chrono::steady_clock::now();
  const nlohmann::json& e = b.case_entry(name);
  CaseResult r;
  r.name = name;
  r.kind = e.value("kind", "");
  r.tolerance = b.tolerance_for(e);
  static const char* kKinds[] = {"text-prefill", "text-prefill-rows", "text-decode", "text-generate", "text-batch",
                                 "rope", "image_preprocess", "vision", "multimodal", "audio_features", "audio",
                                 "video"};
  if (std::find(std::begin(kKinds), std::end(kKinds), r.kind) == std::end(kKinds)) {
    r.status = CaseResult::kSkip;
    r.note = "kind \"" + r.kind + "\" is not implemented yet";
    return r;
  }
  if (!e.contains("file")) fail(name, "case entry needs \"file\"");
  const std::string file = b.path(e["file"].get<std::string>());
  if (!std::filesystem::exists(file)) {
    r.status = CaseResult::kSkip;
    r.note = "tensor file " + file + " is missing";
    return r;
  }
  SafetensorsFile tensors(file);
  std::map<std::string, HostTensor> got;
  std::vector<std::string> listed;
  for (const auto& t : e.value("tensors", nlohmann::json::array())) listed.push_back(t.at("name").get<std::string>());
  auto wanted = [&](const std::string& n) { return std::find(listed.begin(), listed.end(), n) != listed.end(); };
  auto f32 = [](std::vector<int64_t> shape, std::vector<float> values) {
    HostTensor h;
    h.shape = std::move(shape);
    h.f = std::move(values);
    return h;
  };
  std::vector<std::string> inputs = {"inp_tokens"};
  auto i32 = [](std::vector<int64_t> shape, std::vector<int32_t> values) {
    HostTensor h;
    h.dtype = DType::kI32;
    h.shape = std::move(shape);
    h.i = std::move(values);
    return h;
  };
  // Keeps every traced tensor the case lists.
  Trace capture([&](const TensorReport& rep) {
    if (!wanted(rep.name)) return;
    HostTensor h;
    h.dtype = rep.dtype;
    h.shape = rep.shape;
    const size_t n = size_t(num_elements(rep.shape));
    if (rep.dtype == DType::kI32) h.i.assign(static_cast<const int32_t*>(rep.data), static_cast<const int32_t*>(rep.data) + n);
    else h.f.assign(static_cast<const float*>(rep.data), static_cast<const float*>(rep.data) + n);
    got[rep.name] = std::move(h);
  });
  auto image_of = [&](const std::string& tensor) {
    const HostTensor t = to_host(tensors.at(tensor), file);
    if (t.shape.size() != 3 || t.shape[2] != 3) fail(file, "tensor " + tensor + ": expected [H, W, 3] uint8");
    Image img;
    img.height = int(t.shape[0]);
    img.width = int(t.shape[1]);
    img.rgb.assign(t.i.begin(), t.i.end());
    return img;
  };
  auto u8_tensor = [&](const Image& img) {
    return i32({img.height, img.width, 3}, std::vector<int32_t>(img.rgb.begin(), img.rgb.end()));
  };

  if (r.kind == "image_preprocess") {
    // Gemma4ImageProcessor on every image × budget (image_processor.h): resized pixels (full or
    // every 8th/16th row and column), one image's position ids and pixel rows, sizes and counts.
    const auto& cfg = e.at("config");
    const std::vector<std::string> images = cfg.at("images").get<std::vector<std::string>>();
    const std::vector<int> budgets = cfg.at("budgets").get<std::vector<int>>();
    ImageProcessorConfig pc;
    pc.patch_size = cfg.at("patch_size").get<int>();
    pc.pooling_kernel_size = cfg.at("pooling_kernel_size").get<int>();
    const int k2 = pc.pooling_kernel_size * pc.pooling_kernel_size;
    std::vector<int32_t> sizes, soft;
    inputs.clear();
    for (const std::string& slug : images) {
      inputs.push_back(slug + "/raw_u8");
      const Image raw = image_of(slug + "/raw_u8");
      for (int budget : budgets) {
        pc.max_soft_tokens = budget;
        const std::string pre = slug + "/b" + std::to_string(budget) + "/";
        const Image resized = resize_for_budget(raw, pc);
        const ProcessedImage p = patchify(resized, pc.patch_size, pc.pooling_kernel_size, budget * k2);
        sizes.push_back(resized.height);
        sizes.push_back(resized.width);
        soft.push_back(p.num_soft_tokens);
        if (wanted(pre + "resized_u8")) got[pre + "resized_u8"] = u8_tensor(resized);
        for (int stride : {8, 16}) {
          const std::string n = pre + "resized_u8_s" + std::to_string(stride);
          if (!wanted(n)) continue;
          Image sub;
          sub.height = (resized.height + stride - 1) / stride;
          sub.width = (resized.width + stride - 1) / stride;
          for (int y = 0; y < resized.height; y += stride)
            for (int x = 0; x < resized.width; x += stride)
              for (int c = 0; c < 3; ++c) sub.rgb.push_back(resized.at(y, x, c));
          got[n] = u8_tensor(sub);
        }
        if (wanted(pre + "pos_ids")) got[pre + "pos_ids"] = i32({p.slots(), 2}, p.position_ids);
        if (wanted(pre + "pixel_values_rows")) {  // the last 3 real patches and the first 3 padding slots
          const int64_t first = p.num_patches - 3, dim = p.patch_dim;
          if (first < 0 || p.num_patches + 3 > p.slots()) fail(file, pre + "pixel_values_rows: rows out of range");
          got[pre + "pixel_values_rows"] = f32({6, dim}, std::vector<float>(p.pixel_values.begin() + first * dim,
                                                                           p.pixel_values.begin() + (first + 6) * dim));
        }
      }
    }
    got["resized_hw"] = i32({int64_t(images.size()), int64_t(budgets.size()), 2}, sizes);
    got["num_soft_tokens"] = i32({int64_t(images.size()), int64_t(budgets.size())}, soft);
    // (patch, max_patches, k, h, w) -> (target_h, target_w): the size rule alone.
    const HostTensor vec = to_host(tensors.at("aspect_vectors"), file);
    std::vector<int32_t> mine;
    for (int64_t row = 0; row < vec.shape.at(0); ++row) {
      const int32_t* v = vec.i.data() + row * 7;
      const auto [th, tw] = aspect_ratio_preserving_size(v[3], v[4], v[0], v[1], v[2]);
      mine.insert(mine.end(), {v[0], v[1], v[2], v[3], v[4], th, tw});
    }
    got["aspect_vectors"] = i32(vec.shape, mine);
  } else if (r.kind == "audio_features") {
    // Gemma4AudioFeatureExtractor (audio_features.h): window, mel filters, each clip's features and
    // mask, a padded batch, and the token-count rules over a range of lengths.
    const auto& cfg = e.at("config");
    AudioFeatureConfig ac;
    ac.sampling_rate = cfg.at("sampling_rate").get<int>();
    ac.frame_length = cfg.at("frame_length").get<int>();
    ac.hop_length = cfg.at("hop_length").get<int>();
    ac.fft_length = cfg.at("fft_length").get<int>();
    ac.mel_floor = cfg.at("mel_floor").get<double>();
    ac.pad_to_multiple_of = cfg.at("pad_to_multiple_of").get<int>();
    ac.max_length = cfg.at("max_length").get<int>();
    const AudioFeatureExtractor fx(ac);
    got["window"] = f32({ac.frame_length}, fx.window());
    got["mel_filters"] = f32({ac.fft_length / 2 + 1, ac.feature_size}, fx.mel_filters());
    inputs.clear();
    auto store = [&](const std::string& pre, const AudioFeatures& a) {
      got[pre + "features"] = f32({a.frames, a.bins}, a.features);
      got[pre + "mask"] = i32({a.frames}, std::vector<int32_t>(a.mask.begin(), a.mask.end()));
    };
    std::map<std::string, std::vector<float>> waves;
    for (const std::string& clip : cfg.at("clips").get<std::vector<std::string>>()) {
      inputs.push_back(clip + "/waveform");
      waves[clip] = to_host(tensors.at(clip + "/waveform"), file).f;
      store(clip + "/", fx.extract(waves[clip]));
    }
    std::vector<std::vector<float>> batch;
    for (const std::string& clip : cfg.at("batch").get<std::vector<std::string>>()) batch.push_back(waves.at(clip));
    const std::vector<AudioFeatures> fb = fx.extract_batch(batch);
    HostTensor bf = f32({int64_t(fb.size()), fb.empty() ? 0 : fb[0].frames, ac.feature_size}, {});
    HostTensor bm = i32({int64_t(fb.size()), fb.empty() ? 0 : fb[0].frames}, {});
    for (const AudioFeatures& a : fb) {
      bf.f.insert(bf.f.end(), a.features.begin(), a.features.end());
      bm.i.insert(bm.i.end(), a.mask.begin(), a.mask.end());
    }
    got["batch/features"] = std::move(bf);
    got["batch/mask"] = std::move(bm);
    // Columns: num_samples, processor formula, mask-derived count, feature frames.
    const HostTensor counts = to_host(tensors.at("token_counts"), file);
    std::vector<int32_t> mine;
    for (int64_t row = 0; row < counts.shape.at(0); ++row) {
      const int64_t n = counts.i[size_t(row * 4)];
      mine.insert(mine.end(), {int32_t(n), audio_tokens_processor_formula(n, ac), audio_tokens_from_mask(n, ac),
                               audio_feature_frames(n, ac)});
    }
    got["token_counts"] = i32(counts.shape, mine);
  } else if (r.kind == "audio") {
    // The audio tower and embed_audio on one clip (audio_encoder.h). When the case stores the
    // waveform, the features are extracted here (audio_features.h) and compared too.
    const AudioModel& am = b.audio_model(e.at("model").get<std::string>());
    HostTensor feats = to_host(tensors.at("a_features"), file);
    HostTensor fmask = to_host(tensors.at("a_features_mask"), file);
    if (wanted("a_waveform")) {
      inputs = {"a_waveform"};
      const AudioFeatures a = AudioFeatureExtractor().extract(to_host(tensors.at("a_waveform"), file).f);
      got["a_features"] = f32({a.frames, a.bins}, a.features);
      got["a_features_mask"] = i32({a.frames}, std::vector<int32_t>(a.mask.begin(), a.mask.end()));
      feats.f = a.features;
      fmask.i.assign(a.mask.begin(), a.mask.end());
    } else {
      inputs = {"a_features", "a_features_mask"};
    }
    const std::vector<uint8_t> mask8(fmask.i.begin(), fmask.i.end());
    audio_forward(am, feats.f.data(), mask8.data(), int64_t(mask8.size()), k, capture);
  } else if (r.kind == "vision") {
    // The vision tower and embed_vision on one image's patch slots (vision_tower.h). Tiny cases
    // store the image: it is patchified here and the patches and positions are compared too.
    const VisionModel& vm = b.vision_model(e.at("model").get<std::string>());
    HostTensor patches_t = to_host(tensors.at("v_pixel_patches_u8"), file);
    HostTensor pos_t = to_host(tensors.at("v_pos_ids"), file);
    const int slots = int(patches_t.shape.at(0));
    if (wanted("v_image_u8")) {
      inputs = {"v_image_u8"};
      const ProcessedImage p = patchify(image_of("v_image_u8"), vm.config.patch_size, vm.config.pooling_kernel_size, slots);
      got["v_pixel_patches_u8"] = i32(patches_t.shape, std::vector<int32_t>(p.patches_u8.begin(), p.patches_u8.end()));
      got["v_pos_ids"] = i32(pos_t.shape, p.position_ids);
      patches_t.i.assign(p.patches_u8.begin(), p.patches_u8.end());
      pos_t.i = p.position_ids;
    } else {
      inputs = {"v_pixel_patches_u8", "v_pos_ids"};
    }
    // pixel_values = float32(u8) · float32(1/255), as the processor computes them.
    std::vector<float> pixels(patches_t.i.size());
    const float rescale = float(1.0 / 255.0);
    for (size_t j = 0; j < pixels.size(); ++j) pixels[j] = float(patches_t.i[j]) * rescale;
    vision_forward(vm, pixels.data(), pos_t.i.data(), slots, k, capture);
  }

  if (r.kind == "multimodal") {
    // Text + media through the whole model (multimodal.h): each image is processed and encoded
    // here, its soft tokens scattered into the placeholder rows, the mask gets the vision blocks.
    const std::string rel = e.at("model").get<std::string>();
    const Model& m = b.model(rel);
    const VisionModel& vm = b.vision_model(rel);
    const auto& cfg = e.at("config");
    const HostTensor ids_t = to_host(tensors.at("inp_tokens"), file);
    const std::vector<int> mm_ids(ids_t.i.begin(), ids_t.i.end());
    const int64_t S = int64_t(mm_ids.size()), V = m.text().vocab_size, H = m.text().hidden_size;
    inputs = {"inp_tokens"};
    std::vector<float> image_soft;
    std::vector<int32_t> pos_ids;
    int64_t image_rows = 0;
    for (const std::string& n : listed) {
      if (n.rfind("v_image_u8", 0) != 0) continue;
      inputs.push_back(n);
      const ImageProcessorConfig pc{vm.config.patch_size, vm.config.pooling_kernel_size, cfg.at("image_budget").get<int>()};
      const ProcessedImage p = process_image(image_of(n), pc);
      const std::vector<float> soft = vision_forward(vm, p.pixel_values.data(), p.position_ids.data(), p.slots(), k);
      pos_ids.insert(pos_ids.end(), p.position_ids.begin(), p.position_ids.end());
      image_soft.insert(image_soft.end(), soft.begin(), soft.end());
      image_rows += int64_t(soft.size()) / H;
    }
    if (wanted("v_pos_ids")) got["v_pos_ids"] = i32(to_host(tensors.at("v_pos_ids"), file).shape, pos_ids);
    got["v_soft_tokens"] = f32({image_rows, H}, image_soft);
    std::vector<float> audio_soft;
    if (wanted("a_soft_tokens")) {
      // The clip: features extracted here (audio_features.h), encoded by the audio tower.
      inputs.push_back("a_waveform");
      const AudioFeatures a = AudioFeatureExtractor().extract(to_host(tensors.at("a_waveform"), file).f);
      got["a_features"] = f32({a.frames, a.bins}, a.features);
      got["a_features_mask"] = i32({a.frames}, std::vector<int32_t>(a.mask.begin(), a.mask.end()));
      const AudioEncoding enc = audio_forward(b.audio_model(rel), a.features.data(), a.mask.data(), a.frames, k);
      audio_soft = enc.soft_tokens;
      got["a_soft_tokens"] = f32({enc.num_soft_tokens, H}, audio_soft);
    }
    const MultimodalPrompt prompt = merge_media(m.config, mm_ids, image_soft, {}, audio_soft);
    got["mm_token_type_ids"] = i32({S}, std::vector<int32_t>(prompt.token_types.begin(), prompt.token_types.end()));
    // The masks as forward() builds them for these positions (1 = query row may attend key column).
    std::vector<int> positions(static_cast<size_t>(S));
    for (int64_t t = 0; t < S; ++t) positions[size_t(t)] = int(t);
    for (LayerType type : {LayerType::kFull, LayerType::kSliding}) {
      const std::string n = type == LayerType::kFull ? "mask_full" : "mask_sliding";
      if (!wanted(n)) continue;
      MaskRule rule;
      rule.type = type;
      rule.window = m.text().sliding_window;
      rule.blocks = m.text().use_bidirectional_attention == "vision" ? &prompt.vision_blocks : nullptr;
      std::vector<uint8_t> mask;
      build_mask(rule, positions.data(), positions.size(), positions.data(), positions.size(), mask);
      got[n] = i32({S, S}, std::vector<int32_t>(mask.begin(), mask.end()));
    }
    {
      KVCache cache(m.text());
      Activations a;
      forward(m, mm_ids.data(), mm_ids.size(), cache, a, k, capture, prompt.forward_options());
    }
    // The contrasts a buggy runtime would produce: no bidirectional overlay, and the overlay on
    // full layers too. Reproducing them shows the real output differs for the right reason.
    for (const char* n : {"result_output_causal", "result_output_block_both"}) {
      if (!wanted(n)) continue;
      ForwardOptions o = prompt.forward_options();
      if (std::string(n) == "result_output_causal") o.vision_blocks = nullptr;
      else o.vision_blocks_on_full_layers = true;
      KVCache cache(m.text());
      Activations a;
      forward(m, mm_ids.data(), mm_ids.size(), cache, a, k, {}, o);
      got[n] = f32({S, V}, a.logits);
    }
    if (wanted("generate_tokens")) {
      const int n_new = int(tensors.at("generate_tokens").shape.at(0));
      const std::vector<int> out = generate_greedy(m, mm_ids, n_new, {}, k, nullptr, prompt.forward_options(false));
      got["generate_tokens"] = i32({int64_t(out.size())}, std::vector<int32_t>(out.begin(), out.end()));
    }
  }

  if (r.kind == "video") {
    // One video end to end (video.h): frames sampled and processed, the prompt expanded with the
    // mm:ss frame layout and tokenized with the checkpoint's tokenizer, every frame through the
    // vision tower, the soft tokens scattered into the <|video|> rows, the whole model.
    const std::string rel = e.at("model").get<std::string>();
    const Model& m = b.model(rel);
    const VisionModel& vm = b.vision_model(rel);
    const auto& cfg = e.at("config");
    const HostTensor raw = to_host(tensors.at("video_u8"), file);
    if (raw.shape.size() != 4 || raw.shape[3] != 3) fail(file, "tensor video_u8: expected [F, H, W, 3] uint8");
    Video video;
    video.fps = cfg.at("fps").get<double>();
    const size_t frame_bytes = size_t(raw.shape[1] * raw.shape[2] * 3);
    for (int64_t f = 0; f < raw.shape[0]; ++f) {
      Image img;
      img.height = int(raw.shape[1]);
      img.width = int(raw.shape[2]);
      img.rgb.assign(raw.i.begin() + long(size_t(f) * frame_bytes), raw.i.begin() + long(size_t(f + 1) * frame_bytes));
      video.frames.push_back(std::move(img));
    }
    VideoProcessorConfig vc;
    vc.patch_size = vm.config.patch_size;
    vc.pooling_kernel_size = vm.config.pooling_kernel_size;
    vc.num_frames = cfg.at("num_frames_sampled").get<int>();
    const ProcessedVideo pv = process_video(video, vc);
    inputs = {"video_u8"};
    got["video_frame_indices"] = i32({int64_t(pv.frame_indices.size())},
                                     std::vector<int32_t>(pv.frame_indices.begin(), pv.frame_indices.end()));
    const ProcessedImage& f0 = pv.frames.at(0);
    const int64_t rows = tensors.at("video_pixel_values_rows").shape.at(0), dim = f0.patch_dim;
    got["video_pixel_values_rows"] =
        f32({rows, dim}, std::vector<float>(f0.pixel_values.begin(), f0.pixel_values.begin() + rows * dim));
    std::vector<int32_t> pos_ids;
    for (const ProcessedImage& p : pv.frames) pos_ids.insert(pos_ids.end(), p.position_ids.begin(), p.position_ids.end());
    got["video_pos_ids"] = i32({int64_t(pv.frames.size()), f0.slots(), 2}, pos_ids);
    const std::vector<float> soft = video_soft_tokens(vm, pv, k);
    const int64_t H = m.text().hidden_size;
    got["v_soft_tokens"] = f32({int64_t(soft.size()) / H, H}, soft);
    // The prompt as the processor lays it out, tokenized (no <bos>: it comes from the chat template).
    const std::string text =
        expand_media_placeholders(cfg.at("prompt").get<std::string>(), {pv.media_item()});
    const std::vector<TokenId> tok = load_tokenizer(b.path(rel))->encode(text);
    const std::vector<int> ids(tok.begin(), tok.end());
    const int64_t S = int64_t(ids.size());
    got["inp_tokens"] = i32({S}, std::vector<int32_t>(ids.begin(), ids.end()));
    const MultimodalPrompt prompt = merge_media(m.config, ids, {}, soft, {});
    got["mm_token_type_ids"] = i32({S}, std::vector<int32_t>(prompt.token_types.begin(), prompt.token_types.end()));
    KVCache cache(m.text());
    Activations a;
    forward(m, ids.data(), ids.size(), cache, a, k, capture, prompt.forward_options());
  }

  if (r.kind == "rope") {
    // RoPE tables and rotation of one head per position, per layer type (rope.h).
    const auto& cfg = e.at("config");
    const HostTensor pos_t = to_host(tensors.at("rope_pos"), file);
    const std::vector<int> pos(pos_t.i.begin(), pos_t.i.end());
    inputs = {"rope_pos"};
    for (const char* type : {"sliding", "full"}) {
      const std::string t = type;
      const RopeSpec spec = detail::parse_rope(cfg.at("rope_parameters").at(t + "_attention"), name);
      const int D = cfg.at("head_dim").at(t).get<int>();
      const int64_t P = int64_t(pos.size());
      // Our inv_freq is compared with the reference's directly. The tables are then built from the
      // reference's own inv_freq bits: PyTorch's powf is not correctly rounded (one element of the
      // full table is 1 ulp off), and at positions near 131072 the float32 angle pos·inv_freq turns
      // that ulp into ~2e-3 rad. Building from the stored bits checks everything else the table
      // construction does (cat(freqs, freqs), the unrotated p-RoPE dims, float32 angles, bf16
      // rounding, the rotation) exactly; the decoder cases check our own inv_freq end to end.
      got["rope_inv_freq_" + t] = f32({D / 2}, rope_inv_freq(spec, D));
      const HostTensor reference_inv = to_host(tensors.at("rope_inv_freq_" + t), file);
      RopeTable table;
      table.compute_from_inv_freq(reference_inv.f, D, pos.data(), pos.size());
      got["rope_cos_" + t] = f32({P, D}, table.cos);
      got["rope_sin_" + t] = f32({P, D}, table.sin);
      std::vector<float> cb = table.cos, sb = table.sin;
      for (float& v : cb) v = round_to_bf16(v);
      for (float& v : sb) v = round_to_bf16(v);
      got["rope_cos_" + t + "_bf16"] = f32({P, D}, cb);
      got["rope_sin_" + t + "_bf16"] = f32({P, D}, sb);
      if (wanted("rope_x_" + t)) {
        inputs.push_back("rope_x_" + t);
        HostTensor y = to_host(tensors.at("rope_x_" + t), file);
        k.rope(y.f.data(), pos.size(), 1, size_t(D), table.cos.data(), table.sin.data());
        got["rope_y_" + t] = std::move(y);
      }
    }
  }
  const bool text_kind = r.kind.rfind("text-", 0) == 0;
  const Model* mp = text_kind ? &b.model(e.at("model").get<std::string>()) : nullptr;
  const size_t V = mp ? size_t(mp->text().vocab_size) : 0;
  std::vector<int> ids;
  if (mp && r.kind != "text-batch") {
    const HostTensor ids_t = to_host(tensors.at("inp_tokens"), file);
    ids.assign(ids_t.i.begin(), ids_t.i.end());
  }

  if (!text_kind) {
    // done above
  } else if (r.kind == "text-batch") {
    // A padded batch: each row's real tokens (inp_mask = 1) must give the logits of a
    // single-sequence run; this runtime processes sequences one by one, positions from 0.
    const Model& m = *mp;
    inputs = {"inp_tokens", "inp_mask", "inp_pos"};
    const HostTensor toks = to_host(tensors.at("inp_tokens"), file);
    const HostTensor mask = to_host(tensors.at("inp_mask"), file);
    const size_t rows = size_t(toks.shape.at(0)), len = size_t(toks.shape.at(1));
    for (size_t row = 0; row < rows; ++row) {
      std::vector<int> seq;
      for (size_t t = 0; t < len; ++t)
        if ((mask.dtype == DType::kI32 ? mask.i[row * len + t] : int(mask.f[row * len + t])) != 0)
          seq.push_back(toks.i[row * len + t]);
      KVCache cache(m.text());
      Activations a;
      forward(m, seq.data(), seq.size(), cache, a, k);
      got["result_output_seq" + std::to_string(row)] = f32({int64_t(seq.size()), int64_t(V)}, a.logits);
    }
  } else if (r.kind == "text-prefill-rows") {
    // One long forward pass; only the logits of rows [r0, r1) are stored.
    const Model& m = *mp;
    KVCache cache(m.text());
    Activations a;
    forward(m, ids.data(), ids.size(), cache, a, k);
    const HostTensor rows = to_host(tensors.at("result_output_rows"), file);
    HostTensor sel = f32({int64_t(rows.i.size()), int64_t(V)}, {});
    for (int32_t row : rows.i) {
      if (row < 0 || size_t(row) >= ids.size()) fail(file, "result_output_rows holds an out-of-range row");
      sel.f.insert(sel.f.end(), a.logits.begin() + long(size_t(row) * V), a.logits.begin() + long(size_t(row + 1) * V));
    }
    got["result_output"] = std::move(sel);
    inputs.push_back("result_output_rows");
    HostTensor pos;
    pos.dtype = DType::kI32;
    pos.shape = {int64_t(ids.size())};
    for (size_t t = 0; t < ids.size(); ++t) pos.i.push_back(int32_t(t));
    got["inp_pos"] = std::move(pos);
  } else if (r.kind == "text-prefill") {
    const Model& m = *mp;
    KVCache cache(m.text());
    Activations a;
    forward(m, ids.data(), ids.size(), cache, a, k, capture);
  } else if (r.kind == "text-decode") {
    const Model& m = *mp;
    const TextConfig& c = m.text();
    const int P = e.contains("prefill_len") ? e["prefill_len"].get<int>() : e.at("config").at("prefill_len").get<int>();
    if (P < 1 || size_t(P) > ids.size()) fail(name, "prefill_len out of range");
    KVCache cache(c);
    Activations a;
    forward(m, ids.data(), size_t(P), cache, a, k);
    HostTensor pre;
    pre.shape = {P, int64_t(V)};
    pre.f = a.logits;
    got["result_output"] = std::move(pre);
    HostTensor dec;
    dec.shape = {int64_t(ids.size()) - P, int64_t(V)};
    for (size_t t = size_t(P); t < ids.size(); ++t) {
      forward(m, &ids[t], 1, cache, a, k);
      dec.f.insert(dec.f.end(), a.logits.begin(), a.logits.begin() + long(V));
    }
    got["decode_result_output"] = std::move(dec);
    HostTensor pos;
    pos.dtype = DType::kI32;
    pos.shape = {int64_t(ids.size())};
    for (size_t t = 0; t < ids.size(); ++t) pos.i.push_back(int32_t(t));
    got["inp_pos"] = std::move(pos);
  } else {  // text-generate
    const Model& m = *mp;
    const HostTensor ref = to_host(tensors.at("generate_tokens"), file);
    std::vector<std::vector<float>> steps;
    const std::vector<int> out = generate_greedy(m, ids, int(ref.i.size()), {}, k, &steps);
    HostTensor toks;
    toks.dtype = DType::kI32;
    toks.shape = {int64_t(out.size())};
    toks.i.assign(out.begin(), out.end());
    got["generate_tokens"] = std::move(toks);
    HostTensor lg;
    lg.shape = {int64_t(steps.size()), int64_t(V)};
    for (const auto& s : steps) lg.f.insert(lg.f.end(), s.begin(), s.end());
    got["generate_logits"] = std::move(lg);
  }

  bool all_pass = true;
  for (const std::string& n : listed) {
    if (std::find(inputs.begin(), inputs.end(), n) != inputs.end()) continue;  // inputs of the case
    const HostTensor ref = to_host(tensors.at(n), file);
    auto it = got.find(n);
    TensorResult tr;
    if (it == got.end()) {
      tr.name = n;
      tr.shape = ref.shape;
      tr.nmse = INFINITY;
      tr.cosine = 0;
      tr.note = "not produced by this implementation";
    } else {
      tr = compare(n, it->second, ref, r.tolerance);
    }
    all_pass = all_pass && tr.pass;
    r.tensors.push_back(std::move(tr));
  }
  r.status = all_pass ? CaseResult::kPass : CaseResult::kFail;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

inline nlohmann::json to_json(const CaseResult& r) {
  nlohmann::json j;
  j["name"] = r.name;
  j["kind"] = r.kind;
  j["status"] = r.status == CaseResult::kPass ? "pass" : r.status == CaseResult::kFail ? "fail" : "skip";
  if (!r.note.empty()) j["note"] = r.note;
  j["seconds"] = r.seconds;
  j["tolerance"] = {{"nmse", r.tolerance.nmse}, {"cosine", r.tolerance.cosine}};
  j["max_nmse"] = r.max_nmse();
  j["tensors"] = nlohmann::json::array();
  for (const auto& t : r.tensors) {
    nlohmann::json x = {{"name", t.name}, {"shape", t.shape}, {"pass", t.pass}, {"exact", t.exact}};
    auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    x["max_abs_err"] = num(t.max_abs);
    x["max_rel_err"] = num(t.max_rel);
    x["nmse"] = num(t.nmse);
    x["cosine"] = num(t.cosine);
    if (!t.note.empty()) x["note"] = t.note;
    j["tensors"].push_back(x);
  }
  return j;
}

}  // namespace gemma4::golden
