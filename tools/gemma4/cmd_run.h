// `gemma4 run --model DIR --prompt TEXT`: one generation from a checkpoint folder. The prompt goes
// through the chat template as a user turn (unless --raw); tokens stream to stdout as they are
// produced and the speed goes to stderr; --json prints one machine-readable object instead.
#pragma once

#ifndef GEMMA4_IMPLEMENTATION
#define GEMMA4_IMPLEMENTATION  // the CLI is one translation unit: instantiate the kernels here
#endif

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "gemma4/gemma4.h"
#include "gemma4/generate.h"
#include "gemma4/output_parser.h"

namespace gemma4::cli {

// Sampling flags shared by run and chat; unset ones fall back to generation_config.json.
struct SamplingFlags {
  std::optional<float> temperature, top_p;
  std::optional<int> top_k;
  std::optional<std::uint64_t> seed;
  bool greedy = false;
  int max_tokens = 256;
  bool thinking = false;

  void add_to(CLI::App& cmd) {
    cmd.add_option("--temperature", temperature, "sampling temperature (0: greedy); default from generation_config.json");
    cmd.add_option("--top-k", top_k, "keep the k most likely tokens (0: off)");
    cmd.add_option("--top-p", top_p, "nucleus sampling mass (1: off)");
    cmd.add_option("--seed", seed, "random seed (default 0: runs are reproducible)");
    cmd.add_flag("--greedy", greedy, "argmax decoding (same as --temperature 0)");
    cmd.add_option("--max-tokens", max_tokens, "the most new tokens to generate")->check(CLI::PositiveNumber);
    cmd.add_flag("--thinking,!--no-thinking", thinking, "let the model think first (the template's enable_thinking)");
  }

  SamplingParams resolve(const GenerationDefaults& d) const {
    SamplingParams p = d.sampling;
    if (temperature) p.temperature = *temperature;
    if (top_k) p.top_k = *top_k;
    if (top_p) p.top_p = *top_p;
    p.seed = seed.value_or(0);
    if (greedy) p.temperature = 0.0f;
    if (p.temperature < 0) throw Error("--temperature must be >= 0");
    return p;
  }
};

inline std::vector<TokenId> parse_id_list(const std::string& text) {
  std::vector<TokenId> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      std::size_t used = 0;
      ids.push_back(std::stoi(item, &used));
      if (used != item.size() && item.find_first_not_of(" ", used) != std::string::npos) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw Error("--prompt-ids: '" + item + "' is not an integer (expected e.g. 2,105,2364)");
    }
  }
  return ids;
}

inline void print_stats(const GenerationResult& g) {
  std::fprintf(stderr, "\n[%d prompt tokens, prefill %.1f tok/s | %d new tokens, decode %.1f tok/s | %s]\n",
               g.stats.prompt_tokens, g.stats.prefill_tokens_per_second(), g.stats.new_tokens,
               g.stats.decode_tokens_per_second(), to_string(g.finish));
}

inline nlohmann::ordered_json parsed_json(const ParsedOutput& p) {
  nlohmann::ordered_json j = {{"content", p.content}, {"reasoning", p.reasoning}, {"tool_calls", nlohmann::ordered_json::array()}};
  for (const auto& c : p.tool_calls) j["tool_calls"].push_back({{"name", c.name}, {"arguments", c.arguments}});
  j["parse_status"] = p.ok() ? std::string("complete") : p.error;
  return j;
}

struct RunOptions {
  std::string model_dir, prompt, prompt_ids, system;
  bool raw = false, json = false;
  SamplingFlags sampling;
};

inline int run_command(const RunOptions& o) {
  const ChatModel m = ChatModel::load(o.model_dir);
  std::string prompt_text;
  std::vector<TokenId> ids;
  if (!o.prompt_ids.empty()) {
    ids = parse_id_list(o.prompt_ids);
  } else if (o.raw) {
    ids = m.encode_raw(o.prompt);
    prompt_text = o.prompt;
  } else {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
    messages.push_back({{"role", "user"}, {"content", o.prompt}});
    prompt_text = m.render(messages, nullptr, o.sampling.thinking);
    ids = m.encode_prompt(prompt_text);
  }
  const GenerateOptions options = m.options(o.sampling.resolve(m.defaults), o.sampling.max_tokens);
  StreamingDecoder decoder(*m.tokenizer);
  const GenerationResult g = m.generate(ids, options, [&](TokenId id) {
    if (!o.json && !options.stop.contains(id)) {
      const std::string piece = decoder.push(id);
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  });
  const std::string text = m.tokenizer->decode(g.tokens);
  if (!o.json) {
    const std::string rest = decoder.finish();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::fputc('\n', stdout);
    print_stats(g);
    return 0;
  }
  nlohmann::ordered_json out = {{"model", m.name},
                                {"prompt_tokens", ids.size()},
                                {"tokens", g.tokens},
                                {"text", text},
                                {"finish_reason", to_string(g.finish)},
                                {"prefill_tokens_per_second", g.stats.prefill_tokens_per_second()},
                                {"decode_tokens_per_second", g.stats.decode_tokens_per_second()},
                                {"prefill_seconds", g.stats.prefill_seconds},
                                {"decode_seconds", g.stats.decode_seconds}};
  out["parsed"] = parsed_json(parse_model_output(text, prompt_text));
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

inline void add_run_command(CLI::App& app, Command& selected) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "generate from a prompt (streams tokens, reports tokens/s)");
  cmd->add_option("--model", o->model_dir, "checkpoint folder: config.json, *.safetensors, tokenizer, generation_config.json")
      ->required();
  auto* prompt = cmd->add_option("--prompt", o->prompt, "the user message (or raw text with --raw)");
  auto* ids = cmd->add_option("--prompt-ids", o->prompt_ids, "comma-separated prompt token ids, used as they are");
  prompt->excludes(ids);
  cmd->add_option("--system", o->system, "a system message before the prompt");
  cmd->add_flag("--raw", o->raw, "no chat template: the prompt text is tokenized as is (<bos> added)");
  cmd->add_flag("--json", o->json, "print one JSON object (tokens, text, parsed output, speed) instead of streaming");
  o->sampling.add_to(*cmd);
  cmd->callback([o, &selected, prompt, ids] {
    if (prompt->count() == 0 && ids->count() == 0) throw CLI::RequiredError("--prompt or --prompt-ids");
    selected = [o] { return run_command(*o); };
  });
}

}  // namespace gemma4::cli
