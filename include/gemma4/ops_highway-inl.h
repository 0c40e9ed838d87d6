// Highway SIMD kernels, one per op, with the same signatures as the scalar references in
// ops_scalar.h. This file is compiled once per SIMD target: kernels.h includes it through
// hwy/foreach_target.h in the one translation unit that defines GEMMA4_IMPLEMENTATION.
// Do not include it directly.
//
// Determinism: every reduction (a dot product, a row's sum of squares, a softmax sum) runs in
// one thread with a fixed lane/accumulator order; OpenMP only splits independent outputs.

// Per-target include guard (the Highway "toggle" idiom).
#if defined(GEMMA4_OPS_HIGHWAY_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GEMMA4_OPS_HIGHWAY_INL_H_
#undef GEMMA4_OPS_HIGHWAY_INL_H_
#else
#define GEMMA4_OPS_HIGHWAY_INL_H_
#endif

#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "gemma4/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace gemma4 {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;

// Σ a[i]·b[i] with four vector accumulators, then a scalar tail.
HWY_INLINE float DotF32(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, size_t n) {
  const DF d;
  const size_t N = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N), s1);
    s2 = hn::MulAdd(hn::LoadU(d, a + i + 2 * N), hn::LoadU(d, b + i + 2 * N), s2);
    s3 = hn::MulAdd(hn::LoadU(d, a + i + 3 * N), hn::LoadU(d, b + i + 3 * N), s3);
  }
  for (; i + N <= n; i += N) s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
  float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// Σ a[i]·bf16(b[i]): bf16 lanes are widened to f32 (exact) before the multiply-add.
HWY_INLINE float DotBF16(const float* HWY_RESTRICT a, const uint16_t* HWY_RESTRICT b, size_t n) {
  const DF d;
  const hn::Rebind<hwy::bfloat16_t, DF> dbf;
  const size_t N = hn::Lanes(d);
  const hwy::bfloat16_t* bb = reinterpret_cast<const hwy::bfloat16_t*>(b);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d);
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::PromoteTo(d, hn::LoadU(dbf, bb + i)), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + N), hn::PromoteTo(d, hn::LoadU(dbf, bb + i + N)), s1);
  }
  for (; i + N <= n; i += N) s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::PromoteTo(d, hn::LoadU(dbf, bb + i)), s0);
  float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
  for (; i < n; ++i) sum += a[i] * bf16_to_f32(b[i]);
  return sum;
}

// Loads `count` <= Lanes floats (zero-padded) / stores the first `count` lanes.
HWY_INLINE hn::Vec<DF> LoadPartial(DF d, const float* p, size_t count) {
  if (count == hn::Lanes(d)) return hn::LoadU(d, p);
  HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {};
  for (size_t i = 0; i < count; ++i) buf[i] = p[i];
  return hn::Load(d, buf);
}
HWY_INLINE void StorePartial(DF d, hn::Vec<DF> v, float* p, size_t count) {
  if (count == hn::Lanes(d)) return hn::StoreU(v, d, p);
  HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {};
  hn::Store(v, d, buf);
  for (size_t i = 0; i < count; ++i) p[i] = buf[i];
}

// Parallel over weight rows (output features); each weight row is streamed once for all x rows.
void MatmulF32(const float* x, size_t rows, size_t in, const float* w, size_t out, float* y) {
#pragma omp parallel for schedule(static) if (rows * in * out >= kParallelWork)
  for (int64_t n = 0; n < int64_t(out); ++n) {
    const float* wn = w + size_t(n) * in;
    for (size_t m = 0; m < rows; ++m) y[m * out + size_t(n)] = DotF32(x + m * in, wn, in);
  }
}

void MatmulBF16(const float* x, size_t rows, size_t in, const uint16_t* w, size_t out, float* y) {
#pragma omp parallel for schedule(static) if (rows * in * out >= kParallelWork)
  for (int64_t n = 0; n < int64_t(out); ++n) {
    const uint16_t* wn = w + size_t(n) * in;
    for (size_t m = 0; m < rows; ++m) y[m * out + size_t(n)] = DotBF16(x + m * in, wn, in);
  }
}

