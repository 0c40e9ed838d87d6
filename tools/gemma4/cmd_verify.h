// `gemma4 verify [BUNDLE]`: replays every case of a golden bundle whose kind is implemented (text,
// rope, image preprocessing, vision tower, multimodal, video) through the C++ code and compares each
// listed tensor (golden.h). Prints a table per case and a summary line; exits non-zero when any
// case fails.
#pragma once

// The gemma4 CLI is a single translation unit (main.cpp): instantiate the Highway kernels here.
#ifndef GEMMA4_IMPLEMENTATION
#define GEMMA4_IMPLEMENTATION
#endif

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "cli_common.h"
#include "gemma4/gemma4.h"
#include "gemma4/golden.h"

namespace gemma4::cli {

struct VerifyOptions {
  std::string bundle = GEMMA4_DEFAULT_BUNDLE;
  std::string json_path;
  std::string case_pattern;
  std::string backend = "highway";
  bool quiet = false;
};

inline void print_case(const golden::CaseResult& r, bool quiet) {
  const char* status = r.status == golden::CaseResult::kPass ? "PASS" : r.status == golden::CaseResult::kFail ? "FAIL" : "SKIP";
  std::printf("\n== %s  [%s]  %s", r.name.c_str(), r.kind.c_str(), status);
  if (r.status != golden::CaseResult::kSkip)
    std::printf("  (%.2fs, max NMSE %.3g, tolerance NMSE <= %.0e, cosine >= %.7f)", r.seconds, r.max_nmse(),
                r.tolerance.nmse, r.tolerance.cosine);
  std::printf("\n");
  if (!r.note.empty()) std::printf("   %s\n", r.note.c_str());
  if (r.tensors.empty()) return;
  if (!quiet || r.status == golden::CaseResult::kFail) {
    std::printf("   %-28s %12s %12s %12s %14s  %s\n", "tensor", "max_abs_err", "max_rel_err", "nmse", "cosine", "");
    for (const auto& t : r.tensors) {
      if (quiet && t.pass) continue;
      std::printf("   %-28s %12.3e %12.3e %12.3e %14.10f  %s%s%s\n", t.name.c_str(), t.max_abs, t.max_rel, t.nmse,
                  t.cosine, t.pass ? "pass" : "FAIL", t.note.empty() ? "" : "  ", t.note.c_str());
    }
  }
}

inline int run_verify(const VerifyOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  golden::Bundle bundle(o.bundle);
  const Kernels k = select_kernels(o.backend == "scalar" ? Backend::kScalar : Backend::kHighway);
  std::printf("gemma4 verify: bundle %s, kernels %s%s\n", bundle.root().c_str(), k.name,
              o.backend == "scalar" ? "" : (" (" + highway_target_name() + ")").c_str());
  int pass = 0, fail_count = 0, skip = 0;
  double worst = 0;
  nlohmann::json report = nlohmann::json::array();
  std::string last_model;
  for (const std::string& name : bundle.case_names()) {
    if (!golden::case_matches(name, o.case_pattern)) continue;
    // Keep at most one model in memory (real-width models are large).
    const auto& entry = bundle.case_entry(name);
    const std::string model = entry.value("model", "");
    if (!model.empty() && model != last_model) {
      bundle.release_models();
      last_model = model;
    }
    golden::CaseResult r = golden::run_case(bundle, name, k);
    print_case(r, o.quiet);
    std::fflush(stdout);
    if (r.status == golden::CaseResult::kPass) ++pass;
    else if (r.status == golden::CaseResult::kFail) ++fail_count;
    else ++skip;
    worst = std::max(worst, r.max_nmse());
    report.push_back(golden::to_json(r));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\nsummary: %d passed, %d failed, %d skipped; worst NMSE %.3g; %.1fs\n", pass, fail_count, skip, worst,
              secs);
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    if (!out) fail(o.json_path, "cannot write");
    nlohmann::json j = {{"bundle", bundle.root()}, {"kernels", k.name}, {"passed", pass}, {"failed", fail_count},
                        {"skipped", skip}, {"worst_nmse", worst}, {"seconds", secs}, {"cases", report}};
    out << j.dump(1) << "\n";
  }
  if (pass + fail_count == 0) {
    std::fprintf(stderr, "gemma4 verify: no implemented case matched (pattern \"%s\")\n", o.case_pattern.c_str());
    return 1;
  }
  return fail_count == 0 ? 0 : 1;
}

inline void add_verify_command(CLI::App& app, Command& selected) {
  auto opts = std::make_shared<VerifyOptions>();
  CLI::App* sub = app.add_subcommand("verify", "check the C++ forward pass against a golden bundle");
  sub->add_option("bundle", opts->bundle, "golden bundle directory (default: the shipped reference_outputs/)");
  sub->add_option("--json", opts->json_path, "also write the results as JSON to this file");
  sub->add_option("--case", opts->case_pattern, "only cases whose name contains PATTERN (or matches a glob)");
  sub->add_option("--kernels", opts->backend, "highway (default) or scalar")->check(CLI::IsMember({"highway", "scalar"}));
  sub->add_flag("--quiet", opts->quiet, "print only failing tensors");
  sub->callback([opts, &selected] { selected = [opts] { return run_verify(*opts); }; });
}

}  // namespace gemma4::cli
