// gemma4-eval: benchmark runs against a chat backend, re-scoring of recorded responses, reports.
//
//   gemma4-eval run   --benchmark mmlu_pro --data datasets/mmlu_pro/data --endpoint http://127.0.0.1:8080/v1 --out runs/mmlu
//   gemma4-eval score --benchmark gpqa --responses responses.jsonl > scored.jsonl
//   gemma4-eval report --results runs/a/results.json runs/b/results.json --out runs/report
//
// See eval/README.md.
#include "gemma4_eval/aime.h"
#include "gemma4_eval/gpqa.h"
#include "gemma4_eval/mmlu_pro.h"
#include "gemma4_eval/mmmu_pro.h"
#include "gemma4_eval/openai_backend.h"
#include "gemma4_eval/rescore.h"
#include "gemma4_eval/runner.h"

// Benchmarks developed on other branches plug in here when merged.
#if __has_include("livecodebench/score.h") && __has_include("livecodebench/benchmark.h")
#include "livecodebench/benchmark.h"
#include "livecodebench/score.h"
#define GEMMA4_EVAL_HAS_LIVECODEBENCH 1
#endif
#if __has_include("tau2/benchmark.h")
#include "tau2/benchmark.h"
#define GEMMA4_EVAL_HAS_TAU2 1
#endif

#include <CLI/CLI.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

namespace ge = gemma4::eval;

namespace {

// Options of `run` that only some benchmarks read.
struct BenchmarkChoice {
  std::string name, data;
  int shots = 5;
  std::string prompt_style = "api", setting = "standard10", gpqa_shuffle = "simple-evals";
  bool images_first = true, last_chance = true;
  std::uint64_t seed = 0;
  // livecodebench
  std::string version_tag = "v6", start_date, end_date;
  // tau2
  std::vector<std::string> domains, task_ids;
  std::string split = "base";
  int max_steps = 200, max_errors = 10;
  double user_temperature = 0.0;
  int user_max_tokens = 4096;
  std::string user_model, judge_model;
  ge::ChatBackend* user = nullptr;
  ge::ChatBackend* judge = nullptr;
};

// "a,b" and repeated options alike -> {"a", "b"}
std::vector<std::string> split_commas(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    std::size_t start = 0;
    for (std::size_t comma; (comma = v.find(',', start)) != std::string::npos; start = comma + 1)
      if (comma > start) out.push_back(v.substr(start, comma - start));
    if (start < v.size()) out.push_back(v.substr(start));
  }
  return out;
}

