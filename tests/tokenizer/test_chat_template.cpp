// The C++ chat-template renderer against jinja2's renderings of the official Gemma 4 template
// (reference_outputs/chat_template/renderings.json), and the tokenisation of the rendered prompts.
#include <doctest/doctest.h>

#include "gemma4/chat_template.h"
#include "gemma4/tokenizer_hf_json.h"
#include "test_paths.h"

using gemma4::ChatTemplateOptions;
using gemma4::render_chat_template;
using Json = nlohmann::ordered_json;

namespace {

ChatTemplateOptions options_of(const Json& kwargs) {
  ChatTemplateOptions o;
  o.add_generation_prompt = kwargs.value("add_generation_prompt", false);
  if (kwargs.contains("enable_thinking")) o.enable_thinking = kwargs["enable_thinking"].get<bool>();
  return o;
}

std::string first_difference(const std::string& got, const std::string& want) {
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  const std::size_t from = i > 40 ? i - 40 : 0;
  return "first difference at byte " + std::to_string(i) + "\n  got : " + Json(got.substr(from, 120)).dump() +
         "\n  want: " + Json(want.substr(from, 120)).dump();
}

}  // namespace

TEST_SUITE("chat_template") {

TEST_CASE("renderer equals jinja2 on every golden conversation, byte for byte") {
  auto path = gemma4::test::golden("chat_template/renderings.json");
  if (!path) return;
  const Json golden = gemma4::test::read_json(*path);
  int rendered = 0, errors = 0, failed = 0;
  for (const auto& conv : golden["conversations"]) {
    const std::string name = conv["name"];
    const ChatTemplateOptions opts = options_of(conv["kwargs"]);
    if (conv.contains("error")) {
      ++errors;
      bool threw = false;
      try {
        (void)render_chat_template(conv["messages"], conv["tools"], opts);
      } catch (const gemma4::ChatTemplateError&) {
        threw = true;
      }
      CHECK_MESSAGE(threw, name << ": the template fails here (" << conv["error"].get<std::string>()
                                << "), the renderer must too");
      if (!threw) ++failed;
      continue;
    }
    ++rendered;
    std::string got;
    try {
      got = render_chat_template(conv["messages"], conv["tools"], opts);
    } catch (const std::exception& e) {
      got = std::string("<exception: ") + e.what() + ">";
    }
    const std::string want = conv["rendered"];
    if (got != want) {
      ++failed;
      FAIL_CHECK(name << ": " << first_difference(got, want));
    }
  }
  MESSAGE("chat template: " << rendered + errors - failed << "/" << rendered + errors
                            << " golden conversations match (" << errors << " expected template errors)");
  CHECK(rendered >= 20);
  CHECK(failed == 0);
}

TEST_CASE("rendered prompts tokenize to the golden ids with exactly one <bos>, first") {
  auto path = gemma4::test::golden("chat_template/renderings.json");
  auto tok_path = gemma4::test::golden("tokenizer/small/tokenizer.json");
  if (!path || !tok_path) return;
  const auto tok = gemma4::HfJsonTokenizer::from_file(*tok_path);
  const Json golden = gemma4::test::read_json(*path);
  for (const auto& conv : golden["conversations"]) {
    if (!conv.contains("rendered")) continue;
    if (!conv.contains("ids")) {  // G2 matrix cells store text only
      const auto ids = tok.encode(conv["rendered"].get<std::string>());
      CHECK(std::count(ids.begin(), ids.end(), 2) == 1);
      continue;
    }
    const auto ids = tok.encode(conv["rendered"].get<std::string>());
    CHECK_MESSAGE(ids == conv["ids"].get<std::vector<gemma4::TokenId>>(), conv["name"].get<std::string>());
    REQUIRE(!ids.empty());
    CHECK(ids[0] == 2);
    CHECK(std::count(ids.begin(), ids.end(), 2) == 1);
  }
}

TEST_CASE("Python value formatting used by the template") {
  namespace d = gemma4::chat_template_detail;
  CHECK(d::python_float(1e-07) == "1e-07");
  CHECK(d::python_float(1e16) == "1e+16");
  CHECK(d::python_float(1e15) == "1000000000000000.0");
  CHECK(d::python_float(0.0001) == "0.0001");
  CHECK(d::python_float(0.00001) == "1e-05");
  CHECK(d::python_float(199.5) == "199.5");
  CHECK(d::python_float(3.0) == "3.0");
  CHECK(d::python_float(-0.0) == "-0.0");
  CHECK(d::python_float(0.1 + 0.2) == "0.30000000000000004");
  CHECK(d::python_float(2.5e20) == "2.5e+20");
  CHECK(d::python_float(1.5e-300) == "1.5e-300");
  CHECK(d::python_repr(Json::parse(R"(["string", "it's", 1, 2.0, true, null, {"a": "b"}])")) ==
        R"(['string', "it's", 1, 2.0, True, None, {'a': 'b'}])");
  CHECK(d::strip("\xC2\xA0\xE3\x80\x80 x \xE2\x80\x83") == "x");              // NBSP, ideographic space, em space
  CHECK(d::strip("\xE2\x80\x8Bx\xE2\x80\x8B") == "\xE2\x80\x8Bx\xE2\x80\x8B");  // zero-width space is not whitespace
  CHECK(d::strip_thinking("a<|channel>x<channel|>b<|channel>y") == "ab");
  CHECK(d::format_argument(Json::parse(R"({"b": [1, "x"], "A": {"k": false}})"), false) ==
        "{A:{k:false},b:[1,<|\"|>x<|\"|>]}");
}

TEST_CASE("bad conversations give clear errors, not crashes") {
  const Json tools = nullptr;
  CHECK_THROWS_AS(render_chat_template(Json::array(), tools), gemma4::ChatTemplateError);
  CHECK_THROWS_AS(render_chat_template(Json::parse(R"([{"content": "no role"}])"), tools), gemma4::ChatTemplateError);
  CHECK_THROWS_AS(render_chat_template(Json::parse(R"([{"role": "user", "content": {"a": 1}}])"), tools),
                  gemma4::ChatTemplateError);
  CHECK_THROWS_AS(render_chat_template(Json::parse(R"([{"role": "assistant", "tool_calls": [{"function": {}}]}])"), tools),
                  gemma4::ChatTemplateError);
  CHECK_THROWS_AS(render_chat_template(Json::parse(R"([{"role": "user", "content": "x"}])"), Json::parse(R"([{"name": "f"}])")),
                  gemma4::ChatTemplateError);
  // nlohmann::json callers get the same rendering.
  const nlohmann::json plain = nlohmann::json::parse(R"([{"role": "user", "content": " hi "}])");
  ChatTemplateOptions o;
  o.add_generation_prompt = true;
  CHECK(render_chat_template(plain, nlohmann::json(), o) ==
        "<bos><|turn>user\nhi<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
}

}  // TEST_SUITE
