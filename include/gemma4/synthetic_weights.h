// Synthetic weights: the golden bundle's language-neutral weight algorithm, bit-identical to
// tools/golden/g4golden/synthetic.py, so real-width models run from a manifest without files.
//
//   seed = FNV-1a-64(tensor name)                  x = seed + (i+1)·0x9E3779B97F4A7C15   (mod 2^64)
//   x = splitmix64 finaliser(x)                    u = x >> 40            (top 24 bits)
//   v = (u + 0.5)·2^-23 − 1  ∈ (−1, 1)             w = float32(center + 2^scale_log2 · v)
//
// `center + 2^scale_log2·v` is computed in double; it is exact for the dyadic centers and scales
// the bundle uses, so the only rounding is the final double -> float conversion, as in numpy.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gemma4/tensor.h"

namespace gemma4::synthetic {

inline uint64_t fnv1a64(std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

// v(name, i) for flat index i, as a double in (-1, 1); `seed` = fnv1a64(name).
inline double uniform_pm1(uint64_t seed, uint64_t i) {
  uint64_t x = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x = x ^ (x >> 31);
  const uint64_t u = x >> 40;
  return (double(u) + 0.5) * 0x1p-23 - 1.0;
}

// The generator parameters of one tensor, as listed in the manifest's `synthetic_weights`.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  double center = 0.0;
  int scale_log2 = 0;
};

// Writes elements [start, start+count) of the tensor into out[0..count). Parallel over elements
// with OpenMP; every element is independent, so the result does not depend on the thread count.
inline void fill(const TensorSpec& spec, int64_t start, int64_t count, float* out) {
  const uint64_t seed = fnv1a64(spec.name);
  const double scale = std::ldexp(1.0, spec.scale_log2);
#pragma omp parallel for schedule(static) if (count > (1 << 16))
  for (int64_t j = 0; j < count; ++j) {
    out[j] = float(spec.center + scale * uniform_pm1(seed, uint64_t(start + j)));
  }
}

// The whole tensor as a float32 Weight.
inline Weight generate(const TensorSpec& spec) {
  std::vector<float> values(size_t(num_elements(spec.shape)));
  fill(spec, 0, int64_t(values.size()), values.data());
  return make_f32_weight(spec.name, spec.shape, std::move(values));
}

}  // namespace gemma4::synthetic