void RmsNorm(const float* x, const float* weight, size_t rows, size_t dim, float eps, float* y) {
#pragma omp parallel for schedule(static) if (rows * dim >= kParallelWork)
  for (int64_t r = 0; r < int64_t(rows); ++r) {
    const DF d;
    const size_t N = hn::Lanes(d);
    const float* xr = x + size_t(r) * dim;
    float* yr = y + size_t(r) * dim;
    const float inv = std::pow(DotF32(xr, xr, dim) / float(dim) + eps, -0.5f);
    const auto vinv = hn::Set(d, inv);
    size_t i = 0;
    for (; i + N <= dim; i += N) {
      auto v = hn::Mul(hn::LoadU(d, xr + i), vinv);
      if (weight) v = hn::Mul(v, hn::LoadU(d, weight + i));
      hn::StoreU(v, d, yr + i);
    }
    for (; i < dim; ++i) yr[i] = weight ? (xr[i] * inv) * weight[i] : xr[i] * inv;
  }
}

void Rope(float* x, size_t rows, size_t heads, size_t head_dim, const float* cos, const float* sin) {
  const size_t half = head_dim / 2;
#pragma omp parallel for schedule(static) if (rows * heads * head_dim >= kParallelWork)
  for (int64_t rh = 0; rh < int64_t(rows * heads); ++rh) {
    const DF d;
    const size_t N = hn::Lanes(d);
    const size_t r = size_t(rh) / heads;
    float* v = x + size_t(rh) * head_dim;
    const float* c = cos + r * head_dim;
    const float* s = sin + r * head_dim;
    size_t j = 0;
    for (; j + N <= half; j += N) {
      const auto a = hn::LoadU(d, v + j), b = hn::LoadU(d, v + j + half);
      const auto lo = hn::Sub(hn::Mul(a, hn::LoadU(d, c + j)), hn::Mul(b, hn::LoadU(d, s + j)));
      const auto hi = hn::Add(hn::Mul(b, hn::LoadU(d, c + j + half)), hn::Mul(a, hn::LoadU(d, s + j + half)));
      hn::StoreU(lo, d, v + j);
      hn::StoreU(hi, d, v + j + half);
    }
    for (; j < half; ++j) {
      const float a = v[j], b = v[j + half];
      v[j] = a * c[j] - b * s[j];
      v[j + half] = b * c[j + half] + a * s[j + half];
    }
  }
}

HWY_INLINE void SoftmaxInPlace(float* x, size_t n) {
  if (n == 0) return;
  const DF d;
  const size_t N = hn::Lanes(d);
  float mx = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  const auto vmx = hn::Set(d, mx);
  auto vsum = hn::Zero(d);
  for (size_t i = 0; i < n; i += N) {
    const size_t count = n - i < N ? n - i : N;
    // Padding lanes hold x = mx - inf, whose exp is 0.
    HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)];
    for (size_t j = 0; j < N; ++j) buf[j] = j < count ? x[i + j] : -std::numeric_limits<float>::infinity();
    const auto e = hn::Exp(d, hn::Sub(hn::Load(d, buf), vmx));
    vsum = hn::Add(vsum, e);
    StorePartial(d, e, x + i, count);
  }
  const float inv = 1.0f / hn::GetLane(hn::SumOfLanes(d, vsum));
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

void Softmax(float* x, size_t n) { SoftmaxInPlace(x, n); }

template <class V>
HWY_INLINE V GeluTanhVec(DF d, V x) {
  const auto k = hn::Set(d, 0.7978845608028654f);
  const auto c = hn::Set(d, 0.044715f);
  const auto half = hn::Set(d, 0.5f);
  const auto one = hn::Set(d, 1.0f);
  const auto inner = hn::Mul(k, hn::Add(x, hn::Mul(c, hn::Mul(hn::Mul(x, x), x))));
  return hn::Mul(hn::Mul(half, x), hn::Add(one, hn::Tanh(d, inner)));
}

