// gemma4: the command-line front end. Each subcommand lives in its own header beside this file
// (cmd_<name>.h) and provides
//     void gemma4::cli::add_<name>_command(CLI::App& app, gemma4::cli::Command& selected);
// which adds the subcommand and, when it is chosen, sets `selected` to the function that runs it.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <functional>

#include "cli_common.h"

#if __has_include("cmd_verify.h")
#include "cmd_verify.h"
#define GEMMA4_HAS_VERIFY 1
#endif
#if __has_include("cmd_run.h")
#include "cmd_run.h"
#define GEMMA4_HAS_RUN 1
#endif
#if __has_include("cmd_chat.h")
#include "cmd_chat.h"
#define GEMMA4_HAS_CHAT 1
#endif
#if __has_include("cmd_serve.h")
#include "cmd_serve.h"
#define GEMMA4_HAS_SERVE 1
#endif

int main(int argc, char** argv) {
  CLI::App app{"gemma4: a readable C++ reference implementation of Gemma 4"};
  app.require_subcommand(1);
  gemma4::cli::Command selected;
#ifdef GEMMA4_HAS_VERIFY
  gemma4::cli::add_verify_command(app, selected);
#endif
#ifdef GEMMA4_HAS_RUN
  gemma4::cli::add_run_command(app, selected);
#endif
#ifdef GEMMA4_HAS_CHAT
  gemma4::cli::add_chat_command(app, selected);
#endif
#ifdef GEMMA4_HAS_SERVE
  gemma4::cli::add_serve_command(app, selected);
#endif
  CLI11_PARSE(app, argc, argv);
  if (!selected) return 2;
  try {
    return selected();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gemma4: error: %s\n", e.what());
    return 1;
  }
}
