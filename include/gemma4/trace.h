// Named intermediates: a forward pass can hand every tensor it computes to a callback, under the
// names of the golden bundle (llama.cpp style: "attn_norm-3", "Kcur_pos-0", "result_output").
// `gemma4 verify` compares them with the goldens; a reader can dump them to debug a port.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gemma4/tensor.h"

namespace gemma4 {

struct TensorReport {
  std::string name;              // e.g. "Qcur_normed-4"
  DType dtype = DType::kF32;     // kF32, or kI32 (expert indices)
  std::vector<int64_t> shape;    // tokens first, batch dimension omitted
  const void* data = nullptr;    // valid during the callback only
};

using TensorCallback = std::function<void(const TensorReport&)>;

class Trace {
 public:
  Trace() = default;
  explicit Trace(TensorCallback cb) : cb_(std::move(cb)) {}
  bool enabled() const { return bool(cb_); }

  // `layer` < 0: a global tensor without the "-N" suffix.
  void operator()(const char* name, int layer, const float* data, std::vector<int64_t> shape) const {
    emit(name, layer, DType::kF32, data, std::move(shape));
  }
  void operator()(const char* name, int layer, const int32_t* data, std::vector<int64_t> shape) const {
    emit(name, layer, DType::kI32, data, std::move(shape));
  }

 private:
  void emit(const char* name, int layer, DType dt, const void* data, std::vector<int64_t> shape) const {
    if (!cb_) return;
    TensorReport r;
    r.name = layer < 0 ? std::string(name) : std::string(name) + "-" + std::to_string(layer);
    r.dtype = dt;
    r.shape = std::move(shape);
    r.data = data;
    cb_(r);
  }
  TensorCallback cb_;
};

}  // namespace gemma4
