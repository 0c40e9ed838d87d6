// End to end against a real `gemma4 serve` loaded with the tiny golden checkpoint
// (reference_outputs/models/e2b-tiny: synthetic weights, so it produces tokens, not language): the
// real `gemma4-eval` process runs every text benchmark on the self-written example data, through a
// recording proxy, so each test checks that what the harness saved is exactly what the server said,
// that the files of a run (samples.jsonl, results.json, report.md, scores.svg) agree with each other,
// that `gemma4-eval score` reproduces the run's verdicts from the saved responses, and that a run
// killed mid-way resumes without losing or repeating a sample. The tiny model's accuracy is random
// and never asserted. MMMU-Pro needs image input and is tested with the vision path.
#include <doctest/doctest.h>

#include "gemma4_eval/benchmark.h"
#include "gemma4_eval/thinking.h"
#include "tau2/orchestrator.h"

#include "common/cli_process.h"
#include "common/fake_openai_server.h"
#include "common/gemma4_serve.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using json = nlohmann::json;
using gemma4::test::FakeOpenAIServer;
using gemma4::test::Gemma4ServeProcess;
using gemma4::test::read_jsonl;
using gemma4::test::read_text;
using gemma4::test::RecordingProxy;
using gemma4::test::TempDir;

namespace {

const fs::path kSource = GEMMA4_SOURCE_DIR;
const fs::path kTinyModel = kSource / "reference_outputs/models/e2b-tiny";

bool tiny_model_present() {
  if (fs::exists(kTinyModel / "model.safetensors")) return true;
  MESSAGE("SKIP: " << kTinyModel.string() << " absent");
  return false;
}

int run_eval(const std::vector<std::string>& args, const fs::path& dir, const std::string& tag) {
  return gemma4::test::run_cli(GEMMA4_EVAL_BINARY, args, dir, tag);
}

// What the server answered in a recorded exchange.
const json& answer_message(const RecordingProxy::Exchange& e) { return e.response.at("choices").at(0).at("message"); }
std::string answer_content(const RecordingProxy::Exchange& e) {
  const json& m = answer_message(e);
  return m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>() : "";
}

std::string sample_id(const json& rec) { return rec["item"].get<std::string>() + "/" + std::to_string(rec["sample"].get<int>()); }

// The one successful exchange, from the `first`-th on, for the request seeded `seed`.
RecordingProxy::Exchange only_exchange(RecordingProxy& proxy, std::uint64_t seed, const std::string& what, std::size_t first = 0) {
  const auto found = proxy.with_seed(seed, first);
  REQUIRE_MESSAGE(found.size() == 1, what << ": " << found.size() << " requests with seed " << seed);
  REQUIRE_MESSAGE(found[0].status == 200, what << ": HTTP " << found[0].status << " " << found[0].response.dump());
  return found[0];
}

// A record of samples.jsonl holds the server's answer to its request, unchanged.
void check_record_is_the_servers_answer(const json& rec, const RecordingProxy::Exchange& e) {
  CHECK(rec["response"] == answer_content(e));
  const json& m = answer_message(e);
  if (m.contains("reasoning_content")) CHECK(rec["reasoning"] == m["reasoning_content"]);
  else CHECK_FALSE(rec.contains("reasoning"));
  CHECK(rec["finish_reason"] == e.response["choices"][0]["finish_reason"]);
  CHECK(rec["prompt_tokens"] == e.response["usage"]["prompt_tokens"]);
  CHECK(rec["completion_tokens"] == e.response["usage"]["completion_tokens"]);
  // truncated exactly when the server stopped on length or the thought channel never closed
  const bool truncated = rec["finish_reason"] == "length" || rec["thought_closed"] == false;
  CHECK((rec["status"] == "truncated") == truncated);
  CHECK((rec["status"] == "ok" || rec["status"] == "unparsed" || rec["status"] == "truncated"));
  CHECK(rec["score"] == (rec["correct"] == true ? 1.0 : 0.0));
}

// The files of a finished QA run agree with each other and with the run's size; returns the records.
std::vector<json> check_qa_run_files(const fs::path& out, const std::string& benchmark, std::size_t items, int samples) {
  const json results = json::parse(read_text(out / "results.json"));
  CHECK(results["benchmark"] == benchmark);
  const json& m = results["metrics"];
  CHECK(m["items"] == items);
  CHECK(m["samples_scored"] == items * samples);
  CHECK(m["status_counts"].value("error", 0) == 0);
  const auto records = read_jsonl(out / "samples.jsonl");
  REQUIRE(records.size() == items * static_cast<std::size_t>(samples));
  std::set<std::string> ids;
  std::set<std::string> hashes;
  std::map<std::string, std::pair<double, int>> per_item;  // item -> (sum of scores, samples)
  std::map<std::string, int> statuses;
  for (const auto& r : records) {
    CHECK(r["benchmark"] == benchmark);
    ids.insert(sample_id(r));
    hashes.insert(r["config_hash"].get<std::string>());
    per_item[r["item"]].first += r["score"].get<double>();
    ++per_item[r["item"]].second;
    ++statuses[r["status"]];
  }
  CHECK(ids.size() == records.size());  // every (item, sample) once
  CHECK(hashes.size() == 1);
  CHECK(per_item.size() == items);
  // accuracy = mean over items of the mean over their samples, recomputed from the per-item log
  double sum = 0;
  for (const auto& [item, s] : per_item) sum += s.first / s.second;
  CHECK(m["accuracy"].get<double>() == doctest::Approx(sum / static_cast<double>(items)));
  for (const auto& [status, n] : statuses) CHECK(m["status_counts"][status] == n);
  const std::string report = read_text(out / "report.md");
  CHECK(report.find("![scores](scores.svg)") != std::string::npos);
  CHECK(read_text(out / "scores.svg").rfind("<svg", 0) == 0);
  return records;
}

// Re-scores `lines` (id, response, gold, finish_reason) with `gemma4-eval score`; one output per line.
std::vector<json> rescore(const std::string& benchmark, const std::vector<json>& lines, const fs::path& dir) {
  {
    std::ofstream f(dir / (benchmark + "_responses.jsonl"));
    for (const auto& l : lines) f << l.dump() << "\n";
  }
  REQUIRE(run_eval({"score", "--benchmark", benchmark, "--responses", (dir / (benchmark + "_responses.jsonl")).string(),
                    "--output", (dir / (benchmark + "_scored.jsonl")).string()},
                   dir, benchmark + "_score") == 0);
  auto scored = read_jsonl(dir / (benchmark + "_scored.jsonl"));
  REQUIRE(scored.size() == lines.size());
  return scored;
}

json response_line(const json& rec, const json& response, const json& finish_reason, const std::string& id) {
  return {{"id", id}, {"response", response}, {"gold", rec["gold"]}, {"finish_reason", finish_reason}};
}

// The scorer's verdict equals the run's.
void check_same_verdict(const json& scored, const json& extracted, const json& correct, const json& fallback) {
  INFO(scored.dump());
  CHECK(scored["extracted"] == extracted);
  CHECK(scored["correct"] == correct);
  CHECK(scored.value("fallback", json()) == fallback);
}

// The common options of the QA runs: the Gemma 4 card sampling (T=1, top-p, top-k, seeded per
// sample), thinking on, a short completion budget.
std::vector<std::string> qa_args(const std::string& benchmark, const fs::path& data, const std::string& endpoint,
                                 const fs::path& out, int samples) {
  return {"run", "--benchmark", benchmark, "--data", data.string(), "--endpoint", endpoint, "--model", "e2b-tiny",
          "--api-key-env", "", "--samples", std::to_string(samples), "--max-tokens", "24", "--concurrency", "2",
          "--quiet", "--out", out.string()};
}

}  // namespace

