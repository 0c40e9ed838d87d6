// The model-output parser against transformers' gemma4 response parser
// (reference_outputs/chat_template/response_parsing.json), plus statuses and robustness.
#include <doctest/doctest.h>

#include <random>

#include "gemma4/output_parser.h"
#include "test_paths.h"

using gemma4::ParsedOutput;
using gemma4::parse_model_output;
using Json = nlohmann::ordered_json;
using Status = ParsedOutput::Status;

namespace {

// Key order does not matter when comparing messages.
bool same_json(const Json& a, const Json& b) { return nlohmann::json::parse(a.dump()) == nlohmann::json::parse(b.dump()); }

const char* status_name(Status s) {
  return s == Status::kComplete ? "complete" : s == Status::kTruncated ? "truncated" : "malformed";
}

}  // namespace

TEST_SUITE("output_parser") {

TEST_CASE("parser matches transformers' gemma4 response parser on the golden corpus") {
  auto path = gemma4::test::golden("chat_template/response_parsing.json");
  if (!path) return;
  const Json golden = gemma4::test::read_json(*path);
  int checked = 0, failed = 0;
  for (const auto& c : golden["cases"]) {
    const std::string name = c["name"];
    const ParsedOutput r = parse_model_output(c["output"].get<std::string>(), c["prompt"].get<std::string>());
    ++checked;
    bool ok;
    if (c.contains("error")) {
      // The reference raises: the parser must report a problem and not leak the markup as content.
      ok = r.status != Status::kComplete && !r.error.empty() &&
           r.content.find("<|tool_call>") == std::string::npos;
    } else {
      ok = same_json(r.to_message(), c["message"]) &&
           (r.status != Status::kMalformed || r.content.find("<|tool_call>") != std::string::npos);
    }
    if (!ok) {
      ++failed;
      FAIL_CHECK(name << ": got " << r.to_message().dump() << " status " << status_name(r.status) << " (" << r.error
                      << ")\n  want " << (c.contains("error") ? c["error"].dump() : c["message"].dump()));
    }
  }
  MESSAGE("output parser: " << checked - failed << "/" << checked << " golden outputs match the reference");
  CHECK(checked >= 40);
  CHECK(failed == 0);
}

TEST_CASE("statuses: complete, truncated, malformed") {
  const std::string think_on = "<bos><|turn>user\nHi<turn|>\n<|turn>model\n";
  auto r = parse_model_output("<|channel>thought\nstep<channel|>Paris.<turn|>", think_on);
  CHECK(r.status == Status::kComplete);
  CHECK(r.reasoning == "step");
  CHECK(r.content == "Paris.");

  r = parse_model_output("<|channel>thought\nstill thinking when max_tokens hit", think_on);
  CHECK(r.status == Status::kTruncated);
  CHECK(r.reasoning == "still thinking when max_tokens hit");
  CHECK(r.content.empty());

  r = parse_model_output("<|tool_call>call:f{x:<|\"|>cut", think_on);
  CHECK(r.status == Status::kTruncated);
  CHECK(r.tool_calls.empty());
  CHECK(r.error.find("'f'") != std::string::npos);

  r = parse_model_output("<|tool_call>call:f{x:'v'}<tool_call|>", think_on);
  CHECK(r.status == Status::kMalformed);
  CHECK(r.tool_calls.empty());

  // A malformed call does not hide a good one next to it.
  r = parse_model_output("<|tool_call>call:bad{x:oops}<tool_call|><|tool_call>call:good{y:2}<tool_call|>", think_on);
  CHECK(r.status == Status::kMalformed);
  REQUIRE(r.tool_calls.size() == 1);
  CHECK(r.tool_calls[0].name == "good");
  CHECK(r.tool_calls[0].arguments == Json::parse(R"({"y": 2})"));
}

TEST_CASE("argument values keep their JSON types") {
  const auto r = parse_model_output(
      "<|tool_call>call:f{s:<|\"|>1<|\"|>,i:1,f:1.5,b:false,n:null,a:[<|\"|>x<|\"|>,2],o:{k:{}}}<tool_call|>");
  REQUIRE(r.tool_calls.size() == 1);
  const auto& a = r.tool_calls[0].arguments;
  CHECK(a["s"].is_string());
  CHECK(a["i"].is_number_integer());
  CHECK(a["f"].is_number_float());
  CHECK(a["b"].is_boolean());
  CHECK(a["n"].is_null());
  CHECK(a["a"] == Json::parse(R"(["x", 2])"));
  CHECK(a["o"] == Json::parse(R"({"k": {}})"));
  // A string keeps a quote, braces, "<|" fragments and newlines verbatim.
  const auto q = parse_model_output("<|tool_call>call:f{v:<|\"|>say \"hi\" {} <| \n<|\"|>}<tool_call|>");
  REQUIRE(q.tool_calls.size() == 1);
  CHECK(q.tool_calls[0].arguments["v"] == "say \"hi\" {} <| \n");
}

TEST_CASE("any prefix of an output, and random bytes, parse without crashing") {
  const std::string full =
      "<|channel>thought\nplan<channel|>Text <|tool_call>call:f{a:<|\"|>x, y<|\"|>,b:[1,{c:2}]}<tool_call|>"
      "<|tool_call>call:g{}<tool_call|><|tool_response>";
  for (std::size_t cut = 0; cut <= full.size(); ++cut) {
    const auto r = parse_model_output(std::string_view(full).substr(0, cut));
    CHECK(r.tool_calls.size() <= 2);
    if (r.status != Status::kComplete) CHECK(!r.error.empty());
  }
  std::mt19937 rng(1234);
  const std::string alphabet = "<|>\"{}[]:,channel/thought\ntool_call\x01\x02 abc123";
  for (int trial = 0; trial < 2000; ++trial) {
    std::string s;
    const int n = static_cast<int>(rng() % 80);
    for (int i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
    if (trial % 3 == 0) s = "<|tool_call>call:f{" + s;
    const auto r = parse_model_output(s);
    if (r.status != Status::kComplete) CHECK(!r.error.empty());
  }
}

}  // TEST_SUITE