// Elementwise ops. The tail is processed as one more (padded) vector rather than with scalar code,
// so an element's value never depends on where it falls in the array (prefill == decode bitwise).
template <class Op>
HWY_INLINE void ForEachVector(size_t n, Op op) {
  const DF d;
  const size_t N = hn::Lanes(d);
  const int64_t blocks = int64_t(n / N);
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t b = 0; b < blocks; ++b) op(size_t(b) * N, N);
  if (n % N) op(size_t(blocks) * N, n % N);
}

void GeluTanh(float* x, size_t n) {
  const DF d;
  ForEachVector(n, [&](size_t i, size_t count) { StorePartial(d, GeluTanhVec(d, LoadPartial(d, x + i, count)), x + i, count); });
}

void Geglu(const float* gate, const float* up, float* out, size_t n) {
  const DF d;
  ForEachVector(n, [&](size_t i, size_t count) {
    StorePartial(d, hn::Mul(GeluTanhVec(d, LoadPartial(d, gate + i, count)), LoadPartial(d, up + i, count)), out + i,
                 count);
  });
}

void Softcap(float* x, size_t n, float cap) {
  const DF d;
  const auto vcap = hn::Set(d, cap);
  // Divide (as PyTorch does) rather than multiply by 1/cap, which rounds differently.
  ForEachVector(n, [&](size_t i, size_t count) {
    StorePartial(d, hn::Mul(vcap, hn::Tanh(d, hn::Div(LoadPartial(d, x + i, count), vcap))), x + i, count);
  });
}

void Attention(const AttentionArgs& a) {
  const int group = a.num_q_heads / a.num_kv_heads;
  const size_t D = size_t(a.head_dim);
  const size_t kv_stride = size_t(a.num_kv_heads) * D;
#pragma omp parallel if (size_t(a.num_queries) * size_t(a.num_q_heads) * size_t(a.num_keys) * D >= kParallelWork)
  {
    const DF d;
    const size_t N = hn::Lanes(d);
    std::vector<float> p(size_t(a.num_keys) + 1);
    std::vector<int> keys(size_t(a.num_keys) + 1);
    std::vector<float> acc(D);
#pragma omp for schedule(static) collapse(2)
    for (int qi = 0; qi < a.num_queries; ++qi) {
      for (int h = 0; h < a.num_q_heads; ++h) {
        const float* q = a.q + (size_t(qi) * size_t(a.num_q_heads) + size_t(h)) * D;
        const uint8_t* allowed = a.mask + size_t(qi) * size_t(a.num_keys);
        const size_t kvh = size_t(h / group) * D;
        // Scores of the allowed keys, packed.
        size_t n = 0;
        for (int j = 0; j < a.num_keys; ++j) {
          if (!allowed[j]) continue;
          keys[n] = j;
          p[n++] = DotF32(q, a.k + size_t(j) * kv_stride + kvh, D) * a.scale;
        }
        float* o = a.out + (size_t(qi) * size_t(a.num_q_heads) + size_t(h)) * D;
        float* pr = a.probs ? a.probs + (size_t(h) * size_t(a.num_queries) + size_t(qi)) * size_t(a.num_keys)
                            : nullptr;
        if (pr)
          for (int j = 0; j < a.num_keys; ++j) pr[j] = 0.0f;
        if (n == 0) {
          for (size_t t = 0; t < D; ++t) o[t] = 0.0f;
          continue;
        }
        SoftmaxInPlace(p.data(), n);
        if (pr)
          for (size_t t = 0; t < n; ++t) pr[keys[t]] = p[t];
        // o = Σ_j p_j · v_j
        for (size_t t = 0; t < D; ++t) acc[t] = 0.0f;
        for (size_t t = 0; t < n; ++t) {
          const float* v = a.v + size_t(keys[t]) * kv_stride + kvh;
          const auto w = hn::Set(d, p[t]);
          size_t e = 0;
          for (; e + N <= D; e += N)
            hn::StoreU(hn::MulAdd(w, hn::LoadU(d, v + e), hn::LoadU(d, acc.data() + e)), d, acc.data() + e);
          for (; e < D; ++e) acc[e] += p[t] * v[e];
        }
        for (size_t t = 0; t < D; ++t) o[t] = acc[t];
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace gemma4
HWY_AFTER_NAMESPACE();

#endif  // GEMMA4_OPS_HIGHWAY_INL_H_ toggle