TEST_CASE("real serve: mmlu_pro (5-shot CoT and 0-shot) and gpqa against gemma4 serve (e2b-tiny); score round trip") {
  if (!tiny_model_present()) return;
  TempDir tmp("gemma4_real_serve");
  Gemma4ServeProcess server(GEMMA4_CLI_BINARY, kTinyModel, tmp.path / "serve.log");
  RecordingProxy proxy(server.port());
  namespace ge = gemma4::eval;

  struct Case {
    std::string name, benchmark;
    fs::path data;
    std::vector<std::string> extra;
    std::size_t items;
    int samples;
  };
  const Case cases[] = {
      {"mmlu_pro_5shot", "mmlu_pro", kSource / "datasets/mmlu_pro/examples", {}, 6, 1},  // ~1.5k-token prompts
      {"mmlu_pro_0shot", "mmlu_pro", kSource / "datasets/mmlu_pro/examples", {"--shots", "0"}, 6, 2},
      {"gpqa", "gpqa", kSource / "datasets/gpqa/examples/gpqa_diamond.jsonl", {}, 4, 2},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const fs::path out = tmp.path / c.name;
    auto args = qa_args(c.benchmark, c.data, proxy.url(), out, c.samples);
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    const std::size_t before = proxy.exchanges().size();
    REQUIRE(run_eval(args, tmp.path, c.name) == 0);
    CHECK(proxy.exchanges().size() - before == c.items * c.samples);  // one request per sample, no retries
    const auto records = check_qa_run_files(out, c.benchmark, c.items, c.samples);

    std::vector<json> lines;
    for (const auto& r : records) {
      INFO(sample_id(r));
      const auto e = only_exchange(proxy, ge::sample_seed(0, r["item"], r["sample"]), sample_id(r), before);
      check_record_is_the_servers_answer(r, e);
      // the request: one user message, the card sampling, thinking on
      const json& req = e.request;
      REQUIRE(req["messages"].size() == 1);
      const std::string prompt = req["messages"][0]["content"];
      CHECK(req["temperature"] == 1.0);
      CHECK(req["top_p"] == 0.95);
      CHECK(req["top_k"] == 64);
      CHECK(req["max_tokens"] == 24);
      CHECK(req["chat_template_kwargs"]["enable_thinking"] == true);
      if (c.name == "mmlu_pro_5shot") {
        CHECK(prompt.find("Worked") != std::string::npos);  // the category's validation examples
        CHECK(prompt.find("Answer: Let's think step by step.") != std::string::npos);
      }
      if (c.name == "mmlu_pro_0shot") CHECK(prompt.find("Worked") == std::string::npos);
      if (c.benchmark == "gpqa") {
        CHECK(prompt.find("Answer: $LETTER") != std::string::npos);
        CHECK(r["prompt_record"]["permutation"].size() == 4);
      }
      lines.push_back(response_line(r, r["response"], r["finish_reason"], sample_id(r)));
    }
    const auto scored = rescore(c.benchmark, lines, tmp.path);
    for (std::size_t i = 0; i < records.size(); ++i) {
      CHECK(scored[i]["id"] == lines[i]["id"]);
      check_same_verdict(scored[i], records[i]["extracted"], records[i]["correct"], records[i].value("fallback", json()));
      CHECK(scored[i].value("truncated", false) == (records[i]["status"] == "truncated"));
    }
    // The same command again finds everything done and asks the server nothing.
    const std::size_t after = proxy.exchanges().size();
    REQUIRE(run_eval(args, tmp.path, c.name + "_again") == 0);
    CHECK(proxy.exchanges().size() == after);
    CHECK(read_jsonl(out / "samples.jsonl").size() == records.size());
  }
}

