// Rotary position embeddings per layer type, as Gemma4TextRotaryEmbedding computes them.
//
//   sliding ("default"):       inv_freq[i] = 1 / θ^(2i/D)                     i < D/2, θ = 1e4
//   full ("proportional", p-RoPE, p = 0.25, θ = 1e6):
//                              inv_freq[i] = 1 / θ^(2i/D)   for i < int(p·D/2)   (exponent over the FULL D)
//                              inv_freq[i] = 0              otherwise  (cos 1, sin 0: unrotated)
//   cos/sin[pos, j] = cos/sin(pos · inv_freq[j mod D/2])   (cat(freqs, freqs)), all in float32.
// Pairs are (j, j + D/2) (rotate_half), so for D = 512 dims 0–63 and 256–319 rotate.
#pragma once

#include <cmath>
#include <vector>

#include "gemma4/config.h"

namespace gemma4 {

// inv_freq in float32 as PyTorch computes it: exponent = float32(2i) / D in float32, then
// float32(θ^exponent), then 1 / that in float32. The power is rounded correctly here; PyTorch's
// vectorised powf (SLEEF, ≤ 1 ulp) differs in a few near-tie elements by one ulp.
inline std::vector<float> rope_inv_freq(const RopeSpec& spec, int head_dim) {
  const int half = head_dim / 2;
  const int rotated = spec.proportional ? int(std::floor(spec.partial_rotary_factor * head_dim / 2.0)) : half;
  std::vector<float> inv(size_t(half), 0.0f);
  const double base = double(float(spec.theta));
  for (int i = 0; i < rotated && i < half; ++i) {
    const float exponent = float(2 * i) / float(head_dim);
    inv[size_t(i)] = 1.0f / float(std::pow(base, double(exponent)));
  }
  if (spec.factor != 1.0)
    for (float& f : inv) f /= float(spec.factor);
  return inv;
}

// cos/sin tables [positions, head_dim] for the given absolute positions.
struct RopeTable {
  int head_dim = 0;
  std::vector<float> cos, sin;

  void compute(const RopeSpec& spec, int dim, const int* positions, size_t n) {
    head_dim = dim;
    const std::vector<float> inv = rope_inv_freq(spec, dim);
    const size_t half = size_t(dim) / 2;
    cos.assign(n * size_t(dim), 0.0f);
    sin.assign(n * size_t(dim), 0.0f);
    for (size_t t = 0; t < n; ++t) {
      for (size_t i = 0; i < half; ++i) {
        const float angle = float(positions[t]) * inv[i];  // float32 product, as in torch
        const float c = float(std::cos(double(angle))), s = float(std::sin(double(angle)));
        cos[t * size_t(dim) + i] = cos[t * size_t(dim) + i + half] = c;
        sin[t * size_t(dim) + i] = sin[t * size_t(dim) + i + half] = s;
      }
    }
  }
};

}  // namespace gemma4
