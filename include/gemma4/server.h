// An OpenAI-compatible HTTP server for one model: POST /v1/chat/completions (streaming and not)
// and GET /v1/models, on cpp-httplib (Debian's libcpp-httplib-dev: link with `pkg-config
// cpp-httplib`, which also gives the defines the library was compiled with).
//
// Request → prompt → tokens → response:
//   body (JSON) ──parse_chat_request──▶ ChatRequest (validated; any problem is an ApiError, 4xx)
//   messages + tools ──chat template──▶ prompt text ──tokenizer──▶ prompt ids
//   image_url parts (inline PNG/JPEG data URLs, checkpoints with a vision tower only): decoded and
//   preprocessed per request, <|image|> expanded to the image's soft tokens, the tower's output
//   merged into the prefill (multimodal.h)
//   generate() token by token ──StreamingDecoder──▶ text ──StreamingOutputParser──▶ deltas
//   reasoning ("<|channel>thought…<channel|>") → reasoning_content, the answer → content,
//   "<|tool_call>call:NAME{…}<tool_call|>" → tool_calls [{id, type: "function",
//   function: {name, arguments: "<JSON string>"}}], finish_reason "tool_calls" / "length" / "stop".
//
// Concurrency: one model, one generation at a time. Requests are parsed and validated on their
// own connection thread, then take a ticket and wait their turn (first come, first served); only
// the generation itself runs under the turn, and everything it touches is per request (a fresh
// KV cache, activations, sampler, decoder and parser), so no state crosses requests
// (runtime-bugs.md C21). A streaming client that disconnects makes the next write fail; the token
// callback then returns false and its generation stops, handing the turn to the next request.
#pragma once

#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gemma4/generate.h"
#include "gemma4/image_processor.h"
#include "gemma4/multimodal.h"
#include "gemma4/output_parser.h"
#include "gemma4/prompt_media.h"

