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

TEST_CASE("repair mode accepts known near-misses and reports each one; strict mode rejects them") {
  const gemma4::ParseOptions repair{.repair = true};
  struct Case {
    const char* output;
    const char* name;
    const char* arguments;
  };
  for (const Case& c : {
           Case{"<|tool_call>call:my-tool{x:1}<tool_call|>", "my-tool", R"({"x": 1})"},
           Case{"<|tool_call>call:ns.get_v2{x:1}<tool_call|>", "ns.get_v2", R"({"x": 1})"},
           Case{"<|tool_call>call:a{x:'single', y: \"double\"}<tool_call|>", "a", R"({"x": "single", "y": "double"})"},
           Case{"<|tool_call>call:a{ x : None , t:True, f:False }<tool_call|>", "a", R"({"x": null, "t": true, "f": false})"},
           Case{"<|tool_call>call:a{x:[1, { y:<|\"|>z<|\"|>}]}<tool_call|>", "a", R"({"x": [1, {"y": "z"}]})"},
       }) {
    const auto strict = parse_model_output(c.output);
    CHECK_MESSAGE(strict.status == Status::kMalformed, std::string(c.output));
    CHECK(strict.repairs.empty());
    const auto r = parse_model_output(c.output, {}, repair);
    CHECK_MESSAGE(r.status == Status::kComplete, std::string(c.output) << ": " << r.error);
    REQUIRE(r.tool_calls.size() == 1);
    CHECK(r.tool_calls[0].name == c.name);
    CHECK(r.tool_calls[0].arguments == Json::parse(c.arguments));
    CHECK(r.repairs.size() == 1);
  }
  // Still errors, even in repair mode: the parenthesis form, BEGIN_ARG blocks, raw text values.
  for (const char* bad : {"<|tool_call>call:a(x: \"v\")<tool_call|>", "<|tool_call>call:a:BEGIN_ARG:x\n1\nEND_ARG<tool_call|>",
                          "<|tool_call>call:a{x:raw text}<tool_call|>", "<|tool_call>call:a{x:1}junk<tool_call|>"}) {
    const auto r = parse_model_output(bad, {}, repair);
    CHECK_MESSAGE(r.status == Status::kMalformed, std::string(bad));
    CHECK(r.tool_calls.empty());
  }
  // Well-formed calls are not "repaired".
  const auto good = parse_model_output("<|tool_call>call:a{x:1}<tool_call|>", {}, repair);
  CHECK(good.repairs.empty());
  CHECK(good.ok());
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
    for (bool repair : {false, true}) {
      const auto r = parse_model_output(s, {}, gemma4::ParseOptions{.repair = repair});
      if (r.status != Status::kComplete) CHECK(!r.error.empty());
    }
  }
}

TEST_CASE("streaming: deltas do not depend on where the text is cut, and never leak markup fragments") {
  auto path = gemma4::test::golden("chat_template/response_parsing.json");
  if (!path) return;
  const Json golden = gemma4::test::read_json(*path);
  struct Streamed {
    std::string content, reasoning;
    std::vector<Json> calls;
  };
  auto run = [](const std::string& prompt, const std::vector<std::string_view>& pieces) {
    gemma4::StreamingOutputParser parser(prompt);
    Streamed s;
    auto take = [&](const gemma4::StreamingOutputParser::Delta& d) {
      s.content += d.content;
      s.reasoning += d.reasoning;
      for (const auto& c : d.tool_calls) s.calls.push_back({{"name", c.name}, {"arguments", c.arguments}});
    };
    for (auto p : pieces) take(parser.feed(p));
    take(parser.finish());
    return std::make_pair(s, parser.result());
  };
  auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  int splits = 0;
  for (const auto& c : golden["cases"]) {
    const std::string name = c["name"], prompt = c["prompt"], out = c["output"];
    const auto [whole, result] = run(prompt, {out});
    const ParsedOutput reference = parse_model_output(out, prompt);
    CHECK_MESSAGE(same_json(result.to_message(), reference.to_message()), name);
    // The last region of each kind is what the reference keeps; deltas carry every region.
    const bool prompt_has_anchor = prompt.find("<|turn>model\n") != std::string::npos ||
                                   prompt.find("<tool_response|>") != std::string::npos;
    if (prompt_has_anchor) {
      CHECK_MESSAGE(ends_with(whole.content, reference.content), name << ": " << whole.content);
    } else {  // the reference parses the whole prompt; the stream only shows what the model wrote
      CHECK_MESSAGE(ends_with(reference.content, whole.content), name << ": " << whole.content);
    }
    CHECK_MESSAGE(ends_with(whole.reasoning, reference.reasoning), name << ": " << whole.reasoning);
    for (const auto& call : reference.tool_calls) {
      const Json want = {{"name", call.name}, {"arguments", call.arguments}};
      CHECK_MESSAGE(std::find(whole.calls.begin(), whole.calls.end(), want) != whole.calls.end(), name);
    }
    for (std::size_t cut = 0; cut <= out.size(); ++cut) {  // every byte boundary, two pieces
      const auto [two, r2] = run(prompt, {std::string_view(out).substr(0, cut), std::string_view(out).substr(cut)});
      ++splits;
      if (two.content != whole.content || two.reasoning != whole.reasoning || two.calls != whole.calls) {
        FAIL_CHECK(name << " cut at " << cut << ": " << Json(two.content).dump() << " vs " << Json(whole.content).dump());
        break;
      }
    }
    std::vector<std::string_view> bytes;  // one byte at a time
    for (std::size_t i = 0; i < out.size(); ++i) bytes.push_back(std::string_view(out).substr(i, 1));
    const auto [bytewise, r3] = run(prompt, bytes);
    CHECK_MESSAGE(bytewise.content == whole.content, name);
    CHECK_MESSAGE(bytewise.reasoning == whole.reasoning, name);
    CHECK_MESSAGE(bytewise.calls == whole.calls, name);
  }
  MESSAGE("streaming parser: " << golden["cases"].size() << " outputs, " << splits << " split points");
  // No delimiter fragment reaches the visible text of a well-formed stream.
  gemma4::StreamingOutputParser p("<|turn>model\n");
  std::string shown;
  const std::string out = "<|channel>thought\nhmm<channel|>Hi <|tool_call>call:f{a:<|\"|>x<|\"|>}<tool_call|><|tool_response>";
  for (char ch : out) {
    const auto d = p.feed(std::string(1, ch));
    shown += d.content + d.reasoning;
    CHECK(shown.find("<|") == std::string::npos);
    CHECK(shown.find("<c") == std::string::npos);
  }
  const auto last = p.finish();
  CHECK(shown + last.content == "hmmHi");
  CHECK_THROWS_AS(p.feed("x"), std::logic_error);
}

}  // TEST_SUITE