std::unique_ptr<ge::Benchmark> make_benchmark(const BenchmarkChoice& c) {
  const std::string& name = c.name;
  const std::string& data = c.data;
  const int shots = c.shots;
  const std::string& prompt_style = c.prompt_style;
  const std::string& setting = c.setting;
  const bool images_first = c.images_first, last_chance = c.last_chance;
  const std::uint64_t seed = c.seed;
  const std::string& gpqa_shuffle = c.gpqa_shuffle;
#ifdef GEMMA4_EVAL_HAS_LIVECODEBENCH
  if (name == "livecodebench") {
    auto date = [](const std::string& d) { return d.empty() ? std::nullopt : std::optional<std::string>(d); };
    return gemma4::eval::livecodebench::make_benchmark(data, c.version_tag, date(c.start_date), date(c.end_date));
  }
#endif
#ifdef GEMMA4_EVAL_HAS_TAU2
  if (name == "tau2") {
    namespace t2 = gemma4::eval::tau2;
    t2::BenchmarkOptions o;
    if (!data.empty()) o.data_root = data;
    if (!c.domains.empty()) o.domains = c.domains;
    o.split = c.split;
    o.task_ids = c.task_ids;
    o.run.max_steps = c.max_steps;
    o.run.max_errors = c.max_errors;
    o.run.user_temperature = c.user_temperature;
    o.run.user_max_tokens = c.user_max_tokens;
    if (seed > 0xffffffffull) throw std::invalid_argument("--seed must fit in 32 bits for tau2 (Python's random.seed)");
    o.seed = static_cast<std::uint32_t>(seed);
    o.user_model = c.user_model;
    o.judge_model = c.judge_model;
    return std::make_unique<t2::Tau2Benchmark>(o, c.user, c.judge);
  }
#endif
  if (name == "mmlu_pro") {
    ge::mmlu_pro::Options o;
    o.data_dir = data.empty() ? "datasets/mmlu_pro/data" : data;
    o.shots = shots;
    if (prompt_style == "api") o.style = ge::mmlu_pro::PromptStyle::api;
    else if (prompt_style == "local") o.style = ge::mmlu_pro::PromptStyle::local;
    else throw std::invalid_argument("--prompt-style must be api or local");
    return std::make_unique<ge::mmlu_pro::MmluPro>(o);
  }
  if (name == "gpqa") {
    ge::gpqa::Options o;
    o.data_file = data.empty() ? "datasets/gpqa/data/gpqa_diamond.jsonl" : data;
    o.shuffle_seed = seed;
    if (gpqa_shuffle == "simple-evals") o.shuffle = ge::gpqa::Shuffle::simple_evals;
    else if (gpqa_shuffle == "per-item") o.shuffle = ge::gpqa::Shuffle::per_item;
    else throw std::invalid_argument("--gpqa-shuffle must be simple-evals or per-item");
    if (o.shuffle == ge::gpqa::Shuffle::simple_evals && seed > 0xffffffffull)
      throw std::invalid_argument("--seed must fit in 32 bits for --gpqa-shuffle simple-evals");
    return std::make_unique<ge::gpqa::Gpqa>(o);
  }
  if (name == "aime") {
    ge::aime::Options o;
    o.data_file = data.empty() ? "datasets/aime/data/aime_2026.jsonl" : data;
    o.last_chance = last_chance;
    return std::make_unique<ge::aime::Aime>(o);
  }
  if (name == "mmmu_pro") {
    ge::mmmu_pro::Options o;
    o.data_dir = data.empty() ? "datasets/mmmu_pro/data" : data;
    if (setting == "standard10") o.setting = ge::mmmu_pro::Setting::standard10;
    else if (setting == "vision") o.setting = ge::mmmu_pro::Setting::vision;
    else throw std::invalid_argument("--setting must be standard10 or vision");
    o.images_first = images_first;
    return std::make_unique<ge::mmmu_pro::MmmuPro>(o);
  }
  throw std::invalid_argument("unknown benchmark '" + name + "' (run supports mmlu_pro, gpqa, aime, mmmu_pro"
#ifdef GEMMA4_EVAL_HAS_LIVECODEBENCH
                              ", livecodebench"
#endif
#ifdef GEMMA4_EVAL_HAS_TAU2
                              ", tau2"
#endif
                              ")");
}

#ifdef GEMMA4_EVAL_HAS_TAU2
// tau2: re-scores saved trajectories (a run's samples.jsonl or any file of SimulationRecord lines)
// against the official data, without a model: NL-assertion verdicts are taken from the record.
// One line per record, in order; pass^k per domain on stderr and, with `summary`, in that file.
void score_tau2(const std::string& responses, const std::string& data_root, std::ostream& out, const std::string& summary) {
  namespace t2 = gemma4::eval::tau2;
  const auto records = t2::read_records(responses);
  const t2::ScoreSummary scored = t2::score_file(responses, data_root);
  if (scored.rescored.size() != records.size()) throw std::logic_error(responses + ": record count changed while scoring");
  std::vector<nlohmann::json> for_metrics;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const t2::SimulationRecord& r = records[i];
    const t2::RewardInfo& reward = scored.rescored[i].second;
    const bool infra = r.termination_reason == t2::termination::kInfrastructureError;
    nlohmann::json line = {{"id", r.id}, {"domain", r.domain}, {"task_id", r.task_id}, {"trial", r.trial},
                           {"termination_reason", r.termination_reason}};
    if (infra) {
      line["reward"] = nullptr;
      line["excluded"] = "infrastructure_error";
    } else {
      line["reward"] = reward.reward;
      line["reward_info"] = nlohmann::json::parse(reward.to_json().dump());
    }
    if (r.reward_info.is_object() && r.reward_info.contains("reward") && r.reward_info["reward"].is_number()) {
      line["recorded_reward"] = r.reward_info["reward"].get<double>();
      if (!infra) line["matches_recorded"] = std::abs(r.reward_info["reward"].get<double>() - reward.reward) < 1e-9;
    }
    line["agent"] = r.agent;
    line["user_simulator"] = r.user_simulator;
    line["judge"] = r.judge ? nlohmann::json(*r.judge) : nlohmann::json(nullptr);
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    nlohmann::json m = {{"domain", r.domain}, {"task_id", r.task_id}, {"termination_reason", r.termination_reason},
                        {"score", infra ? nlohmann::json(nullptr) : nlohmann::json(reward.reward)}, {"agent", r.agent},
                        {"user_simulator", r.user_simulator}};
    if (r.judge) m["judge"] = *r.judge;
    for_metrics.push_back(std::move(m));
  }
  const nlohmann::json metrics = t2::Tau2Benchmark::pass_hat_k_summary(for_metrics);
  std::fprintf(stderr, "tau2 %s\n", metrics.dump().c_str());
  if (!summary.empty()) ge::write_text_file(summary, metrics.dump(2) + "\n");
}
#endif

