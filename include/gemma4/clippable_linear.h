// Gemma4ClippableLinear, the linear layer of the vision and audio towers (never the text model):
//
//   y = clamp(x @ Wᵀ, output_min, output_max),  x clamped to [input_min, input_max] first
//
// The four bounds are scalar tensors stored beside the weight (`<name>.input_min`, ...) and are
// only present, and only applied, when the tower's config sets `use_clipped_linears` (the
// on-device E2B/E4B towers). Otherwise this is a plain linear: `<name>.linear.weight`.
#pragma once

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "gemma4/kernels.h"
#include "gemma4/ops.h"
#include "gemma4/weights.h"

namespace gemma4 {

struct ClippableLinear {
  Weight weight;
  float input_min = -std::numeric_limits<float>::infinity(), input_max = std::numeric_limits<float>::infinity();
  float output_min = -std::numeric_limits<float>::infinity(), output_max = std::numeric_limits<float>::infinity();
  bool clipped = false;

  // y[rows, out] from x[rows, in]; `scratch` holds the clamped input.
  void apply(const Kernels& k, const float* x, size_t rows, float* y, std::vector<float>& scratch) const {
    const float* in = x;
    const size_t n_in = rows * size_t(weight.cols());
    if (clipped) {
      scratch.resize(n_in);
      for (size_t i = 0; i < n_in; ++i) scratch[i] = std::min(std::max(x[i], input_min), input_max);
      in = scratch.data();
    }
    ops::matmul(k, in, rows, weight, y);
    if (clipped) {
      const size_t n_out = rows * size_t(weight.rows());
      for (size_t i = 0; i < n_out; ++i) y[i] = std::min(std::max(y[i], output_min), output_max);
    }
  }
};

// Binds `<name>.linear.weight` [out, in] and, when `clipped`, the four scalar bounds.
inline ClippableLinear bind_clippable_linear(const detail::Binder& b, const std::string& name,
                                             std::vector<int64_t> shape, bool clipped) {
  ClippableLinear l;
  l.weight = b.matrix(name + ".linear.weight", std::move(shape));
  l.clipped = clipped;
  if (clipped) {
    l.input_min = b.vector(name + ".input_min", {}).f32()[0];
    l.input_max = b.vector(name + ".input_max", {}).f32()[0];
    l.output_min = b.vector(name + ".output_min", {}).f32()[0];
    l.output_max = b.vector(name + ".output_max", {}).f32()[0];
  }
  return l;
}

}  // namespace gemma4
