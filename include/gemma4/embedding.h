// Token embeddings: x0 = E[ids] · √H, with √H rounded to the embedding's dtype first.
//
// Gemma4TextScaledWordEmbedding multiplies by `embed_scale.to(weight.dtype)`: with the released
// bf16 checkpoints the multiplier is bf16(√H) (39.25, 50.5, 53.0, 73.5 for E2B, E4B, 26B, 31B);
// with float32 weights it is float32(√H). The same rule scales the PLE table by √P (16 for P=256,
// exact in any dtype). The tied LM head uses the unscaled E.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "gemma4/error.h"
#include "gemma4/tensor.h"

namespace gemma4 {

// float32(√n), then rounded to the table's storage dtype as PyTorch's .to(dtype) would.
inline float embedding_scale(int n, DType table_dtype) {
  const float s = float(std::sqrt(double(n)));
  if (table_dtype == DType::kBF16) return round_to_bf16(s);
  if (table_dtype == DType::kF16) {
    // f16 has 10 mantissa bits: round-to-nearest-even at bit 13 of the float32 mantissa.
    uint32_t bits;
    std::memcpy(&bits, &s, 4);
    bits += 0xfffu + ((bits >> 13) & 1u);
    bits &= ~0x1fffu;
    float r;
    std::memcpy(&r, &bits, 4);
    return r;
  }
  return s;
}

// out[t, :] = table[ids[t], :] · scale   (table [V, width], float32 or bf16)
inline void embed_rows(const Weight& table, const int* ids, size_t n, float scale, float* out) {
  const int64_t V = table.rows(), width = table.cols();
  for (size_t t = 0; t < n; ++t) {
    if (ids[t] < 0 || ids[t] >= V)
      fail(table.name, "token id " + std::to_string(ids[t]) + " outside the vocabulary [0, " + std::to_string(V) + ")");
    float* o = out + t * size_t(width);
    const size_t row = size_t(ids[t]) * size_t(width);
    if (table.dtype == DType::kF32) {
      for (int64_t j = 0; j < width; ++j) o[j] = table.f32()[row + size_t(j)] * scale;
    } else if (table.dtype == DType::kBF16) {
      for (int64_t j = 0; j < width; ++j) o[j] = bf16_to_f32(table.u16()[row + size_t(j)]) * scale;
    } else {
      fail(table.name, std::string("embedding: unsupported dtype ") + dtype_name(table.dtype));
    }
  }
}

}  // namespace gemma4
