// The gated MLP (GeGLU): down( gelu_tanh(gate(x)) ⊙ up(x) ), no biases.
// Width I = intermediate_size, or 2·I in the KV-shared layers of E2B ("double-wide MLP",
// use_double_wide_mlp) — the width comes from LayerSpec::intermediate_size.
#pragma once

#include "gemma4/activations.h"
#include "gemma4/ops.h"
#include "gemma4/trace.h"
#include "gemma4/weights.h"

namespace gemma4 {

// x [rows, H] -> out [rows, H]; reports ffn_gate_par (the GeGLU product) and ffn_out.
inline void gated_mlp(const LayerWeights& w, const float* x, size_t rows, Activations& a, float* out,
                      const Kernels& k, const Trace& trace, int layer) {
  const int64_t I = w.gate_proj.rows(), H = w.down_proj.rows();
  ops::matmul(k, x, rows, w.gate_proj, a.gate.data());
  ops::matmul(k, x, rows, w.up_proj, a.up.data());
  k.geglu(a.gate.data(), a.up.data(), a.hidden.data(), rows * size_t(I));
  trace("ffn_gate_par", layer, a.hidden.data(), {int64_t(rows), I});
  ops::matmul(k, a.hidden.data(), rows, w.down_proj, out);
  trace("ffn_out", layer, out, {int64_t(rows), H});
}

}  // namespace gemma4