int score_command(const std::string& benchmark, const std::string& responses, const std::string& output,
                  [[maybe_unused]] const std::string& data, [[maybe_unused]] const std::string& summary) {
  std::ifstream in(responses, std::ios::binary);
  if (!in) throw std::runtime_error(responses + ": cannot open");
  std::ofstream file;
  if (!output.empty()) {
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) throw std::runtime_error(output + ": cannot write");
  }
  std::ostream& out = output.empty() ? std::cout : file;
#ifdef GEMMA4_EVAL_HAS_TAU2
  if (benchmark == "tau2") {
    score_tau2(responses, data.empty() ? "datasets/tau2/data" : data, out, summary);
    out.flush();
    return 0;
  }
#endif
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = responses + ":" + std::to_string(n);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw std::runtime_error(where + ": not valid JSON: " + e.what());
    }
    nlohmann::json result;
#ifdef GEMMA4_EVAL_HAS_LIVECODEBENCH
    if (benchmark == "livecodebench") result = gemma4::eval::livecodebench::score_line(j);
    else
#endif
      result = ge::score_line(benchmark, j, where);
    out << result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  out.flush();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gemma4-eval: Gemma 4 benchmark evaluation (MMLU-Pro, GPQA Diamond, AIME 2026, MMMU-Pro)"};
  app.require_subcommand(1);

  // ---- run ----
  auto* run = app.add_subcommand("run", "Run a benchmark against an OpenAI-compatible endpoint (resumable)");
  std::string benchmark, data, endpoint = "http://127.0.0.1:8080/v1", model = "gemma-4", out_dir, api_key_env = "OPENAI_API_KEY";
  std::string prompt_style = "api", setting = "standard10", image_order = "before", gpqa_shuffle = "simple-evals";
  int shots = 5, limit = 0, samples = 1, concurrency = 4, max_tokens = 32768, max_retries = 6;
  double temperature = 1.0, top_p = 0.95, timeout = 1800, retry_backoff = 1.0;
  int top_k = 64;
  std::uint64_t seed = 0;
  std::string thinking = "on", chat_template;
  bool no_last_chance = false, quiet = false;
  run->add_option("--benchmark", benchmark, "mmlu_pro | gpqa | aime | mmmu_pro | livecodebench | tau2")->required();
  run->add_option("--data", data, "dataset directory or file (default: datasets/<benchmark>/data...)");
  run->add_option("--endpoint", endpoint, "OpenAI-compatible base URL (…/v1)")->capture_default_str();
  run->add_option("--model", model, "model name sent to the endpoint")->capture_default_str();
  run->add_option("--api-key-env", api_key_env, "environment variable holding the API key")->capture_default_str();
  run->add_option("--out", out_dir, "run directory (samples.jsonl, results.json, report.md)")->required();
  run->add_option("--limit", limit, "only the first N items (0: all)");
  run->add_option("--samples", samples, "samples per item")->capture_default_str();
  run->add_option("--seed", seed, "run seed: request seeds, GPQA shuffles, bootstrap")->capture_default_str();
  run->add_option("--concurrency", concurrency, "parallel requests")->capture_default_str();
  run->add_option("--thinking", thinking, "on | off")->capture_default_str();
  run->add_option("--max-tokens", max_tokens, "completion budget, thinking included")->capture_default_str();
  run->add_option("--temperature", temperature)->capture_default_str();
  run->add_option("--top-p", top_p)->capture_default_str();
  run->add_option("--top-k", top_k, "0: do not send")->capture_default_str();
  run->add_option("--timeout", timeout, "seconds per request")->capture_default_str();
  run->add_option("--retries", max_retries, "retries per request (exponential backoff)")->capture_default_str();
  run->add_option("--retry-backoff", retry_backoff, "first backoff in seconds (doubles per retry, max 60)")->capture_default_str();
  run->add_option("--shots", shots, "mmlu_pro: 5 (official CoT) or 0")->capture_default_str();
  run->add_option("--prompt-style", prompt_style, "mmlu_pro: api (evaluate_from_api.py) | local (evaluate_from_local.py)")->capture_default_str();
  run->add_option("--setting", setting, "mmmu_pro: standard10 | vision")->capture_default_str();
  run->add_option("--image-order", image_order, "mmmu_pro: before | after the text")->capture_default_str();
  run->add_option("--gpqa-shuffle", gpqa_shuffle, "gpqa: simple-evals (its exact permutations) | per-item")->capture_default_str();
  run->add_flag("--no-last-chance", no_last_chance, "aime: do not re-prompt for a boxed answer");
  run->add_flag("--quiet", quiet, "no progress bar");
  run->add_option("--chat-template", chat_template, "the server's chat-template revision, recorded and hashed");
  BenchmarkChoice choice;
  std::vector<std::string> domain_list, task_list;
  std::string user_endpoint, judge_endpoint;
  int trials = 0;
