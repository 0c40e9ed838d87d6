// `gemma4 chat --model DIR`: an interactive multi-turn conversation on stdin/stdout.
//   /think        toggle thinking (the template's enable_thinking) for the following turns
//   /reset        forget the conversation (the system message stays)
//   /quit, /exit  (or end of input) leave
// Tool declarations come from --tools FILE (a JSON array of OpenAI function tools). When the
// model calls a tool, each call is printed and one line is read per call as the tool's result
// (JSON or text); the model then continues its turn. The history keeps answers and tool calls;
// the chat template drops earlier thinking from it, as the official template requires.
#pragma once

#ifndef GEMMA4_IMPLEMENTATION
#define GEMMA4_IMPLEMENTATION
#endif

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "cmd_run.h"
#include "gemma4/gemma4.h"
#include "gemma4/generate.h"
#include "gemma4/output_parser.h"

namespace gemma4::cli {

struct ChatOptions {
  std::string model_dir, system, tools_file, transcript_file;
  bool show_prompt = false, show_stats = false;
  SamplingFlags sampling;
};

inline nlohmann::ordered_json load_tools(const std::string& path) {
  if (path.empty()) return nullptr;
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open the tools file");
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(in, nullptr, false);
  if (j.is_discarded()) throw Error(path + ": malformed JSON");
  if (j.is_object() && j.contains("tools")) j = j["tools"];
  if (!j.is_array()) throw Error(path + ": expected a JSON array of tools (or {\"tools\": [...]})");
  for (const auto& t : j)
    if (!t.is_object() || !t.contains("function") || !t["function"].is_object() || !t["function"].contains("name"))
      throw Error(path + ": every tool needs {\"type\": \"function\", \"function\": {\"name\": ...}}");
  return j;
}

// One model turn (possibly several generations when tools are called). Appends to `history`.
inline bool chat_turn(const ChatModel& m, const ChatOptions& o, const nlohmann::ordered_json& tools, bool thinking,
                      nlohmann::ordered_json& history, std::istream& in, int& call_counter) {
  while (true) {
    const std::string prompt = m.render(history, tools, thinking);
    if (o.show_prompt) std::fprintf(stderr, "[prompt]\n%s\n[/prompt]\n", prompt.c_str());
    const std::vector<TokenId> ids = m.encode_prompt(prompt);
    GenerateOptions options = m.options(o.sampling.resolve(m.defaults), o.sampling.max_tokens);
    StreamingDecoder decoder(*m.tokenizer);
    StreamingOutputParser parser(prompt);
    bool in_thought = false, wrote = false;
    auto show = [&](const StreamingOutputParser::Delta& d) {
      if (!d.reasoning.empty()) {
        if (!in_thought) std::fputs("[thinking] ", stdout);
        in_thought = true;
        std::fputs(d.reasoning.c_str(), stdout);
      }
      if (!d.content.empty()) {
        if (in_thought) std::fputs("\n[/thinking]\n", stdout);
        in_thought = false;
        std::fputs(d.content.c_str(), stdout);
        wrote = true;
      }
      std::fflush(stdout);
    };
    const GenerationResult g = m.generate(ids, options, [&](TokenId id) {
      show(parser.feed(decoder.push(id)));
      return true;
    });
    show(parser.feed(decoder.finish()));
    show(parser.finish());
    if (in_thought) std::fputs("\n[/thinking]\n", stdout);
    std::fputc('\n', stdout);
    if (o.show_stats) print_stats(g);
    const ParsedOutput parsed = parser.result();
    if (!parsed.ok()) std::fprintf(stderr, "[note: %s]\n", parsed.error.c_str());
    (void)wrote;

    nlohmann::ordered_json reply = {{"role", "assistant"}, {"content", parsed.content}};
    if (parsed.tool_calls.empty()) {
      history.push_back(reply);
      return true;
    }
    // Reasoning is replayed by the template on tool-calling turns, so keep it there.
    if (!parsed.reasoning.empty()) reply["reasoning_content"] = parsed.reasoning;
    reply["tool_calls"] = nlohmann::ordered_json::array();
    std::vector<std::pair<std::string, std::string>> calls;
    for (const auto& c : parsed.tool_calls) {
      const std::string id = "call_" + std::to_string(++call_counter);
      reply["tool_calls"].push_back({{"id", id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
      calls.emplace_back(id, c.name);
      std::printf("[tool call] %s %s\n", c.name.c_str(), c.arguments.dump().c_str());
    }
    history.push_back(reply);
    for (const auto& [id, name] : calls) {
      std::fprintf(stderr, "result of %s> ", name.c_str());
      std::string line;
      if (!std::getline(in, line)) return false;
      nlohmann::ordered_json content = nlohmann::ordered_json::parse(line, nullptr, false);
      if (content.is_discarded()) content = line;  // plain text result
      history.push_back({{"role", "tool"}, {"tool_call_id", id}, {"name", name}, {"content", content}});
    }
  }
}

inline int chat_command(const ChatOptions& o) {
  const ChatModel m = ChatModel::load(o.model_dir);
  const nlohmann::ordered_json tools = load_tools(o.tools_file);
  bool thinking = o.sampling.thinking;
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  if (!o.system.empty()) history.push_back({{"role", "system"}, {"content", o.system}});
  const std::size_t base = history.size();
  int call_counter = 0;
  std::fprintf(stderr, "gemma4 chat: %s (thinking %s; /think toggles, /reset, /quit)\n", m.name.c_str(),
               thinking ? "on" : "off");
  std::string line;
  while (true) {
    std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line)) break;
    if (line == "/quit" || line == "/exit") break;
    if (line == "/think") {
      thinking = !thinking;
      std::printf("[thinking %s]\n", thinking ? "on" : "off");
      continue;
    }
    if (line == "/reset") {
      history.erase(history.begin() + long(base), history.end());
      std::printf("[conversation reset]\n");
      continue;
    }
    if (line.empty()) continue;
    history.push_back({{"role", "user"}, {"content", line}});
    if (!chat_turn(m, o, tools, thinking, history, std::cin, call_counter)) break;
  }
  if (!o.transcript_file.empty()) {
    std::ofstream out(o.transcript_file);
    out << history.dump(2) << "\n";
    if (!out) throw Error(o.transcript_file + ": cannot write the transcript");
  }
  return 0;
}

inline void add_chat_command(CLI::App& app, Command& selected) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "interactive multi-turn chat (/think toggles thinking)");
  cmd->add_option("--model", o->model_dir, "checkpoint folder")->required();
  cmd->add_option("--system", o->system, "system message");
  cmd->add_option("--tools", o->tools_file, "JSON file with an array of OpenAI-style function tools");
  cmd->add_option("--transcript", o->transcript_file, "write the conversation (messages JSON) here at the end");
  cmd->add_flag("--show-prompt", o->show_prompt, "print each rendered prompt on stderr");
  cmd->add_flag("--stats", o->show_stats, "print tokens/s after each reply on stderr");
  o->sampling.add_to(*cmd);
  cmd->callback([o, &selected] { selected = [o] { return chat_command(*o); }; });
}

}  // namespace gemma4::cli
