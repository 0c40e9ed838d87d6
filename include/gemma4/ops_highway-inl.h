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

#include <algorithm>
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

// ---- matmul ---------------------------------------------------------------------------------
// y[m, n] = x[m, :] · w[n, :]. Every output uses ONE vector accumulator over k (then a lane sum and
// a scalar tail), whichever tile computes it, so a token's result does not depend on how many
// tokens share the call (prefill == decode, bitwise). Tiles of 4 x-rows × 4 weight-rows reuse each
// load four times; x is blocked by 64 rows so it stays in cache while the weights stream by.

HWY_INLINE hn::Vec<DF> LoadWeights(DF d, const float* p) { return hn::LoadU(d, p); }
HWY_INLINE hn::Vec<DF> LoadWeights(DF d, const uint16_t* p) {
  const hn::Rebind<hwy::bfloat16_t, DF> dbf;
  return hn::PromoteTo(d, hn::LoadU(dbf, reinterpret_cast<const hwy::bfloat16_t*>(p)));
}
HWY_INLINE float WeightToFloat(float w) { return w; }
HWY_INLINE float WeightToFloat(uint16_t w) { return bf16_to_f32(w); }

template <class WT>
HWY_INLINE float Finish(DF d, hn::Vec<DF> acc, const float* x, const WT* w, size_t k, size_t K) {
  float s = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; k < K; ++k) s += x[k] * WeightToFloat(w[k]);
  return s;
}

template <class WT>
HWY_INLINE float Dot1x1(const float* HWY_RESTRICT x, const WT* HWY_RESTRICT w, size_t K) {
  const DF d;
  const size_t N = hn::Lanes(d);
  auto acc = hn::Zero(d);
  size_t k = 0;
  for (; k + N <= K; k += N) acc = hn::MulAdd(hn::LoadU(d, x + k), LoadWeights(d, w + k), acc);
  return Finish(d, acc, x, w, k, K);
}

// One x row against 4 weight rows.
template <class WT>
HWY_INLINE void Dot1x4(const float* HWY_RESTRICT x, const WT* w, size_t K, float* y) {
  const DF d;
  const size_t N = hn::Lanes(d);
  const WT *w0 = w, *w1 = w + K, *w2 = w + 2 * K, *w3 = w + 3 * K;
  auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  size_t k = 0;
  for (; k + N <= K; k += N) {
    const auto xv = hn::LoadU(d, x + k);
    a0 = hn::MulAdd(xv, LoadWeights(d, w0 + k), a0);
    a1 = hn::MulAdd(xv, LoadWeights(d, w1 + k), a1);
    a2 = hn::MulAdd(xv, LoadWeights(d, w2 + k), a2);
    a3 = hn::MulAdd(xv, LoadWeights(d, w3 + k), a3);
  }
  y[0] = Finish(d, a0, x, w0, k, K);
  y[1] = Finish(d, a1, x, w1, k, K);
  y[2] = Finish(d, a2, x, w2, k, K);
  y[3] = Finish(d, a3, x, w3, k, K);
}

