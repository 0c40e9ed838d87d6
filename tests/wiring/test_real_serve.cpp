// End to end against a real `gemma4 serve` loaded with the tiny golden checkpoint
// (reference_outputs/models/e2b-tiny: synthetic weights, so it produces tokens, not language): the
// real `gemma4-eval` process runs MMLU-Pro, GPQA, AIME, LiveCodeBench and τ²-bench on self-written
// data through a recording proxy, so each test checks that what the harness saved is exactly what
// the server said, that the files of a run (samples.jsonl, results.json, report.md, scores.svg)
// agree with each other, that `gemma4-eval score` reproduces the run's verdicts from the saved
// responses, and that a run killed mid-way resumes without losing or repeating a sample. The tiny
// model's accuracy is random and never asserted; τ² rewards are, only where any random-text agent
// earns the same. MMMU-Pro needs image input and is tested with the vision path.
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

// The agent prompts of the τ² domains (policy + tool schemas + the conversation: about 5,300 tokens
// for airline, 7,150 for retail, 4,050 for telecom with the tiny vocabulary) run past e2b-tiny's
// 4096-token context, so the server gets a copy of the checkpoint whose config allows 16384 positions.
//
// e2b-tiny is the agent and writes the user's opening turn. A tiny model never ends a conversation
// by itself and cannot write the JSON verdicts the NL-assertion judge must return (the evaluator
// would record infrastructure_error), so once the agent has answered, a script sends the user's
// "###STOP###", and a script judges: every simulation then reaches the evaluator with a real
// agent turn. Four tasks whose rewards follow from what a random-text agent does:
//   airline nl_task     DB + NL_ASSERTION   the gold action only reads: DB matches; judge: met   -> 1
//   airline compensate  DB + COMMUNICATE    the gold action sends a certificate: DB mismatch     -> 0
//   retail 7            DB + NL_ASSERTION   DB matches; judge: the T-shirt count is not met      -> 0
//   telecom airplane    ENV_ASSERTION       the user's phone is still in airplane mode           -> 0
TEST_CASE("real serve: tau2 against gemma4 serve (e2b-tiny, 16k context): airline, retail, telecom through to rewards, pass^k and score") {
  if (!tiny_model_present()) return;
  TempDir tmp("gemma4_real_serve");
  const fs::path root = tau2_data_root(tmp.path);
  const fs::path model = gemma4::test::checkpoint_with_context(kTinyModel, tmp.path / "e2b-tiny", 16384);
  Gemma4ServeProcess server(GEMMA4_CLI_BINARY, model, tmp.path / "serve.log");
  RecordingProxy proxy(server.port());

  std::vector<std::string> assertions;  // of nl_task and retail 7
  for (const auto& [domain, id] : {std::pair<std::string, std::string>{"airline", "nl_task"}, {"retail", "7"}})
    for (const auto& task : json::parse(read_text(kSource / "tests/tau2/data" / domain / "tasks.json")))
      if (task["id"] == id)
        for (const auto& a : task["evaluation_criteria"]["nl_assertions"]) assertions.push_back(a);
  REQUIRE(assertions.size() == 4);
  auto judged_met = [](const std::string& assertion) { return assertion.find("T-shirt") == std::string::npos; };
  FakeOpenAIServer user_and_judge([&](const json& body, int, httplib::Response& res) {
    const json& msgs = body["messages"];
    if (body["model"] == "scripted-judge") {
      json results = json::array();
      const std::string prompt = msgs[1]["content"];
      for (const auto& a : assertions)
        if (prompt.find(a) != std::string::npos)
          results.push_back({{"expectedOutcome", a}, {"reasoning", "scripted"}, {"metExpectation", judged_met(a)}});
      res.set_content(gemma4::test::completion(json{{"results", results}}.dump()), "application/json");
      return;
    }
    int agent_turns = 0;  // the user simulator sees the agent's turns as "user" messages
    for (const auto& m : msgs) agent_turns += m["role"] == "user";
    if (agent_turns >= 2) {
      res.set_content(gemma4::test::completion("Thank you, that is all. ###STOP###"), "application/json");
      return;
    }
    const auto [status, text] = proxy.relay(body);  // the opening turn: e2b-tiny's
    res.status = status;
    res.set_content(text, "application/json");
  });

  const fs::path out = tmp.path / "tau2";
  REQUIRE(run_eval({"run", "--benchmark", "tau2", "--data", root.string(), "--domain", "airline,retail,telecom", "--task",
                    "nl_task,compensate,7,airplane", "--endpoint", proxy.url(), "--model", "e2b-tiny", "--user-endpoint",
                    user_and_judge.url(), "--user-model", "e2b-tiny", "--judge-model", "scripted-judge", "--api-key-env", "",
                    "--max-tokens", "8", "--user-max-tokens", "8", "--max-steps", "10", "--temperature", "0", "--thinking",
                    "off", "--seed", "300", "--quiet", "--out", out.string()},
                   tmp.path, "run") == 0);

  // results.json and report.md: pass^k per domain (one trial per task here; pass^k for k > 1 over
  // several trials is checked against the scripted server in test_wiring.cpp).
  const json results = json::parse(read_text(out / "results.json"));
  CHECK(results["metrics"]["items"] == 4);
  CHECK(results["metrics"]["status_counts"].value("error", 0) == 0);
  CHECK(results["metrics"]["accuracy"].get<double>() == doctest::Approx(0.25));
  const json& domains = results["benchmark_metrics"]["domains"];
  CHECK(domains["airline"]["pass^1"] == 0.5);
  CHECK(domains["retail"]["pass^1"] == 0.0);
  CHECK(domains["telecom"]["pass^1"] == 0.0);
  CHECK(results["benchmark_metrics"]["mean_pass^1_over_domains"].get<double>() == doctest::Approx(0.5 / 3));
  for (const char* d : {"airline", "retail", "telecom"}) {
    CAPTURE(d);
    CHECK(domains[d]["agent"][0].get<std::string>().find(proxy.url()) != std::string::npos);
    CHECK(domains[d]["user_simulator"][0].get<std::string>().find("e2b-tiny") != std::string::npos);
    CHECK(domains[d]["judge"][0].get<std::string>().find("scripted-judge") != std::string::npos);
  }
  const std::string report = read_text(out / "report.md");
  CHECK(report.find("τ²-bench") != std::string::npos);
  CHECK(report.find("- pass^1:") != std::string::npos);

  // The trajectories: greeting, e2b-tiny's opening as the user, e2b-tiny's answer as the agent
  // (and any tool round trips it asked for), the scripted stop.
  const auto exchanges = proxy.exchanges();
  for (const auto& e : exchanges) CHECK(e.status == 200);
  auto from_server = [&](const json& m, bool agent) {
    for (const auto& e : exchanges)
      if (is_agent_request(e.request) == agent && m.contains("content") && answer_content(e) == m["content"]) return true;
    return false;
  };
  const auto samples = read_jsonl(out / "samples.jsonl");
  REQUIRE(samples.size() == 4);
  int judged = 0;
  for (const auto& s : samples) {
    INFO(s.dump());
    const std::string task = s["task_id"];
    CHECK(s["status"] == "ok");
    CHECK(s["termination_reason"] == "user_stop");
    const json& msgs = s["messages"];
    REQUIRE(msgs.size() >= 4);
    CHECK(msgs[0]["content"] == gemma4::eval::tau2::kAgentGreeting);
    CHECK(msgs[1]["role"] == "user");
    CHECK(from_server(msgs[1], /*agent=*/false));
    CHECK(msgs.back()["content"] == "Thank you, that is all. ###STOP###");
    for (std::size_t i = 2; i + 1 < msgs.size(); ++i)
      if (msgs[i]["role"] == "assistant") CHECK(from_server(msgs[i], /*agent=*/true));
    const json& info = s["reward_info"];
    for (const auto& v : info["nl_assertions"]) {
      ++judged;
      CHECK(v["met"] == judged_met(v["nl_assertion"]));
    }
    if (task == "nl_task" || task == "7") CHECK(info["db_check"]["db_match"] == true);
    if (task == "compensate") CHECK(info["db_check"]["db_match"] == false);
    if (task == "airplane") {
      REQUIRE(!info["env_assertions"].empty());
      bool all_met = true;
      for (const auto& a : info["env_assertions"]) all_met = all_met && a["met"] == true;
      CHECK_FALSE(all_met);
    }
    CHECK(s["score"] == (task == "nl_task" ? 1.0 : 0.0));
    CHECK(s["score"] == info["reward"]);
  }
  CHECK(judged == 4);  // two assertions each for nl_task and retail 7

  // The point of the wider context: the agent's prompts are longer than e2b-tiny's 4096 tokens.
  int long_prompts = 0;
  for (const auto& e : exchanges) {
    if (!is_agent_request(e.request)) continue;
    const int prompt_tokens = e.response["usage"]["prompt_tokens"];
    MESSAGE("agent prompt: " << prompt_tokens << " tokens, " << e.request["tools"].size() << " tools");
    CHECK(e.request["tools"].size() > 0);
    long_prompts += prompt_tokens > 4096;
  }
  CHECK(long_prompts >= 3);  // airline twice, retail

  check_tau2_rescoring(out, root, tmp.path, "tau2");
}
