// Where weights come from: a safetensors checkpoint, or the golden bundle's synthetic-weight
// algorithm (real-width models whose weights are not shipped). The binder (weights.h) asks a
// WeightSource for tensors by their Hugging Face name and never cares which kind it is.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gemma4/error.h"
#include "gemma4/safetensors.h"
#include "gemma4/synthetic_weights.h"
#include "gemma4/tensor.h"

namespace gemma4 {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool contains(const std::string& name) const = 0;
  // The tensor; throws Error naming the source and the tensor when it is absent.
  virtual Weight get(const std::string& name) const = 0;
  // Shape and dtype without materialising the data (synthetic tensors are generated in get()).
  virtual std::vector<int64_t> shape_of(const std::string& name) const = 0;
  // Names the file (or the manifest) for error messages.
  virtual std::string where(const std::string& name) const = 0;
};

class CheckpointSource : public WeightSource {
 public:
  explicit CheckpointSource(TensorStore store) : store_(std::move(store)) {}
  static std::unique_ptr<CheckpointSource> open(const std::string& path) {
    return std::make_unique<CheckpointSource>(TensorStore::open(path));
  }
  bool contains(const std::string& name) const override { return store_.find(name) != nullptr; }
  Weight get(const std::string& name) const override {
    const Weight* w = store_.find(name);
    if (!w) fail(store_.describe(), "tensor " + name + " not found");
    return *w;
  }
  std::vector<int64_t> shape_of(const std::string& name) const override { return get(name).shape; }
  std::string where(const std::string& name) const override {
    const std::string f = store_.file_of(name);
    return f.empty() ? store_.describe() : f;
  }

 private:
  TensorStore store_;
};

// Tensors generated on demand from (name, shape, center, scale_log2) — see synthetic_weights.h.
class SyntheticSource : public WeightSource {
 public:
  SyntheticSource(std::vector<synthetic::TensorSpec> specs, std::string origin) : origin_(std::move(origin)) {
    for (auto& s : specs) specs_.emplace(s.name, std::move(s));
  }
  bool contains(const std::string& name) const override { return specs_.count(name) != 0; }
  Weight get(const std::string& name) const override { return synthetic::generate(spec(name)); }
  std::vector<int64_t> shape_of(const std::string& name) const override { return spec(name).shape; }
  std::string where(const std::string&) const override { return origin_; }

 private:
  const synthetic::TensorSpec& spec(const std::string& name) const {
    auto it = specs_.find(name);
    if (it == specs_.end()) fail(origin_, "synthetic_weights has no tensor " + name);
    return it->second;
  }
  std::map<std::string, synthetic::TensorSpec> specs_;
  std::string origin_;
};

}  // namespace gemma4
