// Generation, the run/chat CLI and the OpenAI-compatible server, on the tiny golden checkpoints of
// reference_outputs/ (real weights files, tokenizer and generation_config in HF layout).
//
//   generate: greedy tokens equal transformers' generate() (the <variant>-tiny-generate cases,
//             40 new tokens after 8, crossing the sliding window of 8 several times); stop ids,
//             cancellation, seeded sampling.
//   cli:      `gemma4 run --json` on the same cases; a scripted `gemma4 chat` session on stdin.
//   server:   real loopback HTTP with httplib's client: models, completions (streaming and not),
//             tool calls both ways, malformed requests, concurrent clients, a client that hangs up.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#define GEMMA4_IMPLEMENTATION
#include "gemma4/gemma4.h"
#include "gemma4/generate.h"
#include "gemma4/golden.h"
#include "gemma4/server.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace gemma4;
using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

const char* const kVariants[] = {"e2b", "e4b", "26b-a4b", "31b"};

fs::path bundle() { return GEMMA4_TEST_BUNDLE; }
fs::path model_dir(const std::string& v) { return bundle() / "models" / (v + "-tiny"); }
bool have_bundle() {
  if (fs::exists(bundle() / "manifest.json")) return true;
  MESSAGE("SKIP: no golden bundle at " << bundle());
  return false;
}

struct GenerateCase {
  std::vector<TokenId> prompt, expected;
};

GenerateCase load_case(const std::string& v) {
  const std::string file = (bundle() / "cases" / (v + "-tiny-generate.safetensors")).string();
  SafetensorsFile f(file);
  const golden::HostTensor in = golden::to_host(f.at("inp_tokens"), file);
  const golden::HostTensor out = golden::to_host(f.at("generate_tokens"), file);
  return {std::vector<TokenId>(in.i.begin(), in.i.end()), std::vector<TokenId>(out.i.begin(), out.i.end())};
}

const ChatModel& tiny(const std::string& v) {
  static std::map<std::string, std::unique_ptr<ChatModel>> cache;
  auto& slot = cache[v];
  if (!slot) slot = std::make_unique<ChatModel>(ChatModel::load(model_dir(v)));
  return *slot;
}

GenerateOptions greedy(int n) {
  GenerateOptions o;
  o.sampling.temperature = 0.0f;
  o.max_new_tokens = n;
  return o;
}

// ---- subprocess helper: run a command with stdin text; capture stdout and stderr ------------