// 4 x rows against 4 weight rows: 16 accumulators, 8 loads per 16 multiply-adds.
template <class WT>
HWY_INLINE void Dot4x4(const float* HWY_RESTRICT x, size_t K, const WT* w, float* y, size_t ldy) {
  const DF d;
  const size_t N = hn::Lanes(d);
  const float *x0 = x, *x1 = x + K, *x2 = x + 2 * K, *x3 = x + 3 * K;
  const WT *w0 = w, *w1 = w + K, *w2 = w + 2 * K, *w3 = w + 3 * K;
  auto a00 = hn::Zero(d), a01 = hn::Zero(d), a02 = hn::Zero(d), a03 = hn::Zero(d);
  auto a10 = hn::Zero(d), a11 = hn::Zero(d), a12 = hn::Zero(d), a13 = hn::Zero(d);
  auto a20 = hn::Zero(d), a21 = hn::Zero(d), a22 = hn::Zero(d), a23 = hn::Zero(d);
  auto a30 = hn::Zero(d), a31 = hn::Zero(d), a32 = hn::Zero(d), a33 = hn::Zero(d);
  size_t k = 0;
  for (; k + N <= K; k += N) {
    const auto v0 = LoadWeights(d, w0 + k), v1 = LoadWeights(d, w1 + k);
    const auto v2 = LoadWeights(d, w2 + k), v3 = LoadWeights(d, w3 + k);
    auto u = hn::LoadU(d, x0 + k);
    a00 = hn::MulAdd(u, v0, a00), a01 = hn::MulAdd(u, v1, a01), a02 = hn::MulAdd(u, v2, a02), a03 = hn::MulAdd(u, v3, a03);
    u = hn::LoadU(d, x1 + k);
    a10 = hn::MulAdd(u, v0, a10), a11 = hn::MulAdd(u, v1, a11), a12 = hn::MulAdd(u, v2, a12), a13 = hn::MulAdd(u, v3, a13);
    u = hn::LoadU(d, x2 + k);
    a20 = hn::MulAdd(u, v0, a20), a21 = hn::MulAdd(u, v1, a21), a22 = hn::MulAdd(u, v2, a22), a23 = hn::MulAdd(u, v3, a23);
    u = hn::LoadU(d, x3 + k);
    a30 = hn::MulAdd(u, v0, a30), a31 = hn::MulAdd(u, v1, a31), a32 = hn::MulAdd(u, v2, a32), a33 = hn::MulAdd(u, v3, a33);
  }
  float* y0 = y;
  float* y1 = y + ldy;
  float* y2 = y + 2 * ldy;
  float* y3 = y + 3 * ldy;
  y0[0] = Finish(d, a00, x0, w0, k, K), y0[1] = Finish(d, a01, x0, w1, k, K);
  y0[2] = Finish(d, a02, x0, w2, k, K), y0[3] = Finish(d, a03, x0, w3, k, K);
  y1[0] = Finish(d, a10, x1, w0, k, K), y1[1] = Finish(d, a11, x1, w1, k, K);
  y1[2] = Finish(d, a12, x1, w2, k, K), y1[3] = Finish(d, a13, x1, w3, k, K);
  y2[0] = Finish(d, a20, x2, w0, k, K), y2[1] = Finish(d, a21, x2, w1, k, K);
  y2[2] = Finish(d, a22, x2, w2, k, K), y2[3] = Finish(d, a23, x2, w3, k, K);
  y3[0] = Finish(d, a30, x3, w0, k, K), y3[1] = Finish(d, a31, x3, w1, k, K);
  y3[2] = Finish(d, a32, x3, w2, k, K), y3[3] = Finish(d, a33, x3, w3, k, K);
}

template <class WT>
HWY_INLINE void MatmulT(const float* x, size_t rows, size_t K, const WT* w, size_t out, float* y) {
  constexpr size_t kRowBlock = 64;
  const int64_t col_blocks = int64_t((out + 3) / 4);
  for (size_t m0 = 0; m0 < rows; m0 += kRowBlock) {
    const size_t m1 = std::min(rows, m0 + kRowBlock);
#pragma omp parallel for schedule(static) if ((m1 - m0) * K * out >= kParallelWork)
    for (int64_t cb = 0; cb < col_blocks; ++cb) {
      const size_t n = size_t(cb) * 4;
      const WT* wn = w + n * K;
      if (n + 4 <= out) {
        size_t m = m0;
        for (; m + 4 <= m1; m += 4) Dot4x4(x + m * K, K, wn, y + m * out + n, out);
        for (; m < m1; ++m) Dot1x4(x + m * K, wn, K, y + m * out + n);
      } else {
        for (size_t m = m0; m < m1; ++m)
          for (size_t j = n; j < out; ++j) y[m * out + j] = Dot1x1(x + m * K, w + j * K, K);
      }
    }
  }
}

void MatmulF32(const float* x, size_t rows, size_t in, const float* w, size_t out, float* y) {
  MatmulT(x, rows, in, w, out, y);
}

void MatmulBF16(const float* x, size_t rows, size_t in, const uint16_t* w, size_t out, float* y) {
  MatmulT(x, rows, in, w, out, y);
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