#ifdef GEMMA4_EVAL_HAS_LIVECODEBENCH
  run->add_option("--version-tag", choice.version_tag, "livecodebench: release_vN | vN | vA_vB | release_latest")->capture_default_str();
  run->add_option("--start-date", choice.start_date, "livecodebench: first contest date kept (YYYY-MM-DD)");
  run->add_option("--end-date", choice.end_date, "livecodebench: last contest date kept (YYYY-MM-DD)");
#endif
#ifdef GEMMA4_EVAL_HAS_TAU2
  run->add_option("--domain", domain_list, "tau2: airline | retail | telecom (comma-separated or repeated; default all three)");
  run->add_option("--split", choice.split, "tau2: split_tasks.json entry (\"\" = every task)")->capture_default_str();
  run->add_option("--task", task_list, "tau2: only these task ids (comma-separated or repeated)");
  run->add_option("--trials", trials, "tau2: trials per task (= --samples); pass^k for k <= trials");
  run->add_option("--user-endpoint", user_endpoint, "tau2: user simulator's OpenAI-compatible base URL (default: --endpoint)");
  run->add_option("--user-model", choice.user_model, "tau2: user simulator model (required)");
  run->add_option("--user-temperature", choice.user_temperature, "tau2: user simulator temperature")->capture_default_str();
  run->add_option("--user-max-tokens", choice.user_max_tokens, "tau2: user simulator's completion budget")->capture_default_str();
  run->add_option("--judge-endpoint", judge_endpoint, "tau2: NL-assertion judge base URL (default: the user endpoint)");
  run->add_option("--judge-model", choice.judge_model, "tau2: judge model (default: the user model)");
  run->add_option("--max-steps", choice.max_steps, "tau2: max simulation steps")->capture_default_str();
  run->add_option("--max-errors", choice.max_errors, "tau2: max tool errors")->capture_default_str();
#endif

  // ---- score ----
  auto* score = app.add_subcommand("score", "Re-score recorded responses with the official extraction");
  std::string score_bench, responses, score_out;
  score->add_option("--benchmark", score_bench, "mmlu_pro | gpqa | aime | mmmu_pro"
#ifdef GEMMA4_EVAL_HAS_LIVECODEBENCH
                                                " | livecodebench"
#endif
#ifdef GEMMA4_EVAL_HAS_TAU2
                                                " | tau2"
#endif
                    )->required();
  score->add_option("--responses", responses, "JSONL: id, response, gold per line")->required();
  score->add_option("--output", score_out, "write here instead of stdout");
  std::string score_data, score_summary;
#ifdef GEMMA4_EVAL_HAS_TAU2
  score->add_option("--data", score_data, "tau2: data root (default datasets/tau2/data)");
  score->add_option("--summary", score_summary, "tau2: write pass^k per domain (JSON) here");