struct ProcResult {
  int status = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

ProcResult run_process(const std::string& command, const std::string& input) {
  const fs::path dir = fs::temp_directory_path() / ("gemma4_serve_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "stdin") << input;
  const std::string cmd = command + " < '" + (dir / "stdin").string() + "' > '" + (dir / "stdout").string() +
                          "' 2> '" + (dir / "stderr").string() + "'";
  ProcResult r;
  const int raw = std::system(cmd.c_str());
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(dir / "stdout");
  r.err = slurp(dir / "stderr");
  return r;
}

}  // namespace

// =============================================================================================
TEST_SUITE("generate") {

TEST_CASE("greedy generation equals transformers generate() on every tiny golden checkpoint") {
  if (!have_bundle()) return;
  for (const char* variant : kVariants) {
    const std::string v = variant;
    CAPTURE(v);
    const ChatModel& m = tiny(v);
    const GenerateCase c = load_case(v);
    REQUIRE(c.expected.size() >= 32);
    // The case crosses the sliding window: prompt + new tokens well past it.
    CHECK(int(c.prompt.size() + c.expected.size()) > 2 * m.model.text().sliding_window);
    GenerateOptions o = m.options(SamplingParams{0.0f, 0, 1.0f, 0}, int(c.expected.size()));
    std::vector<TokenId> streamed;
    const GenerationResult g = m.generate(c.prompt, o, [&](TokenId id) {
      streamed.push_back(id);
      return true;
    });
    CHECK(g.tokens == c.expected);
    CHECK(streamed == g.tokens);
    CHECK(g.finish == FinishReason::kLength);
    CHECK(g.stats.prompt_tokens == int(c.prompt.size()));
    CHECK(g.stats.decode_tokens_per_second() > 0);
    MESSAGE(std::string(v) << "-tiny: " << g.tokens.size() << " greedy tokens equal to transformers; prefill "
              << g.stats.prefill_tokens_per_second() << " tok/s, decode " << g.stats.decode_tokens_per_second() << " tok/s");
  }
}

TEST_CASE("generation_config.json: every eos id stops generation, and the stop token is kept") {
  if (!have_bundle()) return;
  const ChatModel& m = tiny("e2b");
  CHECK(m.defaults.stop.ids() == std::vector<TokenId>{1, 106, 50});
  CHECK(m.defaults.sampling.temperature == 1.0f);
  CHECK(m.defaults.sampling.top_k == 64);
  CHECK(m.defaults.sampling.top_p == doctest::Approx(0.95));
  const GenerateCase c = load_case("e2b");
  // The golden run generates no stop id; declare the 5th / 12th golden tokens stop ids in turn.
  for (std::size_t at : {std::size_t(4), std::size_t(11)}) {
    GenerateOptions o = greedy(40);
    o.stop = StopTokens({999999, c.expected[at]});
    const GenerationResult g = m.generate(c.prompt, o);
    CHECK(g.finish == FinishReason::kStop);
    REQUIRE(g.tokens.size() <= at + 1);
    CHECK(g.tokens.back() == c.expected[at]);
    CHECK(std::equal(g.tokens.begin(), g.tokens.end(), c.expected.begin()));
  }
}

TEST_CASE("a callback returning false cancels; max_new_tokens is exact") {
  if (!have_bundle()) return;
  const ChatModel& m = tiny("26b-a4b");
  const GenerateCase c = load_case("26b-a4b");
  int seen = 0;
  const GenerationResult g = m.generate(c.prompt, greedy(40), [&](TokenId) { return ++seen < 3; });
  CHECK(g.finish == FinishReason::kCancelled);
  CHECK(g.tokens.size() == 3);
  const GenerationResult h = m.generate(c.prompt, greedy(7));
  CHECK(h.finish == FinishReason::kLength);
  CHECK(h.tokens == std::vector<TokenId>(c.expected.begin(), c.expected.begin() + 7));
  CHECK_THROWS_AS(m.generate(std::vector<TokenId>{}, greedy(3)), Error);
  CHECK_THROWS_AS(m.generate(std::vector<TokenId>{2, 512}, greedy(3)), Error);  // vocab is 512
}

TEST_CASE("seeded sampling is reproducible and the seed matters") {
  if (!have_bundle()) return;
  const ChatModel& m = tiny("e4b");
  const GenerateCase c = load_case("e4b");
  auto sample = [&](std::uint64_t seed) {
    GenerateOptions o = m.options(m.defaults.sampling, 24);
    o.sampling.seed = seed;
    return m.generate(c.prompt, o).tokens;
  };
  const auto a = sample(7), b = sample(7), d = sample(8);
  CHECK(a == b);
  CHECK(a != d);
  CHECK(a != std::vector<TokenId>(c.expected.begin(), c.expected.begin() + long(a.size())));  // not greedy
}

}  // TEST_SUITE

// =============================================================================================
#ifdef GEMMA4_TEST_CLI
TEST_SUITE("cli") {

TEST_CASE("gemma4 run --json: greedy tokens equal the golden generate cases") {
  if (!have_bundle()) return;
  for (const char* variant : kVariants) {
    const std::string v = variant;
    CAPTURE(v);
    const GenerateCase c = load_case(v);
    std::string ids;
    for (TokenId t : c.prompt) {
      if (!ids.empty()) ids.push_back(',');
      ids.append(std::to_string(t));
    }
    const ProcResult r = run_process(std::string(GEMMA4_TEST_CLI) + " run --model '" + model_dir(v).string() +
                                         "' --prompt-ids " + ids + " --greedy --max-tokens 40 --json", "");
    REQUIRE(r.status == 0);
    const Json j = Json::parse(r.out);
    CHECK(j["tokens"].get<std::vector<TokenId>>() == c.expected);
    CHECK(j["finish_reason"] == "length");
    CHECK(j["decode_tokens_per_second"].get<double>() > 0);
  }
}

TEST_CASE("gemma4 run streams text to stdout and reports tokens/s on stderr") {
  if (!have_bundle()) return;
  const ChatModel& m = tiny("31b");
  const ProcResult r = run_process(std::string(GEMMA4_TEST_CLI) + " run --model '" + model_dir("31b").string() +
                                       "' --prompt 'Hello there' --greedy --max-tokens 12", "");
  REQUIRE(r.status == 0);
  // Expected: the template's prompt, greedy tokens, their text (no stop id is generated here).
  const std::string prompt = m.render(Json::array({{{"role", "user"}, {"content", "Hello there"}}}), nullptr, false);
  const GenerationResult g = m.generate(m.encode_prompt(prompt), m.options(SamplingParams{0.0f, 0, 1.0f, 0}, 12));
  std::vector<TokenId> shown;
  for (TokenId t : g.tokens)
    if (!m.defaults.stop.contains(t)) shown.push_back(t);
  CHECK(r.out == m.tokenizer->decode(shown) + "\n");
  CHECK(r.err.find("decode") != std::string::npos);
  CHECK(r.err.find("tok/s") != std::string::npos);
  // Bad input: a clear error and a non-zero status.
  const ProcResult bad = run_process(std::string(GEMMA4_TEST_CLI) + " run --model /nonexistent --prompt x", "");
  CHECK(bad.status != 0);
  CHECK(bad.err.find("/nonexistent") != std::string::npos);
}

TEST_CASE("gemma4 chat: a scripted multi-turn session with /think and tools") {
  if (!have_bundle()) return;
  const fs::path dir = fs::temp_directory_path() / ("gemma4_chat_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const Json tools = Json::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Weather in a city", "parameters": {"type": "object",
      "properties": {"city": {"type": "string", "description": "the city"}}, "required": ["city"]}}}])");
  std::ofstream(dir / "tools.json") << tools.dump();
  const ProcResult r = run_process(std::string(GEMMA4_TEST_CLI) + " chat --model '" + model_dir("e2b").string() +
                                       "' --greedy --max-tokens 6 --show-prompt --tools '" + (dir / "tools.json").string() +
                                       "' --transcript '" + (dir / "t.json").string() + "'",
                                   "Hello\n/think\nWhat is the weather in Paris?\n/quit\nnot read\n");
  REQUIRE(r.status == 0);
  const Json history = Json::parse(slurp(dir / "t.json"));
  fs::remove_all(dir);
  REQUIRE(history.size() == 4);
  CHECK(history[0]["role"] == "user");
  CHECK(history[0]["content"] == "Hello");
  CHECK(history[1]["role"] == "assistant");
  CHECK(history[2]["content"] == "What is the weather in Paris?");
  CHECK(history[3]["role"] == "assistant");
  CHECK(r.out.find("[thinking on]") != std::string::npos);
  // The prompts the CLI used are the template's renderings of the history so far.
  std::vector<std::string> prompts;
  for (std::size_t at = 0; (at = r.err.find("[prompt]\n", at)) != std::string::npos;) {
    at += 9;
    const std::size_t end = r.err.find("\n[/prompt]", at);
    REQUIRE(end != std::string::npos);
    prompts.push_back(r.err.substr(at, end - at));
  }
  REQUIRE(prompts.size() == 2);
  ChatTemplateOptions off, on;
  off.add_generation_prompt = on.add_generation_prompt = true;
  on.enable_thinking = true;
  off.enable_thinking = false;
  CHECK(prompts[0] == render_chat_template(Json::array({history[0]}), tools, off));
  CHECK(prompts[1] == render_chat_template(Json::array({history[0], history[1], history[2]}), tools, on));
  CHECK(prompts[1].find("<|think|>") != std::string::npos);
  CHECK(prompts[1].find("<|tool>declaration:get_weather") != std::string::npos);
  // Each reply is the greedy continuation of its prompt.
  const ChatModel& m = tiny("e2b");
  for (int turn = 0; turn < 2; ++turn) {
    const GenerationResult g = m.generate(m.encode_prompt(prompts[size_t(turn)]), m.options(SamplingParams{0.0f, 0, 1.0f, 0}, 6));
    const ParsedOutput p = parse_model_output(m.tokenizer->decode(g.tokens), prompts[size_t(turn)]);
    CHECK(history[size_t(2 * turn + 1)]["content"] == p.content);
  }
}

}  // TEST_SUITE
#endif