namespace gemma4::server {

using Json = nlohmann::ordered_json;

// An error returned to the client as {"error": {"message", "type", "param", "code"}}.
struct ApiError : std::runtime_error {
  int status;
  std::string type, param, code;
  ApiError(int status_, std::string message, std::string param_ = "", std::string code_ = "",
           std::string type_ = "invalid_request_error")
      : std::runtime_error(std::move(message)), status(status_), type(std::move(type_)), param(std::move(param_)),
        code(std::move(code_)) {}
};

inline Json error_body(const std::string& message, const std::string& type, const std::string& param = "",
                       const std::string& code = "") {
  Json e = {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (!param.empty()) e["param"] = param;
  if (!code.empty()) e["code"] = code;
  return Json{{"error", e}};
}

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  int port = 8080;                 // 0: any free port (see ChatServer::bind)
  std::size_t max_request_bytes = std::size_t(4) << 20;
  int max_tokens_limit = 32768;    // the most a request may ask for
  int default_max_tokens = 4096;   // when the request does not say
  int image_soft_tokens = 280;     // token budget per image (70, 140, 280, 560 or 1120)
};

// A validated /v1/chat/completions request.
struct ChatRequest {
  Json messages = Json::array();  // in the shape the chat template takes (arguments as objects)
  Json tools;                     // null or an array of function tools
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage
  bool enable_thinking = false;   // chat_template_kwargs.enable_thinking (or top-level enable_thinking)
  SamplingParams sampling;
  std::optional<int> max_tokens;
  std::vector<Image> images;          // decoded image_url parts, in prompt order
  std::vector<std::string> image_params;  // where each came from, e.g. "messages[0].content[1].image_url.url"
};

namespace detail {

inline std::string type_name(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

[[noreturn]] inline void bad(const std::string& param, const std::string& what) { throw ApiError(400, param + ": " + what, param); }

inline const Json* optional_field(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

inline double number_in(const Json& obj, const char* key, double lo, double hi, double fallback) {
  const Json* v = optional_field(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_number()) bad(key, "expected a number, got " + type_name(*v));
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi)) bad(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return x;
}

// RFC 4648 base64 (padding optional, no whitespace); nullopt on any other character.
inline std::optional<std::vector<uint8_t>> base64_decode(std::string_view in) {
  auto value = [](char ch) -> int {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    const int v = value(ch);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(uint8_t((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// An OpenAI image_url part's image: only inline PNG/JPEG data URLs (the server fetches nothing).
inline Image decode_image_url(const Json& part, const std::string& p) {
  const Json* image_url = optional_field(part, "image_url");
  if (image_url == nullptr) bad(p + ".image_url", "missing");
  const Json* url = image_url->is_object() ? optional_field(*image_url, "url") : image_url;
  const std::string where = p + (image_url->is_object() ? ".image_url.url" : ".image_url");
  if (url == nullptr || !url->is_string()) bad(where, "missing or not a string");
  const std::string& u = url->get_ref<const std::string&>();
  const std::size_t comma = u.find(',');
  const std::string header = u.substr(0, std::min(comma, std::size_t(64)));
  if (u.rfind("data:", 0) != 0)
    bad(where, "only data:image/png;base64 and data:image/jpeg;base64 URLs are supported (got \"" +
                   u.substr(0, std::min<std::size_t>(u.size(), 32)) + "...\"; the server fetches nothing)");
  if (comma == std::string::npos || (header != "data:image/png;base64" && header != "data:image/jpeg;base64" &&
                                     header != "data:image/jpg;base64"))
    bad(where, "unsupported data URL \"" + header + "\" (supported: data:image/png;base64, data:image/jpeg;base64)");
  const auto bytes = base64_decode(std::string_view(u).substr(comma + 1));
  if (!bytes) bad(where, "the base64 payload is malformed");
  try {
    return decode_image(bytes->data(), bytes->size(), where);
  } catch (const Error& e) {
    throw ApiError(400, e.what(), where);
  }
}

// A content value: a string, or an array of {"type": "text", "text"} and {"type": "image_url",
// "image_url": {"url": "data:image/png;base64,..."}} parts. Image parts are decoded into `images`
// and become {"type": "image"} for the chat template (which writes the <|image|> placeholder).
inline Json normalize_content(const Json& content, const std::string& where, ChatRequest& r) {
  if (content.is_string() || content.is_null()) return content;
  if (!content.is_array()) bad(where, "expected a string or an array of content parts, got " + type_name(content));
  Json out = Json::array();
  for (std::size_t i = 0; i < content.size(); ++i) {
    const Json& part = content[i];
    const std::string p = where + "[" + std::to_string(i) + "]";
    if (!part.is_object()) bad(p, "a content part must be an object");
    const Json* type = optional_field(part, "type");
    if (type == nullptr || !type->is_string()) bad(p + ".type", "missing or not a string");
    if (*type == "image_url") {
      r.images.push_back(decode_image_url(part, p));
      r.image_params.push_back(p);
      out.push_back(Json{{"type", "image"}});
      continue;
    }
    if (*type != "text")
      bad(p + ".type", "'" + type->get<std::string>() + "' parts are not supported (text and image_url only)");
    const Json* text = optional_field(part, "text");
    if (text == nullptr || !text->is_string()) bad(p + ".text", "missing or not a string");
    out.push_back(part);
  }
  return out;
}

inline Json normalize_tool_call(const Json& call, const std::string& where) {
  if (!call.is_object()) bad(where, "a tool call must be an object");
  const Json* function = optional_field(call, "function");
  if (function == nullptr || !function->is_object()) bad(where + ".function", "missing or not an object");
  const Json* name = optional_field(*function, "name");
  if (name == nullptr || !name->is_string() || name->get<std::string>().empty())
    bad(where + ".function.name", "missing or not a non-empty string");
  Json args = Json::object();
  if (const Json* a = optional_field(*function, "arguments")) {
    if (a->is_string()) {  // OpenAI sends arguments as a JSON string; the template wants the object
      const std::string& text = a->get_ref<const std::string&>();
      args = text.empty() ? Json::object() : Json::parse(text, nullptr, false);
      if (args.is_discarded()) bad(where + ".function.arguments", "not valid JSON");
    } else if (a->is_object()) {
      args = *a;
    } else {
      bad(where + ".function.arguments", "expected a JSON string or an object");
    }
  }
  Json out = {{"type", "function"}, {"function", {{"name", *name}, {"arguments", args}}}};
  if (const Json* id = optional_field(call, "id")) {
    if (!id->is_string()) bad(where + ".id", "expected a string");
    out["id"] = *id;
  }
  return out;
}

inline Json normalize_message(const Json& m, std::size_t index, ChatRequest& request) {
  const std::string where = "messages[" + std::to_string(index) + "]";
  if (!m.is_object()) bad(where, "a message must be an object");
  const Json* role = optional_field(m, "role");
  if (role == nullptr || !role->is_string()) bad(where + ".role", "missing or not a string");
  const std::string r = role->get<std::string>();
  if (r != "system" && r != "developer" && r != "user" && r != "assistant" && r != "tool")
    bad(where + ".role", "unknown role '" + r + "' (system, developer, user, assistant or tool)");
  Json out = {{"role", r}};
  const Json* content = optional_field(m, "content");
  if (content) {
    out["content"] = normalize_content(*content, where + ".content", request);
  } else if (r != "assistant") {
    bad(where + ".content", "missing");
  }
  if (r == "assistant") {
    if (const Json* calls = optional_field(m, "tool_calls")) {
      if (!calls->is_array()) bad(where + ".tool_calls", "expected an array");
      Json list = Json::array();
      for (std::size_t i = 0; i < calls->size(); ++i)
        list.push_back(normalize_tool_call((*calls)[i], where + ".tool_calls[" + std::to_string(i) + "]"));
      if (!list.empty()) out["tool_calls"] = list;
    } else if (!content) {
      bad(where + ".content", "an assistant message needs content or tool_calls");
    }
    for (const char* key : {"reasoning_content", "reasoning"})
      if (const Json* v = optional_field(m, key)) {
        if (!v->is_string()) bad(where + "." + key, "expected a string");
        out["reasoning_content"] = *v;
      }
  }
  if (r == "tool") {
    for (const char* key : {"tool_call_id", "name"})
      if (const Json* v = optional_field(m, key)) {
        if (!v->is_string()) bad(where + "." + key, "expected a string");
        out[key] = *v;
      }
    if (!out.contains("tool_call_id") && !out.contains("name"))
      bad(where + ".tool_call_id", "a tool message needs tool_call_id (or name)");
  }
  return out;
}

inline Json normalize_tools(const Json& tools) {
  if (!tools.is_array()) bad("tools", "expected an array, got " + type_name(tools));
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const std::string where = "tools[" + std::to_string(i) + "]";
    const Json& t = tools[i];
    if (!t.is_object()) bad(where, "a tool must be an object");
    const Json* type = optional_field(t, "type");
    if (type == nullptr || *type != "function") bad(where + ".type", "only \"function\" tools are supported");
    const Json* f = optional_field(t, "function");
    if (f == nullptr || !f->is_object()) bad(where + ".function", "missing or not an object");
    const Json* name = optional_field(*f, "name");
    if (name == nullptr || !name->is_string() || name->get<std::string>().empty())
      bad(where + ".function.name", "missing or not a non-empty string");
    if (const Json* p = optional_field(*f, "parameters"); p && !p->is_object())
      bad(where + ".function.parameters", "expected a JSON schema object");
  }
  return tools;
}

}  // namespace detail

// Validates a request body. Sampling defaults come from the model's generation_config.
inline ChatRequest parse_chat_request(const std::string& body, const GenerationDefaults& defaults,
                                      const ServerOptions& options = {}) {
  using namespace detail;
  if (body.size() > options.max_request_bytes)
    throw ApiError(413, "request body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                            std::to_string(options.max_request_bytes));
  const Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) throw ApiError(400, "request body is not valid JSON");
  if (!j.is_object()) throw ApiError(400, "request body must be a JSON object, got " + type_name(j));
  ChatRequest r;

  const Json* messages = optional_field(j, "messages");
  if (messages == nullptr) bad("messages", "missing");
  if (!messages->is_array()) bad("messages", "expected an array, got " + type_name(*messages));
  if (messages->empty()) bad("messages", "must not be empty");
  for (std::size_t i = 0; i < messages->size(); ++i) r.messages.push_back(normalize_message((*messages)[i], i, r));

  if (const Json* m = optional_field(j, "model"); m && !m->is_string()) bad("model", "expected a string");
  if (const Json* n = optional_field(j, "n"); n && !(n->is_number_integer() && n->get<int64_t>() == 1))
    bad("n", "only n = 1 is supported");
  if (const Json* s = optional_field(j, "stop"); s && !(s->is_array() && s->empty()))
    bad("stop", "stop sequences are not supported (generation stops at the model's end-of-turn tokens)");

  const Json* tool_choice = optional_field(j, "tool_choice");
  std::string choice = "auto";
  if (tool_choice) {
    if (!tool_choice->is_string() || (*tool_choice != "auto" && *tool_choice != "none"))
      bad("tool_choice", "only \"auto\" and \"none\" are supported");
    choice = tool_choice->get<std::string>();
  }
  if (const Json* tools = optional_field(j, "tools")) {
    Json t = normalize_tools(*tools);
    if (choice != "none" && !t.empty()) r.tools = std::move(t);
  }

  if (const Json* s = optional_field(j, "stream")) {
    if (!s->is_boolean()) bad("stream", "expected a boolean, got " + type_name(*s));
    r.stream = s->get<bool>();
  }
  if (const Json* so = optional_field(j, "stream_options")) {
    if (!so->is_object()) bad("stream_options", "expected an object");
    if (const Json* u = optional_field(*so, "include_usage")) {
      if (!u->is_boolean()) bad("stream_options.include_usage", "expected a boolean");
      r.include_usage = u->get<bool>();
    }
  }
  auto thinking_flag = [&](const Json& obj, const std::string& where) {
    if (const Json* t = optional_field(obj, "enable_thinking")) {
      if (!t->is_boolean()) bad(where, "expected a boolean");
      r.enable_thinking = t->get<bool>();
    }
  };
  thinking_flag(j, "enable_thinking");
  if (const Json* k = optional_field(j, "chat_template_kwargs")) {
    if (!k->is_object()) bad("chat_template_kwargs", "expected an object");
    thinking_flag(*k, "chat_template_kwargs.enable_thinking");
  }

  r.sampling = defaults.sampling;
  r.sampling.temperature = float(number_in(j, "temperature", 0.0, 2.0, defaults.sampling.temperature));
  r.sampling.top_p = float(number_in(j, "top_p", 0.0, 1.0, defaults.sampling.top_p));
  if (r.sampling.top_p == 0.0f) bad("top_p", "must be greater than 0");
  if (const Json* k = optional_field(j, "top_k")) {
    if (!k->is_number_integer() || k->get<int64_t>() < 0 || k->get<int64_t>() > (int64_t(1) << 30))
      bad("top_k", "expected a non-negative integer");
    r.sampling.top_k = int(k->get<int64_t>());
  }
  if (const Json* s = optional_field(j, "seed")) {
    if (!s->is_number_integer()) bad("seed", "expected an integer");
    r.sampling.seed = s->is_number_unsigned() ? s->get<std::uint64_t>() : std::uint64_t(s->get<int64_t>());
  } else {
    r.sampling.seed = std::random_device{}();
  }
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    if (const Json* m = optional_field(j, key)) {
      if (!m->is_number_integer() || m->get<int64_t>() < 1 || m->get<int64_t>() > options.max_tokens_limit)
        bad(key, "expected an integer between 1 and " + std::to_string(options.max_tokens_limit));
      r.max_tokens = int(m->get<int64_t>());
      break;
    }
  }
  return r;
}

// Counters for monitoring and tests.
struct ServerStats {
  std::atomic<int> completed{0};          // requests that generated to a stop or the length limit
  std::atomic<int> cancelled{0};          // streams whose client went away mid-generation
  std::atomic<int> rejected{0};           // 4xx answers
  std::atomic<int> active_generations{0}; // at most 1: checked by the tests
  std::atomic<int> max_active_generations{0};
  std::atomic<int> last_cancelled_tokens{0};
};

// First come, first served turns for the one model.
class TurnQueue {
 public:
  class Turn {
   public:
    explicit Turn(TurnQueue& q) : q_(q) {
      std::unique_lock<std::mutex> lock(q_.mutex_);
      const std::uint64_t ticket = q_.next_ticket_++;
      q_.cv_.wait(lock, [&] { return q_.serving_ == ticket; });
    }
    ~Turn() {
      {
        std::lock_guard<std::mutex> lock(q_.mutex_);
        ++q_.serving_;
      }
      q_.cv_.notify_all();
    }
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;

   private:
    TurnQueue& q_;
  };

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t next_ticket_ = 0, serving_ = 0;
};

// Produces tokens for a prompt; the default runs the model. Tests may substitute a scripted one
// to drive the response path (tool calls, disconnects) with exactly the text they need.
using GenerateFunction =
    std::function<GenerationResult(std::span<const TokenId> prompt, const GenerateOptions&, const TokenCallback&)>;

class ChatServer {
 public:
  ChatServer(const ChatModel& model, ServerOptions options, GenerateFunction generate = {})
      : model_(model), options_(std::move(options)), generate_(std::move(generate)) {
    if (!generate_)
      generate_ = [this](std::span<const TokenId> p, const GenerateOptions& o, const TokenCallback& cb) {
        return model_.generate(p, o, cb);
      };
    setup_routes();
  }
  ~ChatServer() { stop(); }
  ChatServer(const ChatServer&) = delete;
  ChatServer& operator=(const ChatServer&) = delete;

  // Binds options.host:options.port (port 0: a free one) and returns the port.
  int bind() {
    // A client that disconnects must not kill the process: writes to its socket should fail
    // with EPIPE instead of raising SIGPIPE (httplib sends without MSG_NOSIGNAL).
    ::signal(SIGPIPE, SIG_IGN);
    const int port = options_.port == 0 ? http_.bind_to_any_port(options_.host)
                                        : (http_.bind_to_port(options_.host, options_.port) ? options_.port : -1);
    if (port <= 0) throw Error("serve: cannot bind " + options_.host + ":" + std::to_string(options_.port));
    return port;
  }
  // Serves until stop(); call after bind().
  bool listen() { return http_.listen_after_bind(); }
  void stop() {
    if (http_.is_running()) http_.stop();
  }
  bool is_running() const { return http_.is_running(); }
  const ServerStats& stats() const { return stats_; }

 private:
  // Everything one generation needs, created per request.
  struct Completion {
    std::string id;
    std::int64_t created = 0;
    std::string prompt_text;
    std::vector<TokenId> prompt_ids;
    GenerateOptions options;
    ChatRequest request;
    std::vector<ProcessedImage> images;  // the request's images, preprocessed (the tower runs in run())
  };

  void setup_routes() {
    http_.set_payload_max_length(options_.max_request_bytes);
    http_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      Json list = {{"object", "list"},
                   {"data", Json::array({{{"id", model_.name}, {"object", "model"}, {"created", 0}, {"owned_by", "gemma4"}}})}};
      res.set_content(list.dump(), "application/json");
    });
    http_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      try {
        handle_completion(req, res);
      } catch (const ApiError& e) {
        reply_error(res, e.status, e.what(), e.type, e.param, e.code);
      }
    });
    // Errors httplib produces itself (unknown path, payload too large, ...) get a JSON body too.
    http_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // one of ours, already a JSON error
      std::string message = res.status == 404   ? "no route for " + req.method + " " + req.path
                            : res.status == 413 ? "request body exceeds the limit of " +
                                                      std::to_string(options_.max_request_bytes) + " bytes"
                                                : "HTTP error " + std::to_string(res.status);
      if (res.status >= 400 && res.status < 500) ++stats_.rejected;
      res.set_content(error_body(message, "invalid_request_error").dump(), "application/json");
    });
    http_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      res.status = 500;
      res.set_content(error_body(what, "server_error").dump(), "application/json");
    });
  }

  void reply_error(httplib::Response& res, int status, const std::string& message, const std::string& type,
                   const std::string& param = "", const std::string& code = "") {
    if (status >= 400 && status < 500) ++stats_.rejected;
    res.status = status;
    res.set_content(error_body(message, type, param, code).dump(), "application/json");
  }

  std::shared_ptr<Completion> prepare(const std::string& body) {
    auto c = std::make_shared<Completion>();
    c->request = parse_chat_request(body, model_.defaults, options_);
    try {
      c->prompt_text = model_.render(c->request.messages, c->request.tools, c->request.enable_thinking);
    } catch (const ChatTemplateError& e) {
      throw ApiError(400, e.what(), "messages");
    }
    std::string model_text = c->prompt_text;
    if (!c->request.images.empty()) {
      // Each <|image|> the template wrote becomes <|image> + <|image|>×N + <image|> (prompt_media.h).
      if (!model_.vision)
        throw ApiError(400, c->request.image_params[0] + ": model " + model_.name +
                                " is text-only (its config.json has no vision_config); image_url parts are not supported",
                       c->request.image_params[0], "unsupported_content");
      std::vector<MediaItem> items;
      ImageProcessorConfig pc;
      pc.patch_size = model_.vision->config.patch_size;
      pc.pooling_kernel_size = model_.vision->config.pooling_kernel_size;
      pc.max_soft_tokens = options_.image_soft_tokens;
      for (std::size_t i = 0; i < c->request.images.size(); ++i) {
        try {
          c->images.push_back(process_image(c->request.images[i], pc));
        } catch (const Error& e) {
          throw ApiError(400, c->request.image_params[i] + ": " + e.what(), c->request.image_params[i]);
        }
        items.push_back(MediaItem::image(c->images.back().num_soft_tokens));
      }
      c->request.images.clear();  // the decoded pixels are no longer needed
      try {
        model_text = expand_media_placeholders(c->prompt_text, items);
      } catch (const std::invalid_argument& e) {
        throw ApiError(400, std::string(e.what()) + " (is there a literal <|image|> in the text?)", "messages");
      }
    }
    c->prompt_ids = model_.encode_prompt(model_text);
    const int context = model_.defaults.max_position_embeddings;
    const int prompt_len = int(c->prompt_ids.size());
    int max_tokens = c->request.max_tokens.value_or(options_.default_max_tokens);
    if (context > 0) {
      if (prompt_len >= context)
        throw ApiError(400, "the prompt has " + std::to_string(prompt_len) + " tokens; the model's context is " +
                                std::to_string(context), "messages", "context_length_exceeded");
      if (c->request.max_tokens && prompt_len + max_tokens > context)
        throw ApiError(400, "prompt (" + std::to_string(prompt_len) + " tokens) + max_tokens (" +
                                std::to_string(max_tokens) + ") exceeds the model's context of " + std::to_string(context),
                       "max_tokens", "context_length_exceeded");
      max_tokens = std::min(max_tokens, context - prompt_len);
    }
    c->options = model_.options(c->request.sampling, max_tokens);
    static std::atomic<std::uint64_t> counter{0};
    c->id = "chatcmpl-" + std::to_string(++counter);
    c->created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return c;
  }

  // Generates under the model's turn; `on_token` as in generate().
  GenerationResult run(const Completion& c, const TokenCallback& on_token) {
    TurnQueue::Turn turn(turns_);
    const int active = ++stats_.active_generations;
    int seen = stats_.max_active_generations.load();
    while (active > seen && !stats_.max_active_generations.compare_exchange_weak(seen, active)) {
    }
    struct Leave {
      std::atomic<int>& n;
      ~Leave() { --n; }
    } leave{stats_.active_generations};
    if (c.images.empty()) return generate_(c.prompt_ids, c.options, on_token);
    // The vision tower runs here, under the turn, like the decoder (one model at work at a time).
    std::vector<float> soft;
    for (const ProcessedImage& p : c.images) {
      const std::vector<float> s = vision_forward(*model_.vision, p.pixel_values.data(), p.position_ids.data(),
                                                  p.slots(), model_.kernels);
      soft.insert(soft.end(), s.begin(), s.end());
    }
    const MultimodalPrompt media = merge_media(model_.model.config, c.prompt_ids, soft);
    GenerateOptions options = c.options;
    options.media = &media;
    return generate_(c.prompt_ids, options, on_token);
  }

  static std::string finish_reason(const GenerationResult& g, const ParsedOutput& parsed) {
    if (!parsed.tool_calls.empty()) return "tool_calls";
    return g.finish == FinishReason::kLength ? "length" : "stop";
  }

  static Json openai_tool_call(const ParsedToolCall& call, const std::string& id) {
    return Json{{"id", id}, {"type", "function"}, {"function", {{"name", call.name}, {"arguments", call.arguments.dump()}}}};
  }

  static Json usage(const GenerationResult& g) {
    return Json{{"prompt_tokens", g.stats.prompt_tokens},
                {"completion_tokens", int(g.tokens.size())},
                {"total_tokens", g.stats.prompt_tokens + int(g.tokens.size())}};
  }

  void handle_completion(const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<Completion> c = prepare(req.body);
    if (!c->request.stream) {
      const GenerationResult g = run(*c, {});
      ++stats_.completed;
      const std::string text = model_.tokenizer->decode(g.tokens);
      const ParsedOutput parsed = parse_model_output(text, c->prompt_text);
      Json message = {{"role", "assistant"}, {"content", nullptr}};
      if (!parsed.content.empty() || parsed.tool_calls.empty()) message["content"] = parsed.content;
      if (!parsed.reasoning.empty()) message["reasoning_content"] = parsed.reasoning;
      if (!parsed.tool_calls.empty()) {
        message["tool_calls"] = Json::array();
        for (std::size_t i = 0; i < parsed.tool_calls.size(); ++i)
          message["tool_calls"].push_back(openai_tool_call(parsed.tool_calls[i], c->id + "-call-" + std::to_string(i)));
      }
      Json choice = {{"index", 0}, {"message", message}, {"logprobs", nullptr}, {"finish_reason", finish_reason(g, parsed)}};
      if (!parsed.ok()) choice["gemma4_parse_status"] = parsed.error;  // malformed or truncated markup
      Json out = {{"id", c->id}, {"object", "chat.completion"}, {"created", c->created}, {"model", model_.name},
                  {"choices", Json::array({choice})}, {"usage", usage(g)},
                  {"gemma4_timings", {{"prefill_tokens_per_second", g.stats.prefill_tokens_per_second()},
                                      {"decode_tokens_per_second", g.stats.decode_tokens_per_second()}}}};
      res.set_content(out.dump(), "application/json");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [this, c](std::size_t, httplib::DataSink& sink) {
      stream_completion(*c, sink);
      return true;
    });
  }

  void stream_completion(const Completion& c, httplib::DataSink& sink) {
    bool client_gone = false;
    auto send = [&](const Json& chunk) {
      if (client_gone) return false;
      const std::string event = "data: " + chunk.dump() + "\n\n";
      if (!sink.is_writable() || !sink.write(event.data(), event.size())) client_gone = true;
      return !client_gone;
    };
    auto chunk = [&](Json delta, Json finish = nullptr) {
      return Json{{"id", c.id}, {"object", "chat.completion.chunk"}, {"created", c.created}, {"model", model_.name},
                  {"choices", Json::array({{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                                            {"finish_reason", std::move(finish)}}})}};
    };
    StreamingDecoder decoder(*model_.tokenizer);
    StreamingOutputParser parser(c.prompt_text);
    int calls = 0;
    auto emit = [&](const StreamingOutputParser::Delta& d) {
      if (!d.reasoning.empty() && !send(chunk({{"reasoning_content", d.reasoning}}))) return false;
      if (!d.content.empty() && !send(chunk({{"content", d.content}}))) return false;
      for (const ParsedToolCall& call : d.tool_calls) {
        Json tc = openai_tool_call(call, c.id + "-call-" + std::to_string(calls));
        tc["index"] = calls++;
        if (!send(chunk({{"tool_calls", Json::array({tc})}}))) return false;
      }
      return true;
    };

    if (!send(chunk({{"role", "assistant"}, {"content", ""}}))) return;
    const GenerationResult g = run(c, [&](TokenId id) { return emit(parser.feed(decoder.push(id))); });
    if (g.finish == FinishReason::kCancelled || client_gone) {
      ++stats_.cancelled;
      stats_.last_cancelled_tokens = int(g.tokens.size());
      return;  // nobody to tell
    }
    ++stats_.completed;
    if (!emit(parser.feed(decoder.finish())) || !emit(parser.finish())) return;
    const ParsedOutput parsed = parser.result();
    if (!send(chunk(Json::object(), finish_reason(g, parsed)))) return;
    if (c.request.include_usage) {
      Json u = {{"id", c.id}, {"object", "chat.completion.chunk"}, {"created", c.created}, {"model", model_.name},
                {"choices", Json::array()}, {"usage", usage(g)}};
      if (!send(u)) return;
    }
    const std::string done = "data: [DONE]\n\n";
    if (sink.write(done.data(), done.size())) sink.done();
  }

  const ChatModel& model_;
  ServerOptions options_;
  GenerateFunction generate_;
  httplib::Server http_;
  TurnQueue turns_;
  ServerStats stats_;
};

}  // namespace gemma4::server
