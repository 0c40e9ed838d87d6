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
// (tables and rotation). Other kinds are reported as skipped until their component lands.
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

#include "gemma4/config.h"
#include "gemma4/error.h"
#include "gemma4/kernels.h"
#include "gemma4/model.h"
#include "gemma4/safetensors.h"
#include "gemma4/synthetic_weights.h"
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
    if (!manifest_.contains("models") || !manifest_["models"].contains(rel))
      fail(manifest_path_, "case refers to model " + rel + ", which models{} does not list");
    const auto& e = manifest_["models"][rel];
    const std::string cfg = e.contains("config") ? path(e["config"].get<std::string>()) : path(rel + "/config.json");
    ModelConfig mc = load_model_config(cfg);
    std::unique_ptr<Model> m;
    const std::string weights = e.contains("weights_file") && e["weights_file"].is_string()
                                    ? path(e["weights_file"].get<std::string>())
                                    : std::string();
    if (!weights.empty() && std::filesystem::exists(weights)) {
      CheckpointSource src(TensorStore::open(weights));
      m = std::make_unique<Model>(Model::from_source(std::move(mc), src));
    } else {
      if (!e.contains("synthetic_weights") || !e["synthetic_weights"].is_array())
        fail(manifest_path_, "model " + rel + " has neither a weights file nor synthetic_weights");
      std::vector<synthetic::TensorSpec> specs;
      for (const auto& s : e["synthetic_weights"]) {
        synthetic::TensorSpec t;
        t.name = s.at("name").get<std::string>();
        t.shape = s.at("shape").get<std::vector<int64_t>>();
        t.center = s.at("center").get<double>();
        t.scale_log2 = s.at("scale_log2").get<int>();
        specs.push_back(std::move(t));
      }
      double bytes = 0;
      for (const auto& t : specs) bytes += 4.0 * double(num_elements(t.shape));
      auto src = std::make_shared<SyntheticSource>(std::move(specs), manifest_path_ + ": models." + rel + ".synthetic_weights");
      // Above ~2 GiB of float32 weights, generate each layer when it runs instead of all at once.
      if (bytes > 2.0 * (1 << 30)) m = std::make_unique<Model>(Model::streaming(std::move(mc), src));
      else m = std::make_unique<Model>(Model::from_source(std::move(mc), *src));
    }
    return *(models_[rel] = std::move(m));
  }

  void release_models() { models_.clear(); }

 private:
  std::string root_, manifest_path_;
  nlohmann::json manifest_;
  std::map<std::string, std::unique_ptr<Model>> models_;
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
                                 "rope"};
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
      RopeTable table;
      table.compute(spec, D, pos.data(), pos.size());
      got["rope_inv_freq_" + t] = f32({D / 2}, rope_inv_freq(spec, D));
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
  const Model* mp = r.kind == "rope" ? nullptr : &b.model(e.at("model").get<std::string>());
  const size_t V = mp ? size_t(mp->text().vocab_size) : 0;
  std::vector<int> ids;
  if (mp && r.kind != "text-batch") {
    const HostTensor ids_t = to_host(tensors.at("inp_tokens"), file);
    ids.assign(ids_t.i.begin(), ids_t.i.end());
  }

  if (r.kind == "rope") {
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
    Trace trace([&](const TensorReport& rep) {
      if (!wanted(rep.name)) return;
      HostTensor h;
      h.dtype = rep.dtype;
      h.shape = rep.shape;
      const size_t n = size_t(num_elements(rep.shape));
      if (rep.dtype == DType::kI32) h.i.assign(static_cast<const int32_t*>(rep.data), static_cast<const int32_t*>(rep.data) + n);
      else h.f.assign(static_cast<const float*>(rep.data), static_cast<const float*>(rep.data) + n);
      got[rep.name] = std::move(h);
    });
    forward(m, ids.data(), ids.size(), cache, a, k, trace);
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