// =============================================================================================
namespace {

// A server on a free loopback port, listening on its own thread for the test's lifetime.
class TestServer {
 public:
  explicit TestServer(const ChatModel& m, server::GenerateFunction fn = {}, server::ServerOptions o = {})
      : srv_(m, with_any_port(o), std::move(fn)) {
    port_ = srv_.bind();
    thread_ = std::thread([this] { srv_.listen(); });
    for (int i = 0; i < 500 && !srv_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~TestServer() {
    srv_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  const server::ServerStats& stats() const { return srv_.stats(); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }

 private:
  static server::ServerOptions with_any_port(server::ServerOptions o) {
    o.port = 0;
    return o;
  }
  server::ChatServer srv_;
  int port_ = 0;
  std::thread thread_;
};

struct Reply {
  int status = 0;
  Json body;
};

Reply post(const TestServer& s, const std::string& body, const std::string& path = "/v1/chat/completions") {
  auto c = s.client();
  auto res = c.Post(path.c_str(), body, "application/json");
  Reply r;
  if (!res) return r;  // status 0: no answer (no REQUIRE here: this runs on client threads too)
  r.status = res->status;
  r.body = Json::parse(res->body, nullptr, false);
  return r;
}

struct Stream {
  int status = 0;
  std::vector<Json> events;
  bool done = false;
  std::string raw;
};

// Streams a request; stop_after >= 0 hangs up after that many events.
Stream post_stream(const TestServer& s, const std::string& body, int stop_after = -1) {
  auto c = s.client();
  Stream st;
  std::string buffer;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.body = body;
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    buffer.append(data, n);
    st.raw.append(data, n);
    for (std::size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
      const std::string event = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      REQUIRE(event.rfind("data: ", 0) == 0);
      const std::string payload = event.substr(6);
      if (payload == "[DONE]") {
        st.done = true;
      } else {
        st.events.push_back(Json::parse(payload));
      }
      if (stop_after >= 0 && int(st.events.size()) >= stop_after) return false;
    }
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  c.send(req, res, err);
  st.status = res.status;
  return st;
}

// What a stream says, put together.
struct Assembled {
  std::string content, reasoning, finish_reason;
  Json tool_calls = Json::array();
  Json usage;
};

Assembled assemble(const Stream& st) {
  Assembled a;
  for (const Json& e : st.events) {
    CHECK(e["object"] == "chat.completion.chunk");
    if (e.contains("usage") && !e["usage"].is_null()) a.usage = e["usage"];
    for (const Json& ch : e["choices"]) {
      const Json& d = ch["delta"];
      if (d.contains("content") && d["content"].is_string()) a.content += d["content"].get<std::string>();
      if (d.contains("reasoning_content")) a.reasoning += d["reasoning_content"].get<std::string>();
      if (d.contains("tool_calls"))
        for (const Json& tc : d["tool_calls"]) a.tool_calls.push_back(tc);
      if (!ch["finish_reason"].is_null()) a.finish_reason = ch["finish_reason"].get<std::string>();
    }
  }
  return a;
}

Json user(const std::string& text) { return Json{{"role", "user"}, {"content", text}}; }

Json request(Json messages, int max_tokens, bool stream = false) {
  return Json{{"model", "e2b-tiny"}, {"messages", std::move(messages)}, {"temperature", 0}, {"max_tokens", max_tokens},
              {"stream", stream}};
}

// The reference for a greedy completion: template → ids → generate() → parse.
struct Expected {
  int prompt_tokens = 0;
  std::vector<TokenId> tokens;
  ParsedOutput parsed;
};

Expected expected_greedy(const ChatModel& m, const Json& messages, int max_tokens, const Json& tools = nullptr) {
  const std::string prompt = m.render(messages, tools, false);
  const std::vector<TokenId> ids = m.encode_prompt(prompt);
  const GenerationResult g = m.generate(ids, m.options(SamplingParams{0.0f, 0, 1.0f, 0}, max_tokens));
  return {int(ids.size()), g.tokens, parse_model_output(m.tokenizer->decode(g.tokens), prompt)};
}

// Scripted generation: emits the ids of a fixed text, records the prompt it was given.
struct Script {
  std::mutex mutex;
  std::vector<std::string> prompts;
  std::string text;
  server::GenerateFunction fn(const ChatModel& m) {
    return [this, &m](std::span<const TokenId> prompt, const GenerateOptions& o, const TokenCallback& cb) {
      std::string out;
      {
        std::lock_guard<std::mutex> lock(mutex);
        prompts.push_back(m.tokenizer->decode(std::vector<TokenId>(prompt.begin(), prompt.end())));
        out = text;
      }
      GenerationResult r;
      r.stats.prompt_tokens = int(prompt.size());
      for (TokenId id : m.encode_prompt(out)) {
        r.tokens.push_back(id);
        if (cb && !cb(id)) return r.finish = FinishReason::kCancelled, r;
        if (o.stop.contains(id)) return r.finish = FinishReason::kStop, r;
      }
      r.finish = FinishReason::kLength;
      return r;
    };
  }
};

}  // namespace

TEST_SUITE("server") {

TEST_CASE("GET /v1/models and unknown routes") {
  if (!have_bundle()) return;
  TestServer s(tiny("e2b"));
  auto c = s.client();
  auto res = c.Get("/v1/models");
  REQUIRE(res);
  CHECK(res->status == 200);
  const Json j = Json::parse(res->body);
  CHECK(j["object"] == "list");
  CHECK(j["data"][0]["id"] == "e2b-tiny");
  auto missing = c.Get("/v1/nothing");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(Json::parse(missing->body)["error"]["message"].is_string());
}

TEST_CASE("non-streaming and streaming completions equal generate() on the same prompt") {
  if (!have_bundle()) return;
  const ChatModel& m = tiny("e2b");
  TestServer s(m);
  const Json messages = Json::array({{{"role", "system"}, {"content", "Be brief."}}, user("Hello there")});
  const Expected want = expected_greedy(m, messages, 16);

  const Reply r = post(s, request(messages, 16).dump());
  REQUIRE(r.status == 200);
  CHECK(r.body["object"] == "chat.completion");
  CHECK(r.body["model"] == "e2b-tiny");
  const Json& choice = r.body["choices"][0];
  CHECK(choice["message"]["role"] == "assistant");
  CHECK(choice["message"]["content"] == want.parsed.content);
  const std::string finish = m.defaults.stop.contains(want.tokens.back()) ? "stop" : "length";
  CHECK(choice["finish_reason"] == finish);
  CHECK(r.body["usage"]["prompt_tokens"] == want.prompt_tokens);
  CHECK(r.body["usage"]["completion_tokens"] == int(want.tokens.size()));
  CHECK(r.body["usage"]["total_tokens"] == want.prompt_tokens + int(want.tokens.size()));

  Json sreq = request(messages, 16, true);
  sreq["stream_options"] = {{"include_usage", true}};
  const Stream st = post_stream(s, sreq.dump());
  CHECK(st.status == 200);
  CHECK(st.done);
  REQUIRE(!st.events.empty());
  CHECK(st.events[0]["choices"][0]["delta"]["role"] == "assistant");
  const Assembled a = assemble(st);
  CHECK(a.content == want.parsed.content);
  CHECK(a.finish_reason == finish);
  CHECK(a.usage["completion_tokens"] == int(want.tokens.size()));
  CHECK(a.usage["prompt_tokens"] == want.prompt_tokens);
  CHECK(s.stats().completed == 2);
}

TEST_CASE("tool calls round trip: tools in, tool_calls out (OpenAI shape), tool results back in") {
  if (!have_bundle()) return;
  const ChatModel& m = tiny("e2b");
  Script script;
  TestServer s(m, script.fn(m));
  const Json tools = Json::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Weather in a city", "parameters": {"type": "object",
      "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}}])");
  const Json first = Json::array({user("Weather in Paris?")});
  script.text = "<|channel>thought\nThe user wants weather.<channel|><|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:3}<tool_call|><|tool_response>";

  Json req = request(first, 64);
  req["tools"] = tools;
  req["chat_template_kwargs"] = {{"enable_thinking", true}};
  const Reply r = post(s, req.dump());
  REQUIRE(r.status == 200);
  ChatTemplateOptions think;
  think.add_generation_prompt = true;
  think.enable_thinking = true;
  CHECK(script.prompts.back() == render_chat_template(first, tools, think));
  const Json& msg = r.body["choices"][0]["message"];
  CHECK(r.body["choices"][0]["finish_reason"] == "tool_calls");
  CHECK(msg["content"].is_null());
  CHECK(msg["reasoning_content"] == "The user wants weather.");
  REQUIRE(msg["tool_calls"].size() == 1);
  const Json& call = msg["tool_calls"][0];
  CHECK(call["type"] == "function");
  CHECK(call["id"].is_string());
  CHECK(call["function"]["name"] == "get_weather");
  REQUIRE(call["function"]["arguments"].is_string());  // OpenAI: a JSON string
  CHECK(Json::parse(call["function"]["arguments"].get<std::string>()) == Json{{"city", "Paris"}, {"days", 3}});

  // Streaming: the same call arrives whole in one delta, with an index.
  Json sreq = req;
  sreq["stream"] = true;
  const Assembled a = assemble(post_stream(s, sreq.dump()));
  CHECK(a.finish_reason == "tool_calls");
  CHECK(a.reasoning == "The user wants weather.");
  REQUIRE(a.tool_calls.size() == 1);
  CHECK(a.tool_calls[0]["index"] == 0);
  CHECK(a.tool_calls[0]["function"]["name"] == "get_weather");
  CHECK(Json::parse(a.tool_calls[0]["function"]["arguments"].get<std::string>())["city"] == "Paris");

  // Second round: the client sends the call back (arguments as a string) with the tool's result.
  Json second = first;
  second.push_back({{"role", "assistant"}, {"content", nullptr}, {"tool_calls", Json::array({call})}});
  second.push_back({{"role", "tool"}, {"tool_call_id", call["id"]}, {"content", "sunny, 21 C"}});
  script.text = "It is sunny in Paris.<turn|>";
  Json req2 = request(second, 64);
  req2["tools"] = tools;
  const Reply r2 = post(s, req2.dump());
  REQUIRE(r2.status == 200);
  CHECK(r2.body["choices"][0]["message"]["content"] == "It is sunny in Paris.");
  CHECK(r2.body["choices"][0]["finish_reason"] == "stop");
  Json hf = second;  // what the template sees: arguments as an object
  hf[1]["tool_calls"][0]["function"]["arguments"] = Json{{"city", "Paris"}, {"days", 3}};
  ChatTemplateOptions plain;
  plain.add_generation_prompt = true;
  plain.enable_thinking = false;
  const std::string want_prompt = render_chat_template(hf, tools, plain);
  CHECK(script.prompts.back() == want_prompt);
  CHECK(want_prompt.find("<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:3}<tool_call|>") != std::string::npos);
  CHECK(want_prompt.find("<|tool_response>response:get_weather{") != std::string::npos);
}

TEST_CASE("malformed requests get a 4xx with an OpenAI-style error body") {
  if (!have_bundle()) return;
  const ChatModel& m = tiny("e2b");
  server::ServerOptions o;
  o.max_request_bytes = 4096;
  o.max_tokens_limit = 1000;
  TestServer s(m, {}, o);
  const std::string ok_messages = R"("messages": [{"role": "user", "content": "hi"}])";
  const struct {
    std::string body;
    int status;
    std::string param;
  } cases[] = {
      {"this is not json", 400, ""},
      {"{\"messages\": [", 400, ""},
      {"[1, 2]", 400, ""},
      {"{}", 400, "messages"},
      {R"({"messages": "hi"})", 400, "messages"},
      {R"({"messages": []})", 400, "messages"},
      {R"({"messages": [42]})", 400, "messages[0]"},
      {R"({"messages": [{"content": "hi"}]})", 400, "messages[0].role"},
      {R"({"messages": [{"role": "wizard", "content": "hi"}]})", 400, "messages[0].role"},
      {R"({"messages": [{"role": "user", "content": 5}]})", 400, "messages[0].content"},
      {R"({"messages": [{"role": "user"}]})", 400, "messages[0].content"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]})", 400, "messages[0].content[0].image_url.url"},
      {R"({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]})", 400, "messages[0].content[0].type"},
      {R"({"messages": [{"role": "tool", "content": "x"}]})", 400, "messages[0].tool_call_id"},
      {R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{bad"}}]}]})", 400, "messages[0].tool_calls[0].function.arguments"},
      {"{" + ok_messages + R"(, "temperature": "hot"})", 400, "temperature"},
      {"{" + ok_messages + R"(, "temperature": 7})", 400, "temperature"},
      {"{" + ok_messages + R"(, "top_p": 0})", 400, "top_p"},
      {"{" + ok_messages + R"(, "max_tokens": 0})", 400, "max_tokens"},
      {"{" + ok_messages + R"(, "max_tokens": "10"})", 400, "max_tokens"},
      {"{" + ok_messages + R"(, "max_tokens": 100000})", 400, "max_tokens"},
      {"{" + ok_messages + R"(, "stream": "yes"})", 400, "stream"},
      {"{" + ok_messages + R"(, "n": 2})", 400, "n"},
      {"{" + ok_messages + R"(, "seed": 1.5})", 400, "seed"},
      {"{" + ok_messages + R"(, "tools": "get_weather"})", 400, "tools"},
      {"{" + ok_messages + R"(, "tools": [{"type": "retrieval"}]})", 400, "tools[0].type"},
      {"{" + ok_messages + R"(, "tool_choice": "required"})", 400, "tool_choice"},
      {"{" + ok_messages + R"(, "stop": ["\n"]})", 400, "stop"},
      {"{" + ok_messages + ", \"pad\": \"" + std::string(5000, 'x') + "\"}", 413, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body.substr(0, 200));
    for (bool stream : {false, true}) {
      std::string body = c.body;
      if (stream && body.find("\"stream\"") != std::string::npos) continue;
      if (stream && body.rfind("{\"messages\": [{", 0) == 0 && body.back() == '}')
        body = body.substr(0, body.size() - 1) + ", \"stream\": true}";
      const Reply r = post(s, body);
      CHECK(r.status == c.status);
      REQUIRE(r.body.is_object());
      REQUIRE(r.body.contains("error"));
      CHECK(r.body["error"]["message"].is_string());
      CHECK(r.body["error"]["type"] == "invalid_request_error");
      if (!c.param.empty()) CHECK(r.body["error"]["param"] == c.param);
    }
  }
  CHECK(s.stats().rejected == int(2 * std::size(cases) - 1));  // "stream": "yes" is sent once
  CHECK(s.stats().completed == 0);
  // The server is still fine.
  const Reply r = post(s, request(Json::array({user("hi")}), 4).dump());
  CHECK(r.status == 200);
}

TEST_CASE("concurrent clients: queued safely, deterministic greedy outputs equal sequential runs") {
  if (!have_bundle()) return;
  const ChatModel& m = tiny("e2b");
  TestServer s(m);
  const std::vector<std::string> prompts = {"one", "two two", "a longer third prompt", "four", "five five five", "six"};
  // Sequential references, straight from generate().
  std::vector<std::string> want;
  for (const auto& p : prompts) want.push_back(expected_greedy(m, Json::array({user(p)}), 20).parsed.content);
  std::vector<std::string> got(prompts.size());
  std::vector<int> status(prompts.size());
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < prompts.size(); ++i)
    clients.emplace_back([&, i] {
      const Json req = request(Json::array({user(prompts[i])}), 20, i % 2 == 1);
      if (i % 2 == 1) {
        const Stream st = post_stream(s, req.dump());
        status[i] = st.status;
        got[i] = assemble(st).content;
      } else {
        auto c = s.client();
        auto res = c.Post("/v1/chat/completions", req.dump(), "application/json");
        status[i] = res ? res->status : -1;
        if (res) got[i] = Json::parse(res->body)["choices"][0]["message"]["content"].get<std::string>();
      }
    });
  for (auto& t : clients) t.join();
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    CAPTURE(i);
    CHECK(status[i] == 200);
    CHECK(got[i] == want[i]);
  }
  CHECK(s.stats().completed == int(prompts.size()));
  CHECK(s.stats().max_active_generations == 1);
}