#endif

  // ---- report ----
  auto* report = app.add_subcommand("report", "Combine results.json files into one report.md + scores.svg");
  std::vector<std::string> result_files;
  std::string report_dir;
  report->add_option("--results", result_files, "results.json files")->required();
  report->add_option("--out", report_dir, "output directory")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*score) return score_command(score_bench, responses, score_out, score_data, score_summary);
    if (*report) {
      std::vector<nlohmann::json> results;
      for (const auto& f : result_files) {
        try {
          results.push_back(nlohmann::json::parse(ge::read_file_bytes(f)));
        } catch (const nlohmann::json::exception& e) {
          throw std::runtime_error(f + ": " + e.what());
        }
      }
      std::filesystem::create_directories(report_dir);
      ge::write_text_file(report_dir + "/scores.svg", ge::scores_svg(results));
      ge::write_text_file(report_dir + "/report.md", ge::report_markdown(results, "scores.svg"));
      std::cout << report_dir << "/report.md\n";
      return 0;
    }
    if (thinking != "on" && thinking != "off") throw std::invalid_argument("--thinking must be on or off");
    if (image_order != "before" && image_order != "after") throw std::invalid_argument("--image-order must be before or after");
    if (samples < 1) throw std::invalid_argument("--samples must be >= 1");
    if (trials > 0) samples = trials;
    ge::OpenAIBackendOptions bo;
    bo.base_url = endpoint;
    bo.model = model;
    bo.api_key_env = api_key_env;
    bo.timeout_s = timeout;
    bo.max_retries = max_retries;
    bo.backoff_initial_s = retry_backoff;
    ge::OpenAIBackend backend(bo);
    // tau2's user simulator and judge: other models, same client settings.
    std::unique_ptr<ge::OpenAIBackend> user_backend, judge_backend;
    if (benchmark == "tau2") {
      if (choice.user_model.empty()) throw std::invalid_argument("tau2 needs --user-model (the user simulator)");
      ge::OpenAIBackendOptions uo = bo;
      uo.base_url = user_endpoint.empty() ? endpoint : user_endpoint;
      uo.model = choice.user_model;
      user_backend = std::make_unique<ge::OpenAIBackend>(uo);
      ge::OpenAIBackendOptions jo = uo;
      if (!judge_endpoint.empty()) jo.base_url = judge_endpoint;
      if (choice.judge_model.empty()) choice.judge_model = choice.user_model;
      jo.model = choice.judge_model;
      judge_backend = std::make_unique<ge::OpenAIBackend>(jo);
    }
    choice.name = benchmark;
    choice.data = data;
    choice.shots = shots;
    choice.prompt_style = prompt_style;
    choice.setting = setting;
    choice.images_first = image_order == "before";
    choice.last_chance = !no_last_chance;
    choice.seed = seed;
    choice.gpqa_shuffle = gpqa_shuffle;
    choice.domains = split_commas(domain_list);
    choice.task_ids = split_commas(task_list);
    choice.user = user_backend.get();
    choice.judge = judge_backend.get();
    auto bench = make_benchmark(choice);
    ge::GenerationSettings gen;
    gen.temperature = temperature;
    gen.top_p = top_p;
    gen.top_k = top_k > 0 ? std::optional<int>(top_k) : std::nullopt;
    gen.max_tokens = max_tokens;
    gen.enable_thinking = thinking == "on";
    gen.seed = seed;
    ge::RunOptions ro;
    ro.out_dir = out_dir;
    ro.limit = limit;
    ro.samples = samples;
    ro.concurrency = concurrency;
    ro.progress = !quiet;
    ro.model_label = model;
    ro.chat_template = chat_template;
    const auto results = ge::run_benchmark(*bench, backend, gen, ro);
    const auto& m = results["metrics"];
    std::printf("%s: %.2f%% (95%% CI %.2f-%.2f) over %d items, %d samples; unparsed %d, truncated %d, errors %d\n",
                benchmark.c_str(), 100 * m["accuracy"].get<double>(), 100 * m["ci95"][0].get<double>(),
                100 * m["ci95"][1].get<double>(), m["items"].get<int>(), m["samples_scored"].get<int>(),
                m["status_counts"].value("unparsed", 0), m["status_counts"].value("truncated", 0),
                m["status_counts"].value("error", 0));
    if (results.contains("benchmark_metrics")) std::printf("%s\n", results["benchmark_metrics"].dump().c_str());
    std::printf("%s/report.md\n", out_dir.c_str());
    return m["status_counts"].value("error", 0) > 0 ? 3 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gemma4-eval: %s\n", e.what());
    return 1;
  }
}
