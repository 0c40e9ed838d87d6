// The compiled part of the Highway kernels: instantiated only in the one translation unit that
// defines GEMMA4_IMPLEMENTATION before including gemma4 headers (see kernels.h). This header has no
// include guard on purpose: a later include with the define set still instantiates (once).
#if defined(GEMMA4_IMPLEMENTATION) && !defined(GEMMA4_IMPLEMENTATION_INSTANTIATED)
#define GEMMA4_IMPLEMENTATION_INSTANTIATED
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gemma4/ops_highway-inl.h"
#include <hwy/foreach_target.h>  // re-includes ops_highway-inl.h once per target
#include <hwy/highway.h>

#include "gemma4/ops_highway-inl.h"

#if HWY_ONCE
namespace gemma4 {
HWY_EXPORT(MatmulF32);
HWY_EXPORT(MatmulBF16);
HWY_EXPORT(RmsNorm);
HWY_EXPORT(Rope);
HWY_EXPORT(Softmax);
HWY_EXPORT(GeluTanh);
HWY_EXPORT(Geglu);
HWY_EXPORT(Softcap);
HWY_EXPORT(Attention);

Kernels highway_kernels() {
  // Detect the CPU once, so the table below holds the final per-target functions.
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
  Kernels k;
  k.name = "highway";
  k.matmul_f32 = &HWY_DYNAMIC_DISPATCH(MatmulF32);
  k.matmul_bf16 = &HWY_DYNAMIC_DISPATCH(MatmulBF16);
  k.rmsnorm = &HWY_DYNAMIC_DISPATCH(RmsNorm);
  k.rope = &HWY_DYNAMIC_DISPATCH(Rope);
  k.softmax = &HWY_DYNAMIC_DISPATCH(Softmax);
  k.gelu_tanh = &HWY_DYNAMIC_DISPATCH(GeluTanh);
  k.geglu = &HWY_DYNAMIC_DISPATCH(Geglu);
  k.softcap = &HWY_DYNAMIC_DISPATCH(Softcap);
  k.attention = &HWY_DYNAMIC_DISPATCH(Attention);
  return k;
}

// The Highway target the dispatch picked on this CPU (e.g. "AVX2"), for logs.
// One kernel table per SIMD target this binary contains and this CPU runs (AVX3, AVX2, SSE4, ...,
// and the EMU128/SCALAR fallback): lets tests check every target, not only the best one.
std::vector<Kernels> highway_kernels_per_target() {
  std::vector<Kernels> out;
  for (const int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    Kernels k = highway_kernels();
    k.name = hwy::TargetName(target);
    out.push_back(k);
  }
  hwy::SetSupportedTargetsForTest(0);
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
  return out;
}

// Highway prefers the lowest set bit among the compiled targets this CPU supports.
std::string highway_target_name() {
  const int64_t usable = hwy::SupportedTargets() & HWY_TARGETS;
  return hwy::TargetName(usable & -usable);
}
}  // namespace gemma4
#endif  // HWY_ONCE
#endif  // GEMMA4_IMPLEMENTATION