TEST_CASE("a client that disconnects mid-stream stops its generation and does not disturb others") {
  if (!have_bundle()) return;
  const ChatModel& m = tiny("e2b");
  std::atomic<bool> endless_started{false};
  // "forever" prompts generate until the callback says stop (at most 100000 tokens); others answer.
  server::GenerateFunction fn = [&](std::span<const TokenId> prompt, const GenerateOptions& o, const TokenCallback& cb) {
    const std::string text = m.tokenizer->decode(std::vector<TokenId>(prompt.begin(), prompt.end()));
    GenerationResult r;
    r.stats.prompt_tokens = int(prompt.size());
    if (text.find("forever") != std::string::npos) {
      endless_started = true;
      const TokenId word = m.encode_prompt("la")[0];
      for (int i = 0; i < 100000; ++i) {
        r.tokens.push_back(word);
        if (!cb(word)) return r.finish = FinishReason::kCancelled, r;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return r;
    }
    return m.generate(prompt, o, cb);
  };
  TestServer s(m, fn);
  const Json other_messages = Json::array({user("hello")});
  const std::string want = expected_greedy(m, other_messages, 12).parsed.content;

  std::string other_content;
  int other_status = 0;
  std::thread other([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!endless_started && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const Reply r = post(s, request(other_messages, 12).dump());  // queued behind the endless stream
    other_status = r.status;
    if (r.status == 200) other_content = r.body["choices"][0]["message"]["content"].get<std::string>();
  });
  const Stream st = post_stream(s, request(Json::array({user("sing forever")}), 4000, true).dump(), 5);
  CHECK(st.status == 200);
  CHECK(st.events.size() == 5);
  CHECK_FALSE(st.done);
  other.join();  // finishes only if the endless generation was stopped
  CHECK(other_status == 200);
  CHECK(other_content == want);
  CHECK(s.stats().cancelled == 1);
  CHECK(s.stats().last_cancelled_tokens < 100000);
  MESSAGE("the disconnected stream stopped after " << s.stats().last_cancelled_tokens.load() << " tokens");
  // And the server keeps serving streams.
  const Assembled a = assemble(post_stream(s, request(other_messages, 12, true).dump()));
  CHECK(a.content == want);
}

}  // TEST_SUITE

