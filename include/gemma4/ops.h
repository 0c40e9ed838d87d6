// Thin, typed wrappers over the kernel table: the op calls a decoder layer reads as.
#pragma once

#include "gemma4/error.h"
#include "gemma4/kernels.h"
#include "gemma4/tensor.h"

namespace gemma4::ops {

// y[rows, W.rows] = x[rows, W.cols] · Wᵀ   (nn.Linear without bias; W float32 or bf16).
inline void matmul(const Kernels& k, const float* x, size_t rows, const Weight& W, float* y) {
  if (W.dtype == DType::kF32) {
    k.matmul_f32(x, rows, size_t(W.cols()), W.f32(), size_t(W.rows()), y);
  } else if (W.dtype == DType::kBF16) {
    k.matmul_bf16(x, rows, size_t(W.cols()), W.u16(), size_t(W.rows()), y);
  } else {
    fail(W.name, std::string("matmul: unsupported weight dtype ") + dtype_name(W.dtype));
  }
}

// The same for rows [first, first+count) of a 3-D expert tensor [E, out, in] (expert e's matrix).
inline void matmul_expert(const Kernels& k, const float* x, size_t rows, const Weight& W, int64_t expert, float* y) {
  const size_t out = size_t(W.shape[1]), in = size_t(W.shape[2]);
  const size_t offset = size_t(expert) * out * in;
  if (W.dtype == DType::kF32) k.matmul_f32(x, rows, in, W.f32() + offset, out, y);
  else if (W.dtype == DType::kBF16) k.matmul_bf16(x, rows, in, W.u16() + offset, out, y);
  else fail(W.name, std::string("matmul: unsupported weight dtype ") + dtype_name(W.dtype));
}

// Gemma4RMSNorm over rows of `dim`, with its learned scale (used directly, not 1 + w).
inline void rmsnorm(const Kernels& k, const float* x, size_t rows, const Weight& scale, float eps, float* y) {
  k.rmsnorm(x, scale.f32(), rows, size_t(scale.shape[0]), eps, y);
}

// The weight-free form (v_norm, the router's pre-norm).
inline void rmsnorm_noscale(const Kernels& k, const float* x, size_t rows, size_t dim, float eps, float* y) {
  k.rmsnorm(x, nullptr, rows, dim, eps, y);
}

inline void add(const float* a, const float* b, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

inline void scale(float* x, size_t n, float s) {
  for (size_t i = 0; i < n; ++i) x[i] *= s;
}

}  // namespace gemma4::ops
