// The scalar reference kernels: plain loops, one per op, the definition every SIMD kernel is
// tested against. Reductions accumulate in double (closest to the exact value); each output
// element is produced by one thread, so results never depend on the thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "gemma4/tensor.h"

namespace gemma4 {
namespace scalar {

inline void matmul_f32(const float* x, size_t rows, size_t in, const float* w, size_t out, float* y) {
#pragma omp parallel for schedule(static) if (rows * in * out >= kParallelWork)
  for (int64_t n = 0; n < int64_t(out); ++n) {
    const float* wn = w + size_t(n) * in;
    for (size_t m = 0; m < rows; ++m) {
      const float* xm = x + m * in;
      double acc = 0.0;
      for (size_t k = 0; k < in; ++k) acc += double(xm[k]) * double(wn[k]);
      y[m * out + size_t(n)] = float(acc);
    }
  }
}

inline void matmul_bf16(const float* x, size_t rows, size_t in, const uint16_t* w, size_t out, float* y) {
#pragma omp parallel for schedule(static) if (rows * in * out >= kParallelWork)
  for (int64_t n = 0; n < int64_t(out); ++n) {
    const uint16_t* wn = w + size_t(n) * in;
    for (size_t m = 0; m < rows; ++m) {
      const float* xm = x + m * in;
      double acc = 0.0;
      for (size_t k = 0; k < in; ++k) acc += double(xm[k]) * double(bf16_to_f32(wn[k]));
      y[m * out + size_t(n)] = float(acc);
    }
  }
}

// Gemma4RMSNorm: x * pow(mean(x^2) + eps, -0.5) [* weight]; the scale is used as is (not 1 + w).
inline void rmsnorm(const float* x, const float* weight, size_t rows, size_t dim, float eps, float* y) {
#pragma omp parallel for schedule(static) if (rows * dim >= kParallelWork)
  for (int64_t r = 0; r < int64_t(rows); ++r) {
    const float* xr = x + size_t(r) * dim;
    float* yr = y + size_t(r) * dim;
    double ss = 0.0;
    for (size_t i = 0; i < dim; ++i) ss += double(xr[i]) * double(xr[i]);
    const float inv = std::pow(float(ss / double(dim)) + eps, -0.5f);
    for (size_t i = 0; i < dim; ++i) {
      const float n = xr[i] * inv;
      yr[i] = weight ? n * weight[i] : n;
    }
  }
}

// x*cos + rotate_half(x)*sin with rotate_half([x1 | x2]) = [-x2 | x1].
inline void rope(float* x, size_t rows, size_t heads, size_t head_dim, const float* cos, const float* sin) {
  const size_t half = head_dim / 2;
#pragma omp parallel for schedule(static) if (rows * heads * head_dim >= kParallelWork)
  for (int64_t rh = 0; rh < int64_t(rows * heads); ++rh) {
    const size_t r = size_t(rh) / heads;
    float* v = x + size_t(rh) * head_dim;
    const float* c = cos + r * head_dim;
    const float* s = sin + r * head_dim;
    for (size_t j = 0; j < half; ++j) {
      const float a = v[j], b = v[j + half];
      const float lo_c = a * c[j], lo_s = -b * s[j];
      const float hi_c = b * c[j + half], hi_s = a * s[j + half];
      v[j] = lo_c + lo_s;
      v[j + half] = hi_c + hi_s;
    }
  }
}

inline void softmax(float* x, size_t n) {
  if (n == 0) return;
  const float mx = *std::max_element(x, x + n);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

inline float gelu_tanh_one(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

inline void gelu_tanh(float* x, size_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t i = 0; i < int64_t(n); ++i) x[i] = gelu_tanh_one(x[i]);
}

inline void geglu(const float* gate, const float* up, float* out, size_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t i = 0; i < int64_t(n); ++i) out[i] = gelu_tanh_one(gate[i]) * up[i];
}

inline void softcap(float* x, size_t n, float cap) {
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t i = 0; i < int64_t(n); ++i) x[i] = cap * std::tanh(x[i] / cap);
}

// softmax(q·kᵀ·scale + mask)·v per (query, head); masked keys get probability 0. A row with no
// allowed key (never produced by Gemma 4 masks: a token always sees itself) outputs zeros.
inline void attention(const AttentionArgs& a) {
  const int group = a.num_q_heads / a.num_kv_heads;
  const size_t D = size_t(a.head_dim);
  const size_t kv_stride = size_t(a.num_kv_heads) * D;
#pragma omp parallel if (size_t(a.num_queries) * size_t(a.num_q_heads) * size_t(a.num_keys) * D >= kParallelWork)
  {
    std::vector<double> p(size_t(a.num_keys));
    std::vector<double> acc(D);
#pragma omp for schedule(static) collapse(2)
    for (int qi = 0; qi < a.num_queries; ++qi) {
      for (int h = 0; h < a.num_q_heads; ++h) {
        const float* q = a.q + (size_t(qi) * size_t(a.num_q_heads) + size_t(h)) * D;
        const uint8_t* allowed = a.mask + size_t(qi) * size_t(a.num_keys);
        const size_t kvh = size_t(h / group) * D;
        double mx = -std::numeric_limits<double>::infinity();
        for (int j = 0; j < a.num_keys; ++j) {
          if (!allowed[j]) continue;
          const float* k = a.k + size_t(j) * kv_stride + kvh;
          double s = 0.0;
          for (size_t d = 0; d < D; ++d) s += double(q[d]) * double(k[d]);
          p[size_t(j)] = s * a.scale;
          mx = std::max(mx, p[size_t(j)]);
        }
        double sum = 0.0;
        for (int j = 0; j < a.num_keys; ++j) {
          p[size_t(j)] = allowed[j] ? std::exp(p[size_t(j)] - mx) : 0.0;
          sum += p[size_t(j)];
        }
        if (a.probs) {
          float* pr = a.probs + (size_t(h) * size_t(a.num_queries) + size_t(qi)) * size_t(a.num_keys);
          for (int j = 0; j < a.num_keys; ++j) pr[j] = sum > 0.0 ? float(p[size_t(j)] / sum) : 0.0f;
        }
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int j = 0; j < a.num_keys; ++j) {
          if (!allowed[j]) continue;
          const double w = p[size_t(j)] / sum;
          const float* v = a.v + size_t(j) * kv_stride + kvh;
          for (size_t d = 0; d < D; ++d) acc[d] += w * double(v[d]);
        }
        float* o = a.out + (size_t(qi) * size_t(a.num_q_heads) + size_t(h)) * D;
        for (size_t d = 0; d < D; ++d) o[d] = sum > 0.0 ? float(acc[d]) : 0.0f;
      }
    }
  }
}

}  // namespace scalar

inline Kernels scalar_kernels() {
  Kernels k;
  k.name = "scalar";
  k.matmul_f32 = &scalar::matmul_f32;
  k.matmul_bf16 = &scalar::matmul_bf16;
  k.rmsnorm = &scalar::rmsnorm;
  k.rope = &scalar::rope;
  k.softmax = &scalar::softmax;
  k.gelu_tanh = &scalar::gelu_tanh;
  k.geglu = &scalar::geglu;
  k.softcap = &scalar::softcap;
  k.attention = &scalar::attention;
  return k;
}

}  // namespace gemma4