// =============================================================================================
// Images over the OpenAI API: image_url parts with inline PNG/JPEG data URLs.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace {

// Not inlined: GCC 12 otherwise warns (falsely) about the vector insert inside stb's writer.
[[gnu::noinline]] void append_bytes(void* ctx, void* data, int n) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + n);
}

std::vector<uint8_t> jpeg_bytes(const Image& img) {
  std::vector<uint8_t> out;
  stbi_write_jpg_to_func(&append_bytes, &out, img.width, img.height, 3, img.rgb.data(), 90);
  return out;
}

Image gradient_image(int h, int w) {
  Image img;
  img.height = h;
  img.width = w;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      img.rgb.push_back(uint8_t(255 * x / std::max(w - 1, 1)));
      img.rgb.push_back(uint8_t(255 * y / std::max(h - 1, 1)));
      img.rgb.push_back(uint8_t((x * y) & 255));
    }
  return img;
}

std::string base64(const std::vector<uint8_t>& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t v = uint32_t(bytes[i]) << 16 | (i + 1 < bytes.size() ? uint32_t(bytes[i + 1]) << 8 : 0) |
                       (i + 2 < bytes.size() ? uint32_t(bytes[i + 2]) : 0);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? k[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? k[v & 63] : '=';
  }
  return out;
}