TEST_CASE("real serve: aime against gemma4 serve (e2b-tiny), with MathArena's last-chance re-prompt; score round trip") {
  if (!tiny_model_present()) return;
  TempDir tmp("gemma4_real_serve");
  Gemma4ServeProcess server(GEMMA4_CLI_BINARY, kTinyModel, tmp.path / "serve.log");
  RecordingProxy proxy(server.port());
  namespace ge = gemma4::eval;
  const fs::path out = tmp.path / "aime";
  const std::size_t items = 3;
  const int samples = 2;
  REQUIRE(run_eval(qa_args("aime", kSource / "datasets/aime/examples/aime_2026.jsonl", proxy.url(), out, samples), tmp.path,
                   "aime") == 0);
  const auto records = check_qa_run_files(out, "aime", items, samples);
  CHECK(json::parse(read_text(out / "results.json"))["settings"]["last_chance"] == true);

  std::vector<json> lines;
  int last_chances = 0;
  std::set<std::string> last_chance_prompts;
  for (const auto& r : records) {
    INFO(sample_id(r));
    const auto first = only_exchange(proxy, ge::sample_seed(0, r["item"], r["sample"]), sample_id(r));
    const auto again = proxy.with_seed(ge::sample_seed(0, r["item"].get<std::string>() + "/last_chance", r["sample"]));
    CHECK(r["response"] == answer_content(first));
    CHECK(r["prompt_tokens"] == first.response["usage"]["prompt_tokens"]);
    lines.push_back(response_line(r, r["response"], r["finish_reason"], sample_id(r)));
    if (!r.contains("last_chance")) {
      CHECK(again.empty());  // a boxed first answer is graded as it is
      continue;
    }
    // No box in the first answer: MathArena asks once more, in the same conversation, and grades that reply.
    ++last_chances;
    REQUIRE(again.size() == 1);
    const json& msgs = again[0].request["messages"];
    REQUIRE(msgs.size() == 3);
    CHECK(msgs[0] == first.request["messages"][0]);
    CHECK(msgs[1]["role"] == "assistant");
    CHECK(msgs[1]["content"] == ge::split_thinking(answer_content(first)).answer);
    CHECK(msgs[2]["role"] == "user");
    CHECK(msgs[2]["content"].get<std::string>().find("please use \\boxed{None}") != std::string::npos);  // MathArena's text
    last_chance_prompts.insert(msgs[2]["content"].get<std::string>());
    CHECK(r["last_chance"]["response"] == answer_content(again[0]));
    CHECK(r["last_chance"]["finish_reason"] == again[0].response["choices"][0]["finish_reason"]);
    CHECK(r["last_chance"]["completion_tokens"] == again[0].response["usage"]["completion_tokens"]);
    lines.push_back(response_line(r, r["last_chance"]["response"], r["last_chance"]["finish_reason"], sample_id(r) + "/last_chance"));
  }
  // The tiny model does not box its answers: every sample (at these seeds) takes the re-prompt path.
  CHECK(last_chances == static_cast<int>(records.size()));
  CHECK(last_chance_prompts.size() == 1);
  CHECK(proxy.exchanges().size() == records.size() + static_cast<std::size_t>(last_chances));

  // Re-scoring: the first response reproduces `first_answer`, the re-prompt's reply the final verdict.
  const auto scored = rescore("aime", lines, tmp.path);
  std::size_t line = 0;
  for (const auto& r : records) {
    if (!r.contains("last_chance")) {
      check_same_verdict(scored[line++], r["extracted"], r["correct"], json());
      continue;
    }
    check_same_verdict(scored[line++], r["first_answer"]["extracted"], r["first_answer"]["correct"], json());
    check_same_verdict(scored[line++], r["extracted"], r["correct"], json());
  }
}

