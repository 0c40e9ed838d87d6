// A run: every (item, sample) of a benchmark not yet in the run file, sent through a backend by
// a few worker threads, each finished sample appended to the run file; then results.json,
// report.md and scores.svg from everything the run file holds for this configuration.
#pragma once

#include "gemma4_eval/benchmark.h"
#include "gemma4_eval/metrics.h"
#include "gemma4_eval/report.h"
#include "gemma4_eval/run_store.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gemma4::eval {

struct RunOptions {
  std::string out_dir = "runs/eval";
  int limit = 0;          // first N items only (0: all)
  int samples = 1;        // samples per item
  int concurrency = 4;
  bool progress = true;
  std::string model_label = "model";  // the model's name; part of the config hash
  // The chat-template revision the server renders with (Gemma 4 has had three; they move scores,
  // runtime-bugs.md §3). Free text, e.g. the HF commit; part of the config hash when given.
  std::string chat_template;
};

// "[#####.....] 45/120  37.5%  1.2/s  ETA 01:02", redrawn at most a few times a second.
class Progress {
 public:
  Progress(std::size_t total, bool enabled) : total_(total), enabled_(enabled), start_(clock::now()) {}
  void tick(bool force = false) {
    const std::size_t done = ++done_;
    if (!enabled_) return;
    std::lock_guard lock(mutex_);
    const auto now = clock::now();
    if (!force && done != total_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? done / secs : 0.0;
    const double eta = rate > 0 ? (total_ - done) / rate : 0.0;
    const int width = 30;
    const int filled = total_ ? static_cast<int>(width * done / total_) : width;
    std::fprintf(stderr, "\r[%s%s] %zu/%zu %5.1f%%  %.2f/s  ETA %02d:%02d:%02d", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), done, total_, total_ ? 100.0 * done / total_ : 100.0, rate,
                 static_cast<int>(eta) / 3600, static_cast<int>(eta) / 60 % 60, static_cast<int>(eta) % 60);
    if (done == total_) std::fprintf(stderr, "\n");
  }

 private:
  using clock = std::chrono::steady_clock;
  std::size_t total_;
  std::atomic<std::size_t> done_{0};
  bool enabled_;
  clock::time_point start_, last_{};
  std::mutex mutex_;
};

// What makes samples comparable: benchmark settings, sampling, and the model. The endpoint URL
// is recorded but not hashed, so a run can resume against a restarted server on another port.
inline nlohmann::json run_config(const Benchmark& bench, const GenerationSettings& gen, const std::string& model,
                                 const std::string& chat_template = "") {
  nlohmann::json g = {{"temperature", gen.temperature}, {"top_p", gen.top_p}, {"max_tokens", gen.max_tokens},
                      {"enable_thinking", gen.enable_thinking}, {"seed", gen.seed}};
  g["top_k"] = gen.top_k ? nlohmann::json(*gen.top_k) : nlohmann::json(nullptr);
  nlohmann::json c = {{"benchmark", bench.name()}, {"settings", bench.settings()}, {"generation", g}, {"model", model}};
  if (!chat_template.empty()) c["chat_template"] = chat_template;
  return c;
}

// Runs what is missing and writes the outputs; returns results.json's content.
inline nlohmann::json run_benchmark(const Benchmark& bench, ChatBackend& backend, const GenerationSettings& gen,
                                    const RunOptions& opt) {
  std::filesystem::create_directories(opt.out_dir);
  const nlohmann::json config = run_config(bench, gen, opt.model_label, opt.chat_template);
  const std::string hash = config_hash(config);
  RunStore store(opt.out_dir + "/samples.jsonl");
  if (store.torn_lines() > 0)
    std::fprintf(stderr, "%s: skipped %d torn line(s) from an interrupted run; those samples are redone\n",
                 store.path().c_str(), store.torn_lines());

  const auto& all = bench.items();
  const std::size_t n_items = opt.limit > 0 ? std::min<std::size_t>(all.size(), static_cast<std::size_t>(opt.limit)) : all.size();
  struct Job { std::size_t item; int sample; };
  std::vector<Job> todo;
  for (std::size_t i = 0; i < n_items; ++i)
    for (int s = 0; s < opt.samples; ++s)
      if (!store.done({bench.name(), all[i].id, s, hash})) todo.push_back({i, s});
  std::fprintf(stderr, "%s: %zu items x %d samples, %zu already done, %zu to run (config %s)\n", bench.name().c_str(),
               n_items, opt.samples, n_items * opt.samples - todo.size(), todo.size(), hash.c_str());

  Progress progress(todo.size(), opt.progress && !todo.empty());
  std::atomic<std::size_t> next{0};
  std::atomic<int> errors{0};
  auto worker = [&] {
    for (std::size_t k; (k = next++) < todo.size();) {
      const auto& job = todo[k];
      const EvalItem& item = all[job.item];
      nlohmann::json rec = bench.run_sample(item, job.sample, backend, gen);
      rec["benchmark"] = bench.name();
      rec["item"] = item.id;
      rec["sample"] = job.sample;
      rec["config_hash"] = hash;
      if (rec.value("status", "") == "error") ++errors;
      store.append(rec);
      progress.tick();
    }
  };
  std::vector<std::thread> threads;
  const int n_threads = std::max(1, std::min<int>(opt.concurrency, static_cast<int>(todo.size())));
  for (int t = 0; t < n_threads && !todo.empty(); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  // Everything for this configuration and these items (including earlier runs' samples).
  std::vector<nlohmann::json> records;
  std::map<std::string, bool> selected;
  for (std::size_t i = 0; i < n_items; ++i) selected[all[i].id] = true;
  for (const auto& r : store.records())
    if (r.value("config_hash", "") == hash && r.value("benchmark", "") == bench.name() &&
        selected.count(r.value("item", "")) && r.value("sample", 0) < opt.samples)
      records.push_back(r);

  nlohmann::json results = config;
  results["config_hash"] = hash;
  results["backend"] = backend.describe();
  results["model"] = opt.model_label;
  results["samples_per_item"] = opt.samples;
  results["limit"] = opt.limit;
  results["metrics"] = compute_metrics(records, gen.seed);
  if (nlohmann::json extra = bench.summary_metrics(records); !extra.is_null()) results["benchmark_metrics"] = std::move(extra);
  if (const auto* pub = published_for(bench.name())) {
    nlohmann::json p;
    for (int k = 0; k < 4; ++k) p[kPublishedModels[k]] = pub->scores[k];
    results["published"] = p;
  }
  write_text_file(opt.out_dir + "/results.json", results.dump(2) + "\n");
  write_text_file(opt.out_dir + "/scores.svg", scores_svg({results}));
  write_text_file(opt.out_dir + "/report.md", report_markdown({results}, "scores.svg"));
  if (errors > 0)
    std::fprintf(stderr, "%d sample(s) failed at the backend; run the same command again to retry them\n", errors.load());
  return results;
}

}  // namespace gemma4::eval
