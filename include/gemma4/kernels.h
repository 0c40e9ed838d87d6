// The compute kernels behind every op, as a table of function pointers chosen once at the top
// of a forward pass (gemma.cpp style: dispatch coarsely, call directly inside).
//
// Two implementations share one signature per op:
//   * scalar_kernels()  — plain C++ loops (ops_scalar.h), the readable reference;
//   * highway_kernels() — Highway SIMD kernels (ops_highway-inl.h) for the best target this CPU
//     supports, picked by Highway's dynamic dispatch.
//
// Highway's dynamic dispatch needs a compiled part (`foreach_target.h` + HWY_EXPORT tables, plus
// libhwy's target detection), so, stb-style, exactly ONE translation unit of a program must do
//     #define GEMMA4_IMPLEMENTATION
//     #include <gemma4/gemma4.h>
// which instantiates the kernels for every target and defines highway_kernels(). Link libhwy
// (the gemma4::gemma4 CMake target does). Other translation units just include the headers.
//
// Threads: OpenMP splits work across output rows, heads and queries — never inside one
// reduction — so every result is bit-identical for any thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gemma4 {

// One attention call: every query row attends, per query head, to the allowed key rows.
// Query head h reads KV head h / (num_q_heads / num_kv_heads) (GQA, repeat_kv order).
struct AttentionArgs {
  const float* q = nullptr;        // [num_queries, num_q_heads, head_dim]
  const float* k = nullptr;        // [num_keys, num_kv_heads, head_dim]
  const float* v = nullptr;        // [num_keys, num_kv_heads, head_dim]
  const uint8_t* mask = nullptr;   // [num_queries, num_keys], 1 = may attend
  float* out = nullptr;            // [num_queries, num_q_heads, head_dim]
  float* probs = nullptr;          // optional: [num_q_heads, num_queries, num_keys] softmax weights
  int num_queries = 0, num_keys = 0, num_q_heads = 0, num_kv_heads = 0, head_dim = 0;
  float scale = 1.0f;              // Gemma 4: 1.0 (QK-norm replaces 1/sqrt(D))
};

struct Kernels {
  const char* name = "";
  // y[m, n] = Σ_k x[m, k] · w[n, k]    (x: [rows, in], w: [out, in] row-major as in nn.Linear)
  void (*matmul_f32)(const float* x, size_t rows, size_t in, const float* w, size_t out, float* y) = nullptr;
  void (*matmul_bf16)(const float* x, size_t rows, size_t in, const uint16_t* w, size_t out, float* y) = nullptr;
  // y = x · (mean(x²) + eps)^-0.5 · weight, per row of `dim`; weight == nullptr: no scale.
  void (*rmsnorm)(const float* x, const float* weight, size_t rows, size_t dim, float eps, float* y) = nullptr;
  // In place, rotate_half convention: x[j], x[j+D/2] rotated by cos/sin[row, j] (tables [rows, D]).
  void (*rope)(float* x, size_t rows, size_t heads, size_t head_dim, const float* cos, const float* sin) = nullptr;
  // In place softmax over n values (max-subtracted).
  void (*softmax)(float* x, size_t n) = nullptr;
  // In place gelu_pytorch_tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
  void (*gelu_tanh)(float* x, size_t n) = nullptr;
  // out = gelu_tanh(gate) · up   (the GeGLU of the MLPs and experts)
  void (*geglu)(const float* gate, const float* up, float* out, size_t n) = nullptr;
  // In place cap·tanh(x / cap) (the final logit soft-cap).
  void (*softcap)(float* x, size_t n, float cap) = nullptr;
  void (*attention)(const AttentionArgs& args) = nullptr;
};

// Below this many multiply-adds an op runs on the calling thread: forking costs more than it saves.
inline constexpr size_t kParallelWork = size_t(1) << 15;

enum class Backend { kScalar, kHighway };

inline Kernels scalar_kernels();
// Defined in the one translation unit that defines GEMMA4_IMPLEMENTATION.
Kernels highway_kernels();
std::string highway_target_name();
std::vector<Kernels> highway_kernels_per_target();

inline Kernels select_kernels(Backend b) { return b == Backend::kScalar ? scalar_kernels() : highway_kernels(); }

}  // namespace gemma4

#include "gemma4/ops_scalar.h"

#include "gemma4/highway_dispatch.h"