TEST_CASE("real serve: a gemma4-eval run against gemma4 serve killed with SIGKILL resumes, losing and repeating nothing") {
  if (!tiny_model_present()) return;
  TempDir tmp("gemma4_real_serve");
  Gemma4ServeProcess server(GEMMA4_CLI_BINARY, kTinyModel, tmp.path / "serve.log");
  // 60 ms per request on top of the model's time, so the kill lands while the run is under way.
  RecordingProxy proxy(server.port(), std::chrono::milliseconds(60));
  namespace ge = gemma4::eval;
  const fs::path out = tmp.path / "mmlu_pro";
  const std::size_t items = 6;
  const int samples = 6;
  const std::size_t total = items * samples;
  auto args = qa_args("mmlu_pro", kSource / "datasets/mmlu_pro/examples", proxy.url(), out, samples);
  args.insert(args.end(), {"--shots", "0"});
  args.insert(args.begin(), GEMMA4_EVAL_BINARY);

  const pid_t pid = gemma4::test::spawn_process(args, tmp.path / "run.log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (gemma4::test::count_nonempty_lines(out / "samples.jsonl") < total / 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  CHECK(gemma4::test::wait_process(pid) == -SIGKILL);
  const auto before_kill = read_jsonl(out / "samples.jsonl");  // a line torn by the kill would fail here
  CHECK(before_kill.size() >= total / 3);
  CHECK(before_kill.size() < total);
  std::map<std::string, json> kept;
  for (const auto& r : before_kill) kept[sample_id(r)] = r;

  const pid_t resumed = gemma4::test::spawn_process(args, tmp.path / "run.log");
  CHECK(gemma4::test::wait_process(resumed) == 0);
  const auto records = check_qa_run_files(out, "mmlu_pro", items, samples);
  CHECK(read_text(tmp.path / "run.log").find(std::to_string(before_kill.size()) + " already done") != std::string::npos);

  // Samples finished before the kill were kept as they were and not asked again; the rest were asked
  // once more at most (those in flight at the kill), and the server, seeded, answered the same.
  std::size_t requests = 0;
  for (const auto& r : records) {
    INFO(sample_id(r));
    const auto asked = proxy.with_seed(ge::sample_seed(0, r["item"], r["sample"]));
    REQUIRE(!asked.empty());
    requests += asked.size();
    if (kept.count(sample_id(r))) {
      CHECK(asked.size() == 1);
      CHECK(r == kept[sample_id(r)]);
    } else {
      CHECK(asked.size() <= 2);
    }
    for (const auto& e : asked) CHECK(answer_content(e) == answer_content(asked.back()));
    check_record_is_the_servers_answer(r, asked.back());
  }
  CHECK(requests == proxy.exchanges().size());
  CHECK(requests <= total + 2);  // --concurrency 2: at most two answers were lost with the process
}

TEST_CASE("real serve: gemma4-eval run --benchmark livecodebench against gemma4 serve (e2b-tiny)") {
  if (!tiny_model_present()) return;
  TempDir tmp("gemma4_real_serve");
  Gemma4ServeProcess server(GEMMA4_CLI_BINARY, kTinyModel, tmp.path / "serve.log");
  const fs::path out = tmp.path / "lcb";
  REQUIRE(run_eval({"run", "--benchmark", "livecodebench", "--data", (kSource / "datasets/livecodebench/sample/converted").string(),
                    "--endpoint", server.url(), "--model", "e2b-tiny", "--api-key-env", "", "--limit", "2", "--max-tokens",
                    "12", "--temperature", "0", "--thinking", "off", "--concurrency", "2", "--quiet", "--out", out.string()},
                   tmp.path, "run") == 0);
  const json results = json::parse(read_text(out / "results.json"));
  CHECK(results["metrics"]["items"] == 2);
  CHECK(results["metrics"]["samples_scored"] == 2);
  CHECK(results["metrics"]["status_counts"]["error"] == 0);
  CHECK(results["benchmark_metrics"].contains("pass@1"));
  CHECK(read_text(out / "report.md").find("- pass@1:") != std::string::npos);
  for (const auto& s : read_jsonl(out / "samples.jsonl")) {
    INFO(s.dump());
    CHECK(s["completion_tokens"].get<int>() >= 1);
    CHECK(s["completion_tokens"].get<int>() <= 12);
    CHECK((s["finish_reason"] == "length" || s["finish_reason"] == "stop"));
    CHECK(s["response"].is_string());
  }
}

// ---- τ²-bench -----------------------------------------------------------------------------------
namespace {

// The official data layout over the self-written test data (tests/tau2/data).
fs::path tau2_data_root(const fs::path& dir) {
  const fs::path root = dir / "data";
  fs::create_directories(root / "tau2" / "domains");
  const fs::path test_data = kSource / "tests/tau2/data";
  for (const char* d : {"airline", "retail", "telecom"}) fs::create_directory_symlink(test_data / d, root / "tau2" / "domains" / d);
  fs::create_directory_symlink(test_data / "user_simulator", root / "tau2" / "user_simulator");
  return root;
}

bool is_agent_request(const json& request) {
  return request["messages"][0]["content"].get<std::string>().rfind("<instructions>", 0) == 0;
}

// `gemma4-eval score` on a run's trajectories: every reward recomputed from the replayed environment
// equals the recorded one.
void check_tau2_rescoring(const fs::path& out, const fs::path& root, const fs::path& dir, const std::string& tag) {
  const auto samples = read_jsonl(out / "samples.jsonl");
  REQUIRE(run_eval({"score", "--benchmark", "tau2", "--responses", (out / "samples.jsonl").string(), "--data", root.string(),
                    "--output", (dir / (tag + "_scored.jsonl")).string(), "--summary", (dir / (tag + "_summary.json")).string()},
                   dir, tag + "_score") == 0);
  const auto scored = read_jsonl(dir / (tag + "_scored.jsonl"));
  REQUIRE(scored.size() == samples.size());
  for (std::size_t i = 0; i < scored.size(); ++i) {
    INFO(scored[i].dump());
    CHECK(scored[i]["id"] == samples[i]["id"]);
    CHECK(scored[i]["reward"] == samples[i]["score"]);
    CHECK(scored[i]["matches_recorded"] == true);
  }
  const json results = json::parse(read_text(out / "results.json"));
  const json summary = json::parse(read_text(dir / (tag + "_summary.json")));
  for (const auto& [domain, m] : results["benchmark_metrics"]["domains"].items())
    for (const auto& [key, value] : m.items())
      if (key.rfind("pass^", 0) == 0) CHECK(summary["domains"][domain][key] == value);
}

}  // namespace

// The agent prompts of the τ² domains (policy + tool schemas) run past e2b-tiny's 4096-token
// context, so the server gets a copy of the checkpoint whose config allows 16384 positions.
TEST_CASE("real serve: tau2 against gemma4 serve (e2b-tiny, 16k context): airline, retail, telecom through to rewards, pass^k and score") {
  if (!tiny_model_present()) return;
  TempDir tmp("gemma4_real_serve");
  const fs::path root = tau2_data_root(tmp.path);
  const fs::path model = gemma4::test::checkpoint_with_context(kTinyModel, tmp.path / "e2b-tiny", 16384);
  Gemma4ServeProcess server(GEMMA4_CLI_BINARY, model, tmp.path / "serve.log");
  RecordingProxy proxy(server.port());

  SUBCASE("e2b-tiny as agent and user simulator; the run ends at --max-steps") {
    // Two steps: the user's first turn, then the agent's answer. Greedy decoding, short turns.
    const fs::path out = tmp.path / "tau2_tiny";
    REQUIRE(run_eval({"run", "--benchmark", "tau2", "--data", root.string(), "--domain", "airline,retail,telecom", "--task",
                      "refuse,2,airplane", "--endpoint", proxy.url(), "--model", "e2b-tiny", "--user-model", "e2b-tiny",
                      "--api-key-env", "", "--max-tokens", "8", "--user-max-tokens", "8", "--max-steps", "2", "--temperature",
                      "0", "--thinking", "off", "--seed", "300", "--quiet", "--out", out.string()},
                     tmp.path, "tiny") == 0);
    const json results = json::parse(read_text(out / "results.json"));
    CHECK(results["metrics"]["items"] == 3);
    CHECK(results["metrics"]["status_counts"].value("error", 0) == 0);
    for (const char* domain : {"airline", "retail", "telecom"}) {
      CAPTURE(domain);
      const json& d = results["benchmark_metrics"]["domains"][domain];
      CHECK(d["simulations"] == 1);
      CHECK(d["pass^1"] == 0.0);  // cut short by max_steps: reward 0, as officially
      CHECK(d["user_simulator"][0].get<std::string>().find("e2b-tiny") != std::string::npos);
    }
    CHECK(read_text(out / "report.md").find("τ²-bench") != std::string::npos);

    const auto exchanges = proxy.exchanges();
    for (const auto& e : exchanges) CHECK(e.status == 200);
    const auto samples = read_jsonl(out / "samples.jsonl");
    REQUIRE(samples.size() == 3);
    for (const auto& s : samples) {
      INFO(s["id"]);
      CHECK(s["status"] == "ok");
      CHECK(s["termination_reason"] == "max_steps");
      CHECK(s["score"] == 0.0);
      CHECK(s["reward_info"]["reward"] == 0.0);
      CHECK(s["agent"].get<std::string>().find(proxy.url()) != std::string::npos);
      const json& msgs = s["messages"];
      REQUIRE(msgs.size() >= 3);
      CHECK(msgs[0]["content"] == gemma4::eval::tau2::kAgentGreeting);
      CHECK(msgs[1]["role"] == "user");
      // Every turn after the greeting is a reply of the server: the user's to a user-simulator
      // request, the agent's to an agent request (tools and the policy prompt).
      for (std::size_t i = 1; i < msgs.size(); ++i) {
        if (msgs[i]["role"] == "tool") continue;
        CAPTURE(i);
        const bool agent_turn = msgs[i]["role"] == "assistant";
        int found = 0;
        for (const auto& e : exchanges)
          if (is_agent_request(e.request) == agent_turn && msgs[i].contains("content") && answer_content(e) == msgs[i]["content"]) ++found;
        CHECK(found >= 1);
      }
    }
    // The point of the wider context: the agent's prompts are longer than e2b-tiny's 4096.
    for (const auto& e : exchanges) {
      if (!is_agent_request(e.request)) continue;
      const int prompt_tokens = e.response["usage"]["prompt_tokens"];
      MESSAGE("agent prompt: " << prompt_tokens << " tokens, " << e.request["tools"].size() << " tools");
      CHECK(e.request["tools"].size() > 0);
      if (e.request["tools"].size() == 14) CHECK(prompt_tokens > 4096);  // airline
    }
    check_tau2_rescoring(out, root, tmp.path, "tiny");
  }

  SUBCASE("e2b-tiny as agent; a scripted user who stops after the agent's answer, and a scripted judge") {
    // Two airline tasks the agent's random text cannot solve alike: nl_task (DB + NL assertions; its
    // gold action only reads, so an agent that changes nothing matches the DB, and the judge marks
    // both assertions met) and compensate (DB + COMMUNICATE; the gold action sends a certificate
    // the agent never sends: DB mismatch, reward 0).
    std::vector<std::string> assertions;
    for (const auto& task : json::parse(read_text(kSource / "tests/tau2/data/airline/tasks.json")))
      if (task["id"] == "nl_task")
        for (const auto& a : task["evaluation_criteria"]["nl_assertions"]) assertions.push_back(a);
    REQUIRE(assertions.size() == 2);
    FakeOpenAIServer people(gemma4::test::replying([&](const json& body) -> json {
      const json& msgs = body["messages"];
      if (body["model"] == "scripted-judge") {
        json results = json::array();
        const std::string prompt = msgs[1]["content"];
        for (const auto& a : assertions)
          if (prompt.find(a) != std::string::npos)
            results.push_back({{"expectedOutcome", a}, {"reasoning", "scripted"}, {"metExpectation", true}});
        return {{"content", json{{"results", results}}.dump()}};
      }
      int agent_turns = 0;  // the user simulator sees the agent's turns as "user" messages
      for (const auto& m : msgs) agent_turns += m["role"] == "user";
      return {{"content", agent_turns >= 2 ? "Thank you, that is all. ###STOP###" : "Hello, I have a question about my trip."}};
    }));
    const fs::path out = tmp.path / "tau2_scripted_user";
    REQUIRE(run_eval({"run", "--benchmark", "tau2", "--data", root.string(), "--domain", "airline", "--task", "nl_task,compensate",
                      "--endpoint", proxy.url(), "--model", "e2b-tiny", "--user-endpoint", people.url(), "--user-model",
                      "scripted-user", "--judge-model", "scripted-judge", "--api-key-env", "", "--trials", "2", "--max-tokens",
                      "8", "--max-steps", "10", "--temperature", "0", "--thinking", "off", "--seed", "300", "--quiet", "--out",
                      out.string()},
                     tmp.path, "scripted") == 0);
    const json results = json::parse(read_text(out / "results.json"));
    const json& airline = results["benchmark_metrics"]["domains"]["airline"];
    CHECK(airline["pass^1"] == 0.5);
    CHECK(airline["pass^2"] == 0.5);
    CHECK(airline["simulations"] == 4);
    CHECK(airline["judge"][0].get<std::string>().find("scripted-judge") != std::string::npos);
    CHECK(read_text(out / "report.md").find("- pass^2: 50.0%") != std::string::npos);

    const auto samples = read_jsonl(out / "samples.jsonl");
    REQUIRE(samples.size() == 4);
    const auto seeds = gemma4::eval::tau2::trial_seeds(300, 2);
    int judged = 0;
    for (const auto& s : samples) {
      INFO(s.dump());
      CHECK(s["status"] == "ok");
      CHECK(s["termination_reason"] == "user_stop");
      CHECK(s["seed"] == seeds.at(s["trial"].get<std::size_t>()));
      const json& info = s["reward_info"];
      const bool nl_task = s["task_id"] == "nl_task";
      CHECK(info["db_check"]["db_match"] == nl_task);
      for (const auto& v : info["nl_assertions"]) {
        ++judged;
        CHECK(v["met"] == true);
      }
      CHECK(s["score"] == (nl_task ? 1.0 : 0.0));
      // The agent's turns are the server's replies to the agent's requests.
      for (const auto& m : s["messages"]) {
        if (m["role"] != "assistant" || m["content"] == gemma4::eval::tau2::kAgentGreeting) continue;
        bool found = false;
        for (const auto& e : proxy.exchanges()) found |= is_agent_request(e.request) && answer_content(e) == m.value("content", "");
        CHECK(found);
      }
    }
    CHECK(judged == 4);  // nl_task's two assertions, in each of its two trials
    check_tau2_rescoring(out, root, tmp.path, "scripted");
  }
}