// A minimal PNG writer (stored deflate blocks, so no compressor is needed).
std::vector<uint8_t> png_bytes(const Image& img) {
  auto crc32 = [](const std::vector<uint8_t>& d, std::size_t from) {
    uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = from; i < d.size(); ++i) {
      c ^= d[i];
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
  };
  auto be32 = [](std::vector<uint8_t>& v, uint32_t x) {
    for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
  };
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  auto chunk = [&](const char* type, const std::vector<uint8_t>& data) {
    be32(out, uint32_t(data.size()));
    const std::size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    be32(out, crc32(out, start));
  };
  std::vector<uint8_t> ihdr;
  be32(ihdr, uint32_t(img.width));
  be32(ihdr, uint32_t(img.height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit RGB
  chunk("IHDR", ihdr);
  std::vector<uint8_t> raw;
  for (int y = 0; y < img.height; ++y) {
    raw.push_back(0);  // filter: none
    raw.insert(raw.end(), img.rgb.begin() + long(size_t(y) * size_t(img.width) * 3),
               img.rgb.begin() + long(size_t(y + 1) * size_t(img.width) * 3));
  }
  std::vector<uint8_t> z = {0x78, 0x01};
  uint32_t a = 1, b = 0;
  for (uint8_t byte : raw) a = (a + byte) % 65521, b = (b + a) % 65521;
  for (std::size_t i = 0; i < raw.size(); i += 65535) {
    const std::size_t n = std::min<std::size_t>(65535, raw.size() - i);
    z.push_back(i + n == raw.size() ? 1 : 0);
    z.insert(z.end(), {uint8_t(n), uint8_t(n >> 8), uint8_t(~n), uint8_t(~n >> 8)});
    z.insert(z.end(), raw.begin() + long(i), raw.begin() + long(i + n));
  }
  be32(z, (b << 16) | a);
  chunk("IDAT", z);
  chunk("IEND", {});
  return out;
}

Json image_message(const std::string& url, const std::string& text) {
  return Json{{"role", "user"},
              {"content", Json::array({{{"type", "image_url"}, {"image_url", {{"url", url}}}}, {{"type", "text"}, {"text", text}}})}};
}

}  // namespace

TEST_SUITE("server-vision") {

TEST_CASE("image_url parts: the reply equals generate() over the merged soft tokens") {
  if (!have_bundle()) return;
  for (const char* variant : {"e2b", "31b"}) {  // causal, and the bidirectional vision mask
    CAPTURE(variant);
    const ChatModel& m = tiny(variant);
    REQUIRE(m.vision);
    server::ServerOptions o;
    o.image_soft_tokens = 70;
    TestServer s(m, {}, o);
    const Image img = gradient_image(60, 90);
    const std::vector<uint8_t> png = png_bytes(img);
    REQUIRE(decode_image(png.data(), png.size(), "png").rgb == img.rgb);  // the writer above is right
    const Json messages = Json::array({image_message("data:image/png;base64," + base64(png), "What is this?")});

    // Reference: template → expand <|image|> → ids; processor → tower → merge → generate().
    const std::string prompt = m.render(Json::array({{{"role", "user"}, {"content", Json::array({{{"type", "image"}}, {{"type", "text"}, {"text", "What is this?"}}})}}}), nullptr, false);
    const ProcessedImage p = process_image(img, {16, 3, 70});
    const std::vector<TokenId> ids = m.encode_prompt(expand_media_placeholders(prompt, {MediaItem::image(p.num_soft_tokens)}));
    const std::vector<float> soft = vision_forward(*m.vision, p.pixel_values.data(), p.position_ids.data(), p.slots(), m.kernels);
    const MultimodalPrompt media = merge_media(m.model.config, ids, soft);
    GenerateOptions go = m.options(SamplingParams{0.0f, 0, 1.0f, 0}, 12);
    go.media = &media;
    const GenerationResult want = m.generate(ids, go);
    const GenerationResult text_only = m.generate(ids, m.options(SamplingParams{0.0f, 0, 1.0f, 0}, 12));
    const std::string want_text = parse_model_output(m.tokenizer->decode(want.tokens), prompt).content;

    const Reply r = post(s, request(messages, 12).dump());
    REQUIRE(r.status == 200);
    CHECK(r.body["usage"]["prompt_tokens"] == int(ids.size()));
    CHECK(r.body["usage"]["completion_tokens"] == int(want.tokens.size()));
    CHECK(r.body["choices"][0]["message"]["content"] == want_text);
    CHECK(p.num_soft_tokens == 60);  // 60×90 -> 288×480 at 70 tokens
    CHECK(want.tokens != text_only.tokens);  // the soft tokens reach the decoder

    // Streaming gives the same text; a JPEG of the same picture is accepted too.
    const Assembled a = assemble(post_stream(s, request(messages, 12, true).dump()));
    CHECK(a.content == want_text);
    const Json jpeg = Json::array({image_message("data:image/jpeg;base64," + base64(jpeg_bytes(img)), "What is this?")});
    const Reply rj = post(s, request(jpeg, 4).dump());
    CHECK(rj.status == 200);
    CHECK(rj.body["usage"]["prompt_tokens"] == int(ids.size()));
  }
}

TEST_CASE("image_url errors are 400s naming the field; text-only checkpoints refuse images") {
  if (!have_bundle()) return;
  const ChatModel& m = tiny("e2b");
  TestServer s(m);
  const std::string png = base64(png_bytes(gradient_image(4, 4)));
  const struct {
    Json content;
    std::string param, message_part;
  } cases[] = {
      {Json::array({{{"type", "image_url"}, {"image_url", {{"url", "https://example.com/cat.png"}}}}}),
       "messages[0].content[0].image_url.url", "the server fetches nothing"},
      {Json::array({{{"type", "image_url"}, {"image_url", {{"url", "data:image/gif;base64," + png}}}}}),
       "messages[0].content[0].image_url.url", "unsupported data URL \"data:image/gif;base64\""},
      {Json::array({{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,@@@@"}}}}}),
       "messages[0].content[0].image_url.url", "base64 payload is malformed"},
      {Json::array({{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + base64({1, 2, 3, 4, 5, 6})}}}}}),
       "messages[0].content[0].image_url.url", "cannot decode image"},
      {Json::array({{{"type", "text"}, {"text", "hi"}}, {{"type", "image_url"}}}), "messages[0].content[1].image_url", "missing"},
      {Json::array({{{"type", "image_url"}, {"image_url", {{"url", 7}}}}}), "messages[0].content[0].image_url.url",
       "missing or not a string"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.content.dump().substr(0, 120));
    const Reply r = post(s, request(Json::array({{{"role", "user"}, {"content", c.content}}}), 4).dump());
    CHECK(r.status == 400);
    REQUIRE(r.body.contains("error"));
    CHECK(r.body["error"]["param"] == c.param);
    CHECK(r.body["error"]["message"].get<std::string>().find(c.message_part) != std::string::npos);
  }

  // The same checkpoint without its vision_config: a text-only model.
  const fs::path dir = fs::temp_directory_path() / ("gemma4_text_only_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const auto& f : fs::directory_iterator(model_dir("e2b")))
    fs::copy_file(f.path(), dir / f.path().filename(), fs::copy_options::overwrite_existing);
  Json cfg = Json::parse(slurp(dir / "config.json"));
  cfg.erase("vision_config");
  std::ofstream(dir / "config.json") << cfg.dump();
  {
    const ChatModel text_only = ChatModel::load(dir);
    CHECK_FALSE(text_only.vision);
    TestServer t(text_only);
    const Reply r = post(t, request(Json::array({image_message("data:image/png;base64," + png, "hi")}), 4).dump());
    CHECK(r.status == 400);
    CHECK(r.body["error"]["param"] == "messages[0].content[0]");
    CHECK(r.body["error"]["code"] == "unsupported_content");
    CHECK(r.body["error"]["message"].get<std::string>().find("text-only") != std::string::npos);
    CHECK(post(t, request(Json::array({user("hi")}), 2).dump()).status == 200);
  }
  fs::remove_all(dir);
}

}  // TEST_SUITE
