// The golden-bundle loop shared by the core tests: run the bundle's cases of some kinds and check
// every tensor they list at the manifest tolerance (what `gemma4 verify` does, as doctest checks).
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "gemma4/golden.h"
#include "test_util.h"

namespace gemma4::test {

enum class OnSkippedCase { kNote, kFail };

// Runs every case whose kind satisfies `kind_matches` and whose name contains `filter`; within a
// case the first failing tensor is named (layer by layer, so the earliest divergence). Returns the
// number of cases run, or -1 (with a SKIP message) when there is no bundle to run.
inline int check_golden_cases(const std::function<bool(const std::string&)>& kind_matches,
                              const std::string& filter, const Kernels& kernels, OnSkippedCase on_skip) {
  const std::string dir = bundle_dir();
  if (!std::filesystem::exists(std::filesystem::path(dir) / "manifest.json")) {
    MESSAGE("SKIP: no golden bundle at " << dir << " (set GEMMA4_BUNDLE to point at one)");
    return -1;
  }
  golden::Bundle bundle(dir);
  int ran = 0;
  for (const std::string& name : bundle.case_names()) {
    if (!kind_matches(bundle.case_entry(name).value("kind", "")) || name.find(filter) == std::string::npos) continue;
    bundle.release_models();
    const golden::CaseResult r = golden::run_case(bundle, name, kernels);
    if (r.status == golden::CaseResult::kSkip) {
      if (on_skip == OnSkippedCase::kFail) FAIL_CHECK(name << " was skipped: " << r.note);
      else MESSAGE("SKIP " << name << ": " << r.note);
      continue;
    }
    ++ran;
    for (const auto& t : r.tensors) {
      INFO(name << " / " << t.name << ": NMSE " << t.nmse << " cosine " << t.cosine << " " << t.note);
      CHECK(t.pass);
      if (!t.pass) break;
    }
    MESSAGE(name << ": " << r.tensors.size() << " tensors, max NMSE " << r.max_nmse() << ", " << r.seconds << " s");
  }
  return ran;
}

}  // namespace gemma4::test
