// Every kernel: scalar reference vs Highway vs a double-precision evaluation, with error bounds
// that scale with the inputs (gemma.cpp style), never a fixed atol.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

#include "gemma4/gemma4.h"

using namespace gemma4;

namespace {

constexpr double kEps = 0x1p-24;  // float32 unit roundoff

std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> o(v.size());
  for (size_t i = 0; i < v.size(); ++i) o[i] = f32_to_bf16(v[i]);
  return o;
}

const Kernels& scalar_k() {
  static const Kernels k = scalar_kernels();
  return k;
}
// Every Highway target compiled in and supported by this CPU, each checked on its own.
const std::vector<Kernels>& highway_targets() {
  static const std::vector<Kernels> k = highway_kernels_per_target();
  return k;
}

}  // namespace

TEST_SUITE("ops") {

TEST_CASE("Highway: at least the best target and a fallback are tested") {
  for (const Kernels& k : highway_targets()) MESSAGE("Highway target " << std::string(k.name));
  CHECK(highway_targets().size() >= 2);
}

TEST_CASE("bf16 and f16 conversions") {
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(bf16_to_f32(0x3f80) == 1.0f);
  CHECK(round_to_bf16(1.00390625f) == 1.0f);          // tie -> even
  CHECK(round_to_bf16(1.01171875f) == 1.015625f);     // tie -> even (up)
  CHECK(round_to_bf16(std::sqrt(1536.0f)) == 39.25f);  // the E2B embedding scale
  CHECK(round_to_bf16(std::sqrt(2560.0f)) == 50.5f);
  CHECK(round_to_bf16(std::sqrt(2816.0f)) == 53.0f);
  CHECK(round_to_bf16(std::sqrt(5376.0f)) == 73.5f);
  CHECK(f16_to_f32(0x3c00) == 1.0f);
  CHECK(f16_to_f32(0xc000) == -2.0f);
  CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(std::isinf(f16_to_f32(0x7c00)));
}

TEST_CASE("matmul f32 and bf16: scalar and Highway within the summation bound of the exact product") {
  for (const Kernels& hk : highway_targets())
  for (size_t K : {1u, 7u, 16u, 63u, 257u, 1000u}) {
    for (size_t M : {1u, 3u}) {
      const size_t N = 37;
      const auto x = random_vec(M * K, uint32_t(K * 10 + M));
      const auto w = random_vec(N * K, uint32_t(K * 100 + M), -1.0f, 1.0f);
      const auto wb = to_bf16(w);
      for (bool bf16 : {false, true}) {
        std::vector<float> ys(M * N), yh(M * N);
        if (bf16) {
          scalar_k().matmul_bf16(x.data(), M, K, wb.data(), N, ys.data());
          hk.matmul_bf16(x.data(), M, K, wb.data(), N, yh.data());
        } else {
          scalar_k().matmul_f32(x.data(), M, K, w.data(), N, ys.data());
          hk.matmul_f32(x.data(), M, K, w.data(), N, yh.data());
        }
        for (size_t m = 0; m < M; ++m)
          for (size_t n = 0; n < N; ++n) {
            double exact = 0, mag = 0;
            for (size_t k = 0; k < K; ++k) {
              const double wk = bf16 ? double(bf16_to_f32(wb[n * K + k])) : double(w[n * K + k]);
              exact += double(x[m * K + k]) * wk;
              mag += std::fabs(double(x[m * K + k]) * wk);
            }
            // Any summation order: |error| <= (K + 1)·u·Σ|x·w| (+ the final rounding).
            const double bound = (double(K) + 2.0) * kEps * mag + 1e-30;
            INFO(hk.name << " K=" << K << " M=" << M << " n=" << n << " bf16=" << bf16);
            CHECK(std::fabs(ys[m * N + n] - exact) <= bound);
            CHECK(std::fabs(yh[m * N + n] - exact) <= bound);
          }
      }
    }
  }
}

TEST_CASE("rmsnorm with scale and weight-free: scalar and Highway vs double") {
  for (const Kernels& hk : highway_targets())
  for (size_t dim : {1u, 5u, 16u, 100u, 2816u}) {
    const size_t rows = 3;
    const auto x = random_vec(rows * dim, uint32_t(dim), -3.0f, 3.0f);
    const auto w = random_vec(dim, uint32_t(dim + 1), 0.5f, 1.5f);
    for (bool with_scale : {true, false}) {
      std::vector<float> ys(rows * dim), yh(rows * dim);
      scalar_k().rmsnorm(x.data(), with_scale ? w.data() : nullptr, rows, dim, 1e-6f, ys.data());
      hk.rmsnorm(x.data(), with_scale ? w.data() : nullptr, rows, dim, 1e-6f, yh.data());
      for (size_t r = 0; r < rows; ++r) {
        double ss = 0;
        for (size_t i = 0; i < dim; ++i) ss += double(x[r * dim + i]) * x[r * dim + i];
        const double inv = 1.0 / std::sqrt(ss / double(dim) + 1e-6);
        for (size_t i = 0; i < dim; ++i) {
          const double ref = double(x[r * dim + i]) * inv * (with_scale ? double(w[i]) : 1.0);
          const double bound = (double(dim) + 8.0) * kEps * std::fabs(ref) + 1e-30;
          CHECK(std::fabs(ys[r * dim + i] - ref) <= bound);
          CHECK(std::fabs(yh[r * dim + i] - ref) <= bound);
        }
      }
    }
  }
}

TEST_CASE("rope: rotate_half pairs (j, j+D/2); p-RoPE passes the unrotated dims through bit-exactly") {
  for (const Kernels& hk : highway_targets())
  for (int D : {16, 32, 512}) {
    for (bool proportional : {false, true}) {
      RopeSpec spec = proportional ? RopeSpec{1e6, 0.25, 1.0, true} : RopeSpec{1e4, 1.0, 1.0, false};
      const std::vector<int> pos = {0, 1, 7, 187, 8192, 65536, 131071};
      RopeTable table;
      table.compute(spec, D, pos.data(), pos.size());
      const size_t heads = 2;
      const auto x = random_vec(pos.size() * heads * size_t(D), uint32_t(D));
      auto xs = x, xh = x;
      scalar_k().rope(xs.data(), pos.size(), heads, size_t(D), table.cos.data(), table.sin.data());
      hk.rope(xh.data(), pos.size(), heads, size_t(D), table.cos.data(), table.sin.data());
      const std::vector<float> inv = rope_inv_freq(spec, D);
      const int rotated = proportional ? D / 8 : D / 2;  // int(0.25·D/2)
      for (int i = rotated; i < D / 2; ++i) CHECK(inv[size_t(i)] == 0.0f);
      for (int i = 0; i < rotated; ++i) {
        CHECK(inv[size_t(i)] > 0.0f);
        // exponent over the FULL head dim (not the rotated width)
        CHECK(std::fabs(inv[size_t(i)] - std::pow(spec.theta, -2.0 * i / D)) <= 4 * kEps * inv[size_t(i)]);
      }
      for (size_t t = 0; t < pos.size(); ++t)
        for (size_t h = 0; h < heads; ++h) {
          const float* in = &x[(t * heads + h) * size_t(D)];
          for (int j = 0; j < D; ++j) {
            const size_t idx = (t * heads + h) * size_t(D) + size_t(j);
            const int f = j % (D / 2);
            if (f >= rotated) {  // untouched dims: bit-identical
              CHECK(xs[idx] == in[j]);
              CHECK(xh[idx] == in[j]);
              continue;
            }
            const double c = table.cos[t * size_t(D) + size_t(j)], s = table.sin[t * size_t(D) + size_t(j)];
            const double ref = j < D / 2 ? in[j] * c - in[j + D / 2] * s : in[j] * c + in[j - D / 2] * s;
            const double bound = 4 * kEps * (std::fabs(in[j] * c) + std::fabs(in[(j + D / 2) % D] * s)) + 1e-30;
            CHECK(std::fabs(xs[idx] - ref) <= bound);
            CHECK(std::fabs(xh[idx] - ref) <= bound);
          }
        }
    }
  }
}

TEST_CASE("softmax, gelu_tanh, geglu, softcap: scalar and Highway vs double") {
  for (const Kernels& hk : highway_targets())
  for (size_t n : {1u, 3u, 8u, 33u, 1000u}) {
    const auto x = random_vec(n, uint32_t(n), -8.0f, 8.0f);
    const auto y = random_vec(n, uint32_t(n + 7), -2.0f, 2.0f);
    // softmax
    auto ss = x, sh = x;
    scalar_k().softmax(ss.data(), n);
    hk.softmax(sh.data(), n);
    double mx = -1e300, sum = 0;
    for (float v : x) mx = std::max(mx, double(v));
    for (float v : x) sum += std::exp(double(v) - mx);
    for (size_t i = 0; i < n; ++i) {
      const double ref = std::exp(double(x[i]) - mx) / sum;
      const double bound = (double(n) + 16.0) * kEps * ref + 1e-30;
      CHECK(std::fabs(ss[i] - ref) <= bound);
      CHECK(std::fabs(sh[i] - ref) <= bound);
    }
    // gelu_tanh and geglu
    auto gs = x, gh = x;
    std::vector<float> es(n), eh(n);
    scalar_k().gelu_tanh(gs.data(), n);
    hk.gelu_tanh(gh.data(), n);
    scalar_k().geglu(x.data(), y.data(), es.data(), n);
    hk.geglu(x.data(), y.data(), eh.data(), n);
    for (size_t i = 0; i < n; ++i) {
      const double v = x[i];
      const double ref = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
      // tanh near ±1 loses relative accuracy in 1 + tanh: bound by the magnitude of the terms.
      const double bound = 16 * kEps * (0.5 * std::fabs(v) * 2.0) + 1e-30;
      CHECK(std::fabs(gs[i] - ref) <= bound);
      CHECK(std::fabs(gh[i] - ref) <= bound);
      CHECK(std::fabs(es[i] - ref * y[i]) <= bound * std::fabs(y[i]) + 2 * kEps * std::fabs(ref * y[i]) + 1e-30);
      CHECK(std::fabs(eh[i] - ref * y[i]) <= bound * std::fabs(y[i]) + 2 * kEps * std::fabs(ref * y[i]) + 1e-30);
    }
    // softcap 30·tanh(x/30) on large logits
    auto cs = x, ch = x;
    for (auto* v : {&cs, &ch})
      for (float& t : *v) t *= 20.0f;
    scalar_k().softcap(cs.data(), n, 30.0f);
    hk.softcap(ch.data(), n, 30.0f);
    for (size_t i = 0; i < n; ++i) {
      const double ref = 30.0 * std::tanh(double(x[i] * 20.0f) / 30.0);
      const double bound = 8 * kEps * 30.0;
      CHECK(std::fabs(cs[i] - ref) <= bound);
      CHECK(std::fabs(ch[i] - ref) <= bound);
      CHECK(std::fabs(ch[i]) <= 30.0f);
    }
  }
}

TEST_CASE("attention: GQA, masks, scale 1.0 — scalar and Highway vs double; probabilities reported") {
  const int Hq = 4, Hkv = 2, D = 24, nq = 5, nk = 9;
  const auto q = random_vec(size_t(nq * Hq * D), 1, -1.0f, 1.0f);
  const auto k = random_vec(size_t(nk * Hkv * D), 2, -1.0f, 1.0f);
  const auto v = random_vec(size_t(nk * Hkv * D), 3, -1.0f, 1.0f);
  std::vector<uint8_t> mask(size_t(nq * nk));
  for (int i = 0; i < nq; ++i)
    for (int j = 0; j < nk; ++j) mask[size_t(i * nk + j)] = (j <= i + 4 && j > i - 2) ? 1 : 0;
  std::vector<const Kernels*> all = {&scalar_k()};
  for (const Kernels& hk : highway_targets()) all.push_back(&hk);
  for (const Kernels* kern : all) {
    std::vector<float> out(size_t(nq * Hq * D)), probs(size_t(Hq * nq * nk));
    AttentionArgs a;
    a.q = q.data();
    a.k = k.data();
    a.v = v.data();
    a.mask = mask.data();
    a.out = out.data();
    a.probs = probs.data();
    a.num_queries = nq;
    a.num_keys = nk;
    a.num_q_heads = Hq;
    a.num_kv_heads = Hkv;
    a.head_dim = D;
    kern->attention(a);
    for (int i = 0; i < nq; ++i)
      for (int h = 0; h < Hq; ++h) {
        const int kvh = h / (Hq / Hkv);  // repeat_kv: consecutive query heads share a KV head
        std::vector<double> s(size_t(nk), 0.0);
        double mx = -1e300, sum = 0, smax = 0, vmax = 0;
        for (int j = 0; j < nk; ++j) {
          if (!mask[size_t(i * nk + j)]) continue;
          double mag = 0;
          for (int d = 0; d < D; ++d) {
            s[size_t(j)] += double(q[size_t((i * Hq + h) * D + d)]) * k[size_t((j * Hkv + kvh) * D + d)];
            mag += std::fabs(double(q[size_t((i * Hq + h) * D + d)]) * k[size_t((j * Hkv + kvh) * D + d)]);
            vmax = std::max(vmax, double(std::fabs(v[size_t((j * Hkv + kvh) * D + d)])));
          }
          smax = std::max(smax, mag);
          mx = std::max(mx, s[size_t(j)]);
        }
        for (int j = 0; j < nk; ++j) {
          s[size_t(j)] = mask[size_t(i * nk + j)] ? std::exp(s[size_t(j)] - mx) : 0.0;
          sum += s[size_t(j)];
        }
        for (int j = 0; j < nk; ++j) {
          const double p = s[size_t(j)] / sum;
          CHECK(std::fabs(probs[size_t((h * nq + i) * nk + j)] - p) <= (2.0 * double(D) * smax + double(nk) + 8.0) * kEps * p + 1e-30);
          if (!mask[size_t(i * nk + j)]) CHECK(probs[size_t((h * nq + i) * nk + j)] == 0.0f);
        }
        for (int d = 0; d < D; ++d) {
          double ref = 0;
          for (int j = 0; j < nk; ++j) ref += s[size_t(j)] / sum * v[size_t((j * Hkv + kvh) * D + d)];
          // A score's error is <= D·u·Σ|q·k|, which moves the probabilities by up to twice that;
          // the weighted sum of values adds nk·u. All scaled by max|v|.
          const double bound = (2.0 * double(D) * smax + double(nk) + 8.0) * kEps * vmax + 1e-30;
          INFO(kern->name << " i=" << i << " h=" << h << " d=" << d);
          CHECK(std::fabs(out[size_t((i * Hq + h) * D + d)] - ref) <= bound);
        }
      }
  }
}

TEST_CASE("kernels are bit-identical for 1, 2 and 3 OpenMP threads") {
  const size_t M = 7, K = 300, N = 513;
  const auto x = random_vec(M * K, 11);
  const auto w = random_vec(N * K, 12);
  std::vector<const Kernels*> all = {&scalar_k()};
  for (const Kernels& hk : highway_targets()) all.push_back(&hk);
  for (const Kernels* kern : all) {
    std::vector<std::vector<float>> results;
    const int saved = omp_get_max_threads();
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      std::vector<float> y(M * N);
      kern->matmul_f32(x.data(), M, K, w.data(), N, y.data());
      results.push_back(y);
    }
    omp_set_num_threads(saved);
    CHECK(results[0] == results[1]);
    CHECK(results[0] == results[2]);
  }
}

}  // TEST_SUITE
