// Tests of the evaluation harness (eval/include/gemma4_eval/).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "gemma4_eval/aime.h"
#include "gemma4_eval/gpqa.h"
#include "gemma4_eval/metrics.h"
#include "gemma4_eval/mmlu_pro.h"
#include "gemma4_eval/mmmu_pro.h"
#include "gemma4_eval/openai_backend.h"
#include "gemma4_eval/rescore.h"
#include "gemma4_eval/run_store.h"
#include "gemma4_eval/runner.h"
#include "gemma4_eval/thinking.h"

#include "common/cli_process.h"
#include "common/fake_openai_server.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace ge = gemma4::eval;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kRoot = GEMMA4_SOURCE_DIR;
const std::string kExamples = kRoot + "/datasets";

fs::path fresh_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("gemma4_eval_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::vector<json> read_lines(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
TEST_CASE("thinking channel is removed before extraction; an unclosed channel leaves no answer") {
  auto s = ge::split_thinking("<|channel>thought\nThe answer is (A)<channel|>The answer is (B)<turn|>");
  CHECK(s.answer == "The answer is (B)");
  CHECK(s.thought == "The answer is (A)");
  CHECK(s.thought_closed);
  s = ge::split_thinking("<|channel>thought\nstill going, answer is (A)");
  CHECK(s.answer.empty());
  CHECK_FALSE(s.thought_closed);
  s = ge::split_thinking("opened by the template<channel|>Answer: C");  // closer without an opener
  CHECK(s.answer == "Answer: C");
  CHECK(s.had_thought);
  s = ge::split_thinking("<|channel>thought\n<channel|>Answer: D");  // thinking off on 26B/31B
  CHECK(s.answer == "Answer: D");
  s = ge::split_thinking("plain answer");
  CHECK(s.answer == "plain answer");
  CHECK_FALSE(s.had_thought);
}

// ---------------------------------------------------------------------------------------------
// Parity with the official scorers. tests/eval/data/<benchmark>_parity.jsonl holds our own
// responses and, under "expected", what the official code returned for them (see
// tests/eval/data/README.md for the files and commits).
// AIME: MathArena's value class must match exactly (parity_expected.py encode_matharena): a
// number (int, Python float or sympy Float) equal to ours (floats to 1e-12 relative: MathArena
// rounds a 101-digit evaluation, we compute in long double), {"rational": "p/q"} and
// {"big_integer": digits} equal, both to 1e-15 relative where ours is beyond 127 bits and
// marked "~", {"list": [...]} element by element, and {"other": ...} (symbols, irrationals, complex,
// zoo) against our {"expression": ...} -- which must not be a port gap.
static bool same_matharena_value(const json& expected, const json& got) {
  if (expected.is_null() || got.is_null()) return expected.is_null() && got.is_null();
  if (expected.is_number()) {
    if (!got.is_number()) return false;
    if (expected.is_number_integer()) return got.is_number_integer() && got == expected;
    if (!got.is_number_float()) return false;  // a Python/sympy float stays a float
    const double a = expected.get<double>(), b = got.get<double>();
    return std::fabs(a - b) <= 1e-12 * std::max(1.0, std::fabs(a));
  }
  if (!got.is_object()) return false;
  if (expected.contains("other")) return got.contains("expression") && !got.contains("port_gap");
  if (expected.contains("rational")) {
    if (!got.contains("rational")) return false;
    const std::string e = expected["rational"], g = got["rational"];
    if (g[0] != '~') return e == g;
    const std::size_t slash = e.find('/');
    const long double ve = std::stold(e.substr(0, slash)) / std::stold(e.substr(slash + 1)), vg = std::stold(g.substr(1));
    return std::fabs(ve - vg) <= 1e-15L * std::fabs(ve);
  }
  if (expected.contains("big_integer")) {
    if (!got.contains("big_integer")) return false;
    const std::string e = expected["big_integer"], g = got["big_integer"];
    if (g[0] != '~') return e == g;
    const long double ve = std::stold(e), vg = std::stold(g.substr(1));
    return e.size() > 38 && std::fabs(ve - vg) <= 1e-15L * std::fabs(ve);
  }
  if (expected.contains("list")) {
    if (!got.contains("list") || got["list"].size() != expected["list"].size()) return false;
    for (std::size_t i = 0; i < expected["list"].size(); ++i)
      if (!same_matharena_value(expected["list"][i], got["list"][i])) return false;
    return true;
  }
  return false;
}

static void check_parity(const std::string& bench, std::size_t min_cases) {
  const auto rows = ge::read_jsonl(kRoot + "/tests/eval/data/" + bench + "_parity.jsonl");
  std::size_t exact = 0, sympy_path = 0, sympy_correct = 0;
  for (const auto& [row, where] : rows) {
    const json& exp = row.at("expected");
    const json got = ge::score_line(bench, row, where);
    INFO(where << " response=" << row.at("response").dump() << " expected=" << exp.dump() << " got=" << got.dump());
    CHECK(got.at("id") == row.at("id"));
    const json& ex = exp.at("extracted");
    const json& x = got.at("extracted");
    if (bench == "aime") {
      // Every AIME case, including the ones MathArena sends through sympy, must agree in value
      // class and value, and in the verdict.
      CHECK(same_matharena_value(ex, x));
      CHECK(got.at("correct") == exp.at("correct"));
      if (exp.value("official_path", "") == "sympy") {
        ++sympy_path;
        sympy_correct += exp.at("correct").get<bool>();
      } else {
        ++exact;
      }
      continue;
    }
    ++exact;
    if (ex.is_object()) CHECK(x.is_object());  // a non-numeric official value
    else CHECK(x == ex);
    CHECK(got.at("correct") == exp.at("correct"));
    CHECK(got.value("fallback", "") == exp.value("fallback", ""));
  }
  if (bench == "aime")
    MESSAGE(bench << ": " << exact + sympy_path << " cases in parity, " << sympy_path << " of them through MathArena's "
                  << "sympy path (" << sympy_correct << " scored correct)");
  else
    MESSAGE(bench << ": " << exact << " cases in exact parity");
  CHECK(exact >= min_cases);
  if (bench == "aime") CHECK(sympy_path >= 80);
}

TEST_CASE("parity: MMLU-Pro extraction equals evaluate_from_api.py") { check_parity("mmlu_pro", 100); }
TEST_CASE("parity: GPQA extraction equals simple-evals gpqa_eval.py") { check_parity("gpqa", 100); }
TEST_CASE("parity: AIME extraction equals MathArena parser.extract_answer") { check_parity("aime", 100); }
TEST_CASE("parity: MMMU-Pro extraction equals mmmu-pro/evaluate.py") { check_parity("mmmu_pro", 100); }

TEST_CASE("score: malformed lines are errors naming file and field") {
  CHECK_THROWS_WITH_AS(ge::score_line("gpqa", json{{"id", 1}, {"gold", "A"}}, "f.jsonl:3"),
                       doctest::Contains("f.jsonl:3: field 'response'"), ge::DataError);
  CHECK_THROWS_WITH_AS(ge::score_line("aime", json{{"id", 1}, {"response", "x"}, {"gold", "abc"}}, "f.jsonl:4"),
                       doctest::Contains("field 'gold'"), ge::DataError);
  CHECK_THROWS_AS(ge::score_line("nope", json{{"id", 1}, {"response", "x"}}, "f"), std::invalid_argument);
  const json t = ge::score_line("mmlu_pro", json{{"id", "x"}, {"response", "<|channel>thought\nThe answer is (A)"}, {"gold", "A"}}, "f");
  CHECK(t.at("extracted").is_null());
  CHECK(t.at("truncated") == true);
  CHECK(t.at("fallback") == "random");
  // MMMU-Pro without option texts: letters A..J only, option-text matching off.
  const json u = ge::score_line("mmmu_pro", json{{"id", 1}, {"response", "it is surely the heart and not the liver"}, {"gold", "J"}}, "f");
  CHECK(u.at("extracted").is_null());
  CHECK(u.at("fallback") == "random");
  CHECK(ge::score_line("mmmu_pro", json{{"id", 1}, {"response", "Answer: J"}, {"gold", "J"}}, "f").at("correct") == true);
}

// ---------------------------------------------------------------------------------------------
TEST_CASE("python text helpers follow Python's Unicode semantics") {
  namespace py = ge::py;
  CHECK(py::lower("ÄBC Ω İ") == "äbc ω i\u0307");
  CHECK(py::strip("\u00a0 x \u3000") == "x");
  CHECK(py::count_split_words(" a\u2003b\nc ") == 3);
  CHECK(py::word_boundary("é A", 3));
  CHECK_FALSE(py::word_boundary("éA", 2));
  CHECK(ge::aime::python_int(" 1_000 ") == 1000);
  CHECK_FALSE(ge::aime::python_int("1__000"));
  CHECK(ge::aime::python_int("\xd9\xa3\xd9\xa4") == 34);  // Arabic-Indic digits
  CHECK(ge::aime::python_float("4.2e1") == 42.0);
  CHECK_FALSE(ge::aime::python_float("4.2e"));
}

TEST_CASE("AIME: MathArena's sympy path, verdicts the parity corpus cannot show") {
  namespace aime = ge::aime;
  auto score = [](const std::string& box, long long gold) { return aime::score_answer("\\boxed{" + box + "}", gold); };
  // check_answers' numeric tolerance: a Rational within 1e-10 of the gold counts as correct.
  CHECK(score("\\frac{42000000000001}{1000000000000}", 42).correct);
  CHECK_FALSE(score("\\frac{4200000001}{100000000}", 42).correct);
  CHECK(score("\\frac{42000000000001}{1000000000000}", 42).extracted == json{{"rational", "42000000000001/1000000000000"}});
  // An unexpanded product of sums is compared by its value (N(model - gold)).
  const auto product = score("(\\sqrt{2}+1)\\cdot(\\sqrt{2}-1)\\cdot 42", 42);
  CHECK(product.extracted.contains("expression"));
  CHECK(product.correct);
  // Gold 0 is never correct numerically: err / max(|a|, |b|) divides 0 by 0.
  CHECK_FALSE(score("0\\cdot 7", 0).correct);
  // SymPy's exact integers beyond 127 bits keep their magnitude, never equal a small gold.
  CHECK(score("3^{100}", 1).extracted.at("big_integer").get<std::string>().rfind("~5.1537752", 0) == 0);
  // What the port does not evaluate is reported, never scored: here MathArena would say 10.
  const auto log = score("\\log_2 1024", 10);
  CHECK(log.extracted.at("port_gap").get<std::string>().find("\\log") != std::string::npos);
  CHECK_FALSE(log.correct);
  // A parse_latex syntax error makes ParsePrimitive return None: the last integer of the text.
  CHECK(score("\\frac{1}{2}\\$", 1).extracted == 2);
}

// ---------------------------------------------------------------------------------------------
TEST_CASE("loaders read the example files in the official schemas") {
  ge::mmlu_pro::MmluPro mmlu({kExamples + "/mmlu_pro/examples", 5, ge::mmlu_pro::PromptStyle::api});
  REQUIRE(mmlu.items().size() == 6);
  const auto p = mmlu.prompt(mmlu.items()[2], 0);  // a 4-option row padded with "N/A"
  CHECK(p.num_choices == 4);
  const std::string& text = p.messages.at(0).content;
  CHECK(text.rfind("The following are multiple choice questions (with answers) about physics. Think step by step and then "
                   "output the answer in the format of \"The answer is (X)\" at the end.\n\nQuestion: Worked physics example 0",
                   0) == 0);
  CHECK(text.find("N/A") == std::string::npos);
  CHECK(ge::py::ends_with(text, "D. physics choice 3\nAnswer: Let's think step by step.\n\n"));
  CHECK(text.find("Answer: A: Let's") == std::string::npos);  // the "A: " prefix of the worked answers is dropped
  ge::mmlu_pro::MmluPro zero({kExamples + "/mmlu_pro/examples", 0, ge::mmlu_pro::PromptStyle::local});
  const std::string z = zero.prompt(zero.items()[0], 0).messages.at(0).content;
  CHECK(z.find("Worked") == std::string::npos);
  CHECK(ge::py::ends_with(z, "J. physics choice 9\nAnswer: Let's think step by step."));

  ge::gpqa::Gpqa gpqa({kExamples + "/gpqa/examples/gpqa_diamond.jsonl", 7});
  REQUIRE(gpqa.items().size() == 4);
  std::set<std::string> golds;
  for (int s = 0; s < 16; ++s) {
    const auto gp = gpqa.prompt(gpqa.items()[0], s);
    const auto again = gpqa.prompt(gpqa.items()[0], s);
    CHECK(gp.messages[0].content == again.messages[0].content);  // seeded: same sample, same shuffle
    const std::string letter = gp.gold.get<std::string>();
    golds.insert(letter);
    // the gold letter labels the correct answer
    CHECK(gp.messages[0].content.find(letter + ") true statement 0") != std::string::npos);
    CHECK(gp.record.at("permutation").size() == 4);
  }
  CHECK(golds.size() >= 3);  // the correct answer moves around

  ge::gpqa::Gpqa per_item({kExamples + "/gpqa/examples/gpqa_diamond.jsonl", 7, ge::gpqa::Shuffle::per_item});
  CHECK(per_item.prompt(per_item.items()[1], 2).messages[0].content == per_item.prompt(per_item.items()[1], 2).messages[0].content);
  CHECK(per_item.settings()["shuffle"] == "per-item");

  ge::aime::Aime aime({kExamples + "/aime/examples/aime_2026.jsonl", true});
  CHECK(aime.prompt(aime.items()[0], 0).messages[0].content ==
        "Put your final answer within \\boxed{}.\nThe answer is an integer between 0 and 999 inclusive.\n\n"
        "Find the remainder when $7^{3}$ is divided by $1000$.");

  ge::mmmu_pro::MmmuPro std10({kExamples + "/mmmu_pro/examples", ge::mmmu_pro::Setting::standard10, true});
  const auto mp = std10.prompt(std10.items()[0], 0);
  const json& parts = mp.messages[0].content_parts;
  REQUIRE(parts.size() == 4);  // <image 2>, <image 1>, and <image 1> again in option A, then the text
  CHECK(parts[0]["type"] == "image_url");
  CHECK(parts[3]["type"] == "text");
  const std::string t = parts[3]["text"];
  CHECK(t.find("Compare <image> with <image>.") == 0);
  CHECK(t.find("\nA. the triangle <image>\nB. the square\n") != std::string::npos);
  CHECK(ge::py::ends_with(t, "\nJ. 10\nAnswer the preceding multiple choice question. The last line of your response should be "
                             "of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of options. Think "
                             "step by step before answering."));
  const std::string img2 = ge::read_file_bytes(kExamples + "/mmmu_pro/examples/images/std_1_image_2.png");
  CHECK(parts[0]["image_url"]["url"] == "data:image/png;base64," + ge::mmmu_pro::base64(img2));
  const auto jpg = std10.prompt(std10.items()[2], 0);
  CHECK(jpg.messages[0].content_parts[0]["image_url"]["url"].get<std::string>().rfind("data:image/jpeg;base64,", 0) == 0);
  CHECK(std10.items()[2].data["options"][4] == "it's \"mixed\"");
  ge::mmmu_pro::MmmuPro vision({kExamples + "/mmmu_pro/examples", ge::mmmu_pro::Setting::vision, false});
  const auto vp = vision.prompt(vision.items()[0], 0);
  REQUIRE(vp.messages[0].content_parts.size() == 2);
  CHECK(vp.messages[0].content_parts[0]["text"].get<std::string>().rfind("Write out the multiple-choice question", 0) == 0);
  CHECK(vp.num_choices == 4);
}

TEST_CASE("GPQA shuffles reproduce simple-evals' random.Random(0).sample(range(4), 4) stream") {
  // Expected permutations generated offline by CPython 3.11 (see the file's "source").
  const json ref = json::parse(ge::read_file_bytes(kRoot + "/tests/eval/data/gpqa_simple_evals_permutations.json"));
  const std::string digits = ref.at("permutations");
  REQUIRE(digits.size() == 792 * 4);
  ge::gpqa::PythonRandom rng(0);
  for (std::size_t k = 0; k < 792; ++k) {
    const auto p = rng.sample4();
    for (int i = 0; i < 4; ++i) REQUIRE(p[i] == digits[4 * k + i] - '0');
  }
  CHECK(ge::gpqa::simple_evals_permutation(0, 791)[0] == digits[4 * 791] - '0');
  // In a run: sample s of row r uses draw s * rows + r (4 rows in the example file).
  ge::gpqa::Gpqa gpqa({kExamples + "/gpqa/examples/gpqa_diamond.jsonl", 0});
  for (int s = 0; s < 4; ++s)
    for (std::size_t r = 0; r < 4; ++r) {
      const auto p = gpqa.prompt(gpqa.items()[r], s);
      const std::size_t k = static_cast<std::size_t>(s) * 4 + r;
      for (int i = 0; i < 4; ++i) CHECK(p.record["permutation"][i] == digits[4 * k + i] - '0');
      // gold letter = position of the correct answer (choice 0)
      const int correct_at = static_cast<int>(digits.substr(4 * k, 4).find('0'));
      CHECK(p.gold == std::string(1, static_cast<char>('A' + correct_at)));
    }
}

TEST_CASE("loaders reject broken data with the file, line and field") {
  const fs::path dir = fresh_dir("broken");
  {
    std::ofstream(dir / "test.jsonl") << R"({"question_id": 1, "question": "q", "options": ["a","b"], "answer": "C", "answer_index": 2, "category": "x"})"
                                      << "\n";
  }
  const std::string expected_where = (dir / "test.jsonl").string() + ":1: field 'answer'";
  CHECK_THROWS_WITH(ge::mmlu_pro::MmluPro({dir.string(), 0, ge::mmlu_pro::PromptStyle::api}),
                    doctest::Contains(expected_where.c_str()));
  { std::ofstream(dir / "aime.jsonl") << R"({"problem_idx": 1, "problem": "p"})" << "\n"; }
  CHECK_THROWS_WITH(ge::aime::Aime({(dir / "aime.jsonl").string(), true}), doctest::Contains("aime.jsonl:1: field 'answer': missing"));
  { std::ofstream(dir / "trunc.jsonl") << R"({"problem_idx": 1, "problem": "p", "ans)"; }
  CHECK_THROWS_WITH(ge::aime::Aime({(dir / "trunc.jsonl").string(), true}), doctest::Contains("trunc.jsonl:1: not valid JSON"));
  CHECK_THROWS_WITH(ge::mmmu_pro::parse_python_string_list("['a', 'b'", "x.jsonl:2"), doctest::Contains("x.jsonl:2: field 'options'"));
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
TEST_CASE("metrics: mean over samples per item, per category, seeded bootstrap") {
  std::vector<json> recs;
  auto add = [&](const std::string& item, const std::string& cat, double score, const std::string& status) {
    recs.push_back({{"item", item}, {"category", cat}, {"score", score}, {"status", status}});
  };
  add("1", "a", 1, "ok");
  recs.back()["completion_tokens"] = 60;
  add("1", "a", 0, "ok");
  add("2", "a", 1, "ok");
  add("2", "a", 1, "ok");
  add("3", "b", 0, "unparsed");
  recs.back()["fallback"] = "random";
  recs.back()["num_choices"] = 4;
  add("3", "b", 0, "truncated");
  recs.push_back({{"item", "3"}, {"status", "error"}, {"score", nullptr}});
  const json m = ge::compute_metrics(recs, 1);
  CHECK(m["accuracy"].get<double>() == doctest::Approx((0.5 + 1.0 + 0.0) / 3));
  CHECK(m["per_category"]["a"]["accuracy"].get<double>() == doctest::Approx(0.75));
  CHECK(m["status_counts"]["error"] == 1);
  CHECK(m["mean_completion_tokens"].get<double>() == doctest::Approx(10.0));  // 60 over 6 scored samples
  CHECK(m["status_counts"]["truncated"] == 1);
  CHECK(m["fallback_random"] == 1);
  CHECK(m["accuracy_with_expected_random_fallback"].get<double>() == doctest::Approx((3 + 0.25) / 6));
  CHECK(m["accuracy_excluding_truncated"].get<double>() == doctest::Approx(3.0 / 5));
  CHECK(m["ci95"] == ge::compute_metrics(recs, 1)["ci95"]);
  CHECK(m["ci95"][0].get<double>() <= m["accuracy"].get<double>());
  CHECK(m["ci95"][1].get<double>() >= m["accuracy"].get<double>());
}

TEST_CASE("run store: a torn last line is skipped, never rewritten, and the next record starts clean") {
  const fs::path dir = fresh_dir("store");
  const fs::path file = dir / "samples.jsonl";
  auto rec = [](const std::string& item, const std::string& status) {
    return json{{"benchmark", "b"}, {"item", item}, {"sample", 0}, {"config_hash", "h"}, {"status", status}, {"score", 1.0}};
  };
  {
    ge::RunStore s(file.string());
    s.append(rec("1", "ok"));
    s.append(rec("2", "error"));
  }
  { std::ofstream(file, std::ios::app) << R"({"benchmark": "b", "item": "3", "sam)"; }  // killed mid-write
  const auto size_before = fs::file_size(file);
  {
    ge::RunStore s(file.string());
    CHECK(s.torn_lines() == 1);
    CHECK(s.done({"b", "1", 0, "h"}));
    CHECK_FALSE(s.done({"b", "2", 0, "h"}));  // errors are retried
    CHECK_FALSE(s.done({"b", "3", 0, "h"}));
    s.append(rec("3", "ok"));
  }
  CHECK(fs::file_size(file) > size_before);
  ge::RunStore s(file.string());
  CHECK(s.done({"b", "3", 0, "h"}));
  CHECK(s.records().size() == 3);
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// A scripted OpenAI-compatible server on 127.0.0.1 (tests/common/fake_openai_server.h).
namespace {

using gemma4::test::completion;
using gemma4::test::FakeOpenAIServer;

// The text the model sees: the string content, or the text part of a content array.
std::string prompt_text(const json& message) {
  if (message["content"].is_string()) return message["content"];
  for (const auto& part : message["content"])
    if (part["type"] == "text") return part["text"];
  return "";
}

enum class Plan { correct, wrong, unparsed, truncated };

// What the scripted model does with sample `s` of item `i`.
Plan plan_for(std::size_t i, int s) {
  switch ((i + static_cast<std::size_t>(s) * 2) % 5) {
    case 0: case 1: return Plan::correct;
    case 2: return Plan::wrong;
    case 3: return Plan::unparsed;
    default: return Plan::truncated;
  }
}

std::string answer_in_format(const std::string& bench, const std::string& gold) {
  if (bench == "mmlu_pro") return "The answer is (" + gold + ").";
  if (bench == "aime") return "So the result is \\boxed{" + gold + "}.";
  return "Answer: " + gold;
}

std::string wrong_answer(const std::string& bench, const std::string& gold) {
  if (bench == "aime") return std::to_string(std::stoi(gold) + 1);
  return gold == "A" ? "B" : "A";
}

}  // namespace

// The whole run path in process: prompts -> OpenAI client (retries on 500/429/timeouts/garbage)
// -> thinking removal -> official extraction -> run file -> metrics -> reports. The expected
// score follows from the script.
TEST_CASE("end to end: every benchmark against a scripted OpenAI-compatible server, with failures and retries") {
  const std::string benches[] = {"mmlu_pro", "gpqa", "aime", "mmmu_pro"};
  for (const std::string& bench : benches) {
    CAPTURE(bench);
    std::unique_ptr<ge::Benchmark> b;
    if (bench == "mmlu_pro") b = std::make_unique<ge::mmlu_pro::MmluPro>(ge::mmlu_pro::Options{kExamples + "/mmlu_pro/examples", 5, ge::mmlu_pro::PromptStyle::api});
    if (bench == "gpqa") b = std::make_unique<ge::gpqa::Gpqa>(ge::gpqa::Options{kExamples + "/gpqa/examples/gpqa_diamond.jsonl", 3});
    if (bench == "aime") b = std::make_unique<ge::aime::Aime>(ge::aime::Options{kExamples + "/aime/examples/aime_2026.jsonl", true});
    if (bench == "mmmu_pro") b = std::make_unique<ge::mmmu_pro::MmmuPro>(ge::mmmu_pro::Options{kExamples + "/mmmu_pro/examples", ge::mmmu_pro::Setting::standard10, true});
    const int samples = 3;
    // The script, keyed by the request seed (unique per item and sample; prompts may repeat
    // across samples): (item index, sample, gold).
    std::map<std::uint64_t, std::tuple<std::size_t, int, std::string>> script;
    double expected_sum = 0;
    int expected_unparsed = 0, expected_truncated = 0;
    for (std::size_t i = 0; i < b->items().size(); ++i) {
      double item_sum = 0;
      for (int s = 0; s < samples; ++s) {
        const auto p = b->prompt(b->items()[i], s);
        const std::string gold = p.gold.is_string() ? p.gold.get<std::string>() : std::to_string(p.gold.get<long long>());
        script[ge::sample_seed(0, b->items()[i].id, s)] = {i, s, gold};
        script[ge::sample_seed(0, b->items()[i].id + "/last_chance", s)] = {i, s, gold};
        const Plan plan = plan_for(i, s);
        // AIME's last chance rescues an unboxed answer (the script then answers correctly).
        item_sum += plan == Plan::correct || (bench == "aime" && plan == Plan::unparsed) ? 1.0 : 0.0;
        expected_unparsed += plan == Plan::unparsed && bench != "aime";
        expected_truncated += plan == Plan::truncated;
      }
      expected_sum += item_sum / samples;
    }
    const double expected_accuracy = expected_sum / static_cast<double>(b->items().size());

    FakeOpenAIServer server([&](const json& body, int attempt, httplib::Response& res) {
      const json& msgs = body["messages"];
      const auto it = script.find(body["seed"].get<std::uint64_t>());
      if (it != script.end() && prompt_text(msgs.back()) == std::string(ge::aime::kLastChancePrompt)) {
        const auto& [i, s, gold] = it->second;
        res.set_content(completion(plan_for(i, s) == Plan::unparsed ? "\\boxed{" + gold + "}" : "\\boxed{None}"), "application/json");
        return;
      }
      if (it == script.end()) {
        res.status = 400;
        res.set_content("unknown prompt", "text/plain");
        return;
      }
      const auto& [i, s, gold] = it->second;
      // Transport trouble on first attempts, by item: 500, 429, a garbled body, a stall past
      // the client's timeout.
      if (attempt == 0 && s == 0) {
        switch (i % 4) {
          case 0: res.status = 500; res.set_content("overloaded", "text/plain"); return;
          case 1: res.status = 429; res.set_content("slow down", "text/plain"); return;
          case 2: res.set_content("{\"choices\": [", "application/json"); return;
          default: std::this_thread::sleep_for(std::chrono::milliseconds(1300)); break;
        }
      }
      const std::string distractor = "<|channel>thought\n" + answer_in_format(bench, wrong_answer(bench, gold)) + " Hmm.<channel|>";
      switch (plan_for(i, s)) {
        case Plan::correct: res.set_content(completion(distractor + answer_in_format(bench, gold)), "application/json"); break;
        case Plan::wrong: res.set_content(completion(distractor + answer_in_format(bench, wrong_answer(bench, gold))), "application/json"); break;
        case Plan::unparsed: res.set_content(completion(distractor + "no idea"), "application/json"); break;
        case Plan::truncated:
          res.set_content(completion("<|channel>thought\n" + answer_in_format(bench, gold) + " and then", "length"), "application/json");
          break;
      }
    });

    ge::OpenAIBackendOptions bo;
    bo.base_url = server.url();
    bo.model = "scripted";
    bo.api_key_env = "";
    bo.timeout_s = 1.0;
    bo.backoff_initial_s = 0.01;
    bo.max_retries = 3;
    ge::OpenAIBackend backend(bo);
    ge::GenerationSettings gen;
    gen.max_tokens = 256;
    const fs::path dir = fresh_dir("e2e_" + bench);
    ge::RunOptions ro;
    ro.out_dir = dir.string();
    ro.samples = samples;
    ro.concurrency = 3;
    ro.progress = false;
    ro.model_label = "scripted";
    const json results = ge::run_benchmark(*b, backend, gen, ro);
    const json& m = results["metrics"];
    CHECK(m["accuracy"].get<double>() == doctest::Approx(expected_accuracy));
    CHECK(m["status_counts"]["error"] == 0);
    CHECK(m["status_counts"]["unparsed"] == expected_unparsed);
    CHECK(m["status_counts"]["truncated"] == expected_truncated);
    CHECK(m["samples_scored"] == static_cast<int>(b->items().size()) * samples);
    CHECK(backend.retries() >= static_cast<int>(b->items().size()));  // every sample 0 failed once
    // Sampling settings and thinking reach the server.
    const json body = server.bodies().front();
    CHECK(body["temperature"] == 1.0);
    CHECK(body["top_p"] == 0.95);
    CHECK(body["top_k"] == 64);
    CHECK(body["max_tokens"] == 256);
    CHECK(body["chat_template_kwargs"]["enable_thinking"] == true);
    // Outputs.
    const auto lines = read_lines(dir / "samples.jsonl");
    CHECK(lines.size() == b->items().size() * samples);
    const std::string report = ge::read_file_bytes((dir / "report.md").string());
    CHECK(report.find("![scores](scores.svg)") != std::string::npos);
    const std::string svg = ge::read_file_bytes((dir / "scores.svg").string());
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK(svg.find("Gemma 4 31B (card)") != std::string::npos);
    const json on_disk = json::parse(ge::read_file_bytes((dir / "results.json").string()));
    CHECK(on_disk["metrics"]["accuracy"] == m["accuracy"]);
    // A second run with the same settings has nothing left to do.
    const int before = server.requests();
    ge::run_benchmark(*b, backend, gen, ro);
    CHECK(server.requests() == before);
    fs::remove_all(dir);
  }
}

TEST_CASE("backend: API key from the environment, separate reasoning, null content") {
  ::setenv("GEMMA4_EVAL_TEST_KEY", "sekrit", 1);
  FakeOpenAIServer server([&](const json&, int, httplib::Response& res) {
    res.set_content(json{{"choices", {{{"message", {{"role", "assistant"}, {"content", "Answer: B"}, {"reasoning_content", "Answer: A?"}}},
                                       {"finish_reason", "stop"}}}}}.dump(),
                    "application/json");
  });
  ge::OpenAIBackendOptions bo;
  bo.base_url = server.url() + "/";  // a trailing slash is fine
  bo.api_key_env = "GEMMA4_EVAL_TEST_KEY";
  ge::OpenAIBackend backend(bo);
  ge::ChatRequest r;
  r.messages.push_back(ge::text_message("user", "hi"));
  const ge::ChatResponse resp = backend.chat(r);
  CHECK(server.authorization() == "Bearer sekrit");
  CHECK(resp.message.content == "Answer: B");
  CHECK(resp.message.reasoning == "Answer: A?");
  CHECK(resp.finish_reason == "stop");
  const auto null_content = ge::OpenAIBackend::parse_response(
      R"({"choices":[{"message":{"role":"assistant","content":null,"reasoning":"out of budget"},"finish_reason":"length"}]})");
  CHECK(null_content.message.content.empty());
  CHECK(null_content.message.reasoning == "out of budget");
  CHECK(null_content.finish_reason == "length");
  CHECK_THROWS(ge::OpenAIBackend::parse_response(R"({"choices": []})"));
  CHECK_THROWS_AS(ge::OpenAIBackend(ge::OpenAIBackendOptions{.base_url = "ftp://x"}), std::invalid_argument);
  ::unsetenv("GEMMA4_EVAL_TEST_KEY");
}

TEST_CASE("backend: non-retryable HTTP errors fail fast; exhausted retries become error records") {
  std::atomic<int> calls{0};
  FakeOpenAIServer server([&](const json&, int, httplib::Response& res) {
    ++calls;
    res.status = 400;
    res.set_content("bad request", "text/plain");
  });
  ge::OpenAIBackendOptions bo;
  bo.base_url = server.url();
  bo.api_key_env = "";
  bo.backoff_initial_s = 0.01;
  ge::OpenAIBackend backend(bo);
  ge::ChatRequest r;
  r.messages.push_back(ge::text_message("user", "hi"));
  CHECK_THROWS_WITH(backend.chat(r), doctest::Contains("HTTP 400"));
  CHECK(calls == 1);
  ge::aime::Aime aime({kExamples + "/aime/examples/aime_2026.jsonl", true});
  const json rec = aime.run_sample(aime.items()[0], 0, backend, {});
  CHECK(rec["status"] == "error");
  CHECK(rec["score"].is_null());
}

// ---------------------------------------------------------------------------------------------
// The real CLI process, killed with SIGKILL mid-run, then resumed.
using gemma4::test::count_nonempty_lines;
using gemma4::test::spawn_process;
using gemma4::test::wait_process;

TEST_CASE("resume: a gemma4-eval run killed with SIGKILL loses and duplicates nothing") {
  ge::mmlu_pro::MmluPro bench({kExamples + "/mmlu_pro/examples", 5, ge::mmlu_pro::PromptStyle::api});
  const int samples = 10;
  std::map<std::string, std::string> gold_of;  // prompt -> gold
  for (const auto& item : bench.items()) {
    const auto p = bench.prompt(item, 0);
    gold_of[p.messages[0].content] = p.gold.get<std::string>();
  }
  FakeOpenAIServer server([&](const json& body, int, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    res.set_content(completion("The answer is (" + gold_of.at(body["messages"][0]["content"]) + ")."), "application/json");
  });
  const fs::path dir = fresh_dir("resume");
  const std::vector<std::string> args = {GEMMA4_EVAL_BINARY, "run", "--benchmark", "mmlu_pro", "--data",
                                         kExamples + "/mmlu_pro/examples", "--endpoint", server.url(), "--out",
                                         dir.string(), "--samples", std::to_string(samples), "--concurrency", "2",
                                         "--quiet", "--api-key-env", "GEMMA4_EVAL_TEST_NO_KEY"};
  const fs::path log = dir / "log.txt";
  const std::size_t total = bench.items().size() * samples;

  pid_t pid = spawn_process(args, log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count_nonempty_lines(dir / "samples.jsonl") < total / 4 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  CHECK(wait_process(pid) == -SIGKILL);
  const std::size_t after_kill = count_nonempty_lines(dir / "samples.jsonl");
  CHECK(after_kill >= total / 4);
  CHECK(after_kill < total);
  // Make the kill land mid-line as well: a torn record at the end of the file.
  { std::ofstream(dir / "samples.jsonl", std::ios::app) << R"({"benchmark":"mmlu_pro","item":"10)"; }

  pid = spawn_process(args, log);
  CHECK(wait_process(pid) == 0);
  const std::string output = ge::read_file_bytes(log.string());
  CHECK(output.find("skipped 1 torn line") != std::string::npos);

  // Every (item, sample) exactly once among the parseable lines; nothing lost.
  std::map<std::pair<std::string, int>, int> seen;
  std::size_t torn = 0;
  std::ifstream in(dir / "samples.jsonl");
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    try {
      const json r = json::parse(line);
      ++seen[{r["item"].get<std::string>(), r["sample"].get<int>()}];
    } catch (const json::parse_error&) {
      ++torn;
    }
  }
  CHECK(torn == 1);
  CHECK(seen.size() == total);
  for (const auto& [key, n] : seen) CHECK_MESSAGE(n == 1, key.first << "/" << key.second << " written " << n << " times");
  const json results = json::parse(ge::read_file_bytes((dir / "results.json").string()));
  CHECK(results["metrics"]["accuracy"] == 1.0);
  CHECK(results["metrics"]["samples_scored"] == static_cast<int>(total));
  fs::remove_all(dir);
}

TEST_CASE("gemma4-eval score writes one line per input line, in order") {
  const fs::path dir = fresh_dir("score_cli");
  {
    std::ofstream f(dir / "in.jsonl");
    f << R"({"id": "a", "response": "<|channel>thought\nAnswer: B<channel|>Answer: C", "gold": "C"})" << "\n";
    f << R"({"id": 2, "response": "nothing", "gold": "A"})" << "\n";
  }
  const pid_t pid = spawn_process({GEMMA4_EVAL_BINARY, "score", "--benchmark", "gpqa", "--responses", (dir / "in.jsonl").string(),
                           "--output", (dir / "out.jsonl").string()},
                          dir / "log.txt");
  CHECK(wait_process(pid) == 0);
  const auto out = read_lines(dir / "out.jsonl");
  REQUIRE(out.size() == 2);
  CHECK(out[0] == json{{"id", "a"}, {"extracted", "C"}, {"correct", true}});
  CHECK(out[1] == json{{"id", 2}, {"extracted", nullptr}, {"correct", false}});
  fs::remove_all(dir);
}
