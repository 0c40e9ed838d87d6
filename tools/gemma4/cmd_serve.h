// `gemma4 serve --model DIR --port N [--host 127.0.0.1] [--image-tokens 280]`: the OpenAI-compatible
// HTTP server (include/gemma4/server.h) for one checkpoint folder. Loopback only unless --host says
// otherwise. Checkpoints with a vision_config also take image_url parts.
#pragma once

#ifndef GEMMA4_IMPLEMENTATION
#define GEMMA4_IMPLEMENTATION
#endif

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "cli_common.h"
#include "gemma4/gemma4.h"
#include "gemma4/server.h"

namespace gemma4::cli {

struct ServeOptions {
  std::string model_dir;
  server::ServerOptions server;
};

inline server::ChatServer*& running_server() {
  static server::ChatServer* s = nullptr;
  return s;
}

inline int serve_command(const ServeOptions& o) {
  const ChatModel m = ChatModel::load(o.model_dir);
  server::ChatServer srv(m, o.server);
  const int port = srv.bind();
  running_server() = &srv;
  // Ctrl-C / SIGTERM: stop accepting and return (httplib's stop() only touches the listen socket).
  auto on_signal = [](int) {
    if (running_server()) running_server()->stop();
  };
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::fprintf(stderr, "gemma4 serve: model %s on http://%s:%d/v1 (POST /v1/chat/completions, GET /v1/models)%s\n",
               m.name.c_str(), o.server.host.c_str(), port,
               m.vision ? (", images at " + std::to_string(o.server.image_soft_tokens) + " soft tokens").c_str() : ", text only");
  std::fflush(stderr);
  srv.listen();
  running_server() = nullptr;
  return 0;
}

inline void add_serve_command(CLI::App& app, Command& selected) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server (/v1/chat/completions, /v1/models)");
  cmd->add_option("--model", o->model_dir, "checkpoint folder")->required();
  cmd->add_option("--port", o->server.port, "TCP port (0: any free port, printed on stderr)")->check(CLI::Range(0, 65535));
  cmd->add_option("--host", o->server.host, "address to bind (default loopback only)");
  cmd->add_option("--max-request-bytes", o->server.max_request_bytes, "larger request bodies get 413");
  cmd->add_option("--max-tokens-limit", o->server.max_tokens_limit, "the most max_tokens a request may ask for");
  cmd->add_option("--default-max-tokens", o->server.default_max_tokens, "max_tokens when a request gives none");
  cmd->add_option("--image-tokens", o->server.image_soft_tokens, "soft tokens per image (checkpoints with a vision tower)")
      ->check(CLI::IsMember({70, 140, 280, 560, 1120}));
  cmd->callback([o, &selected] { selected = [o] { return serve_command(*o); }; });
}

}  // namespace gemma4::cli
