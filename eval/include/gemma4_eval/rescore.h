// `gemma4-eval score`: re-scoring recorded responses with the official extraction, line by line.
//
// Input line:  {"id": ..., "response": "<raw output, maybe with a thought channel>", "gold": ...}
//   gold: the letter (mmlu_pro, gpqa, mmmu_pro) or the integer (aime).
//   optional: "options" (mmmu_pro: the option texts, a list or the dataset's Python-list string;
//   without it the ten letters A..J with no option text are assumed), "finish_reason".
// Output line: {"id": ..., "extracted": ... | null, "correct": bool}
//   plus "fallback": "random" where the official code would now guess a letter,
//   "truncated": true when thinking never closed or finish_reason was "length".
#pragma once

#include "gemma4_eval/aime.h"
#include "gemma4_eval/gpqa.h"
#include "gemma4_eval/mmlu_pro.h"
#include "gemma4_eval/mmmu_pro.h"
#include "gemma4_eval/thinking.h"

#include <stdexcept>
#include <string>

namespace gemma4::eval {

inline const char* kScoredBenchmarks = "mmlu_pro, gpqa, aime, mmmu_pro";

inline nlohmann::json score_line(const std::string& benchmark, const nlohmann::json& line, const std::string& where) {
  if (!line.is_object()) throw std::runtime_error(where + ": expected a JSON object");
  if (!line.contains("id")) throw DataError(where, "id", "missing");
  const std::string response = require<std::string>(line, "response", where);
  const SplitOutput split = split_thinking(response);
  AnswerScore s;
  if (benchmark == "mmlu_pro") {
    s = mmlu_pro::score_answer(split.answer, require<std::string>(line, "gold", where));
  } else if (benchmark == "gpqa") {
    s = gpqa::score_answer(split.answer, require<std::string>(line, "gold", where));
  } else if (benchmark == "aime") {
    const auto& g = line.contains("gold") ? line["gold"] : nlohmann::json();
    long long gold;
    if (g.is_number_integer()) gold = g.get<long long>();
    else if (g.is_string() && aime::python_int(g.get<std::string>())) gold = *aime::python_int(g.get<std::string>());
    else throw DataError(where, "gold", "expected an integer");
    s = aime::score_answer(split.answer, gold);
  } else if (benchmark == "mmmu_pro") {
    // Without "options" only the ten letters A..J are known and option-text matching is off.
    const bool have_options = line.contains("options") && !line["options"].is_null();
    const std::vector<std::string> options =
        have_options ? mmmu_pro::parse_options(line["options"], where) : std::vector<std::string>(10);
    s = mmmu_pro::score_answer(split.answer, require<std::string>(line, "gold", where), options, have_options);
  } else {
    throw std::invalid_argument("unknown benchmark '" + benchmark + "' (expected one of " + kScoredBenchmarks + ")");
  }
  nlohmann::json out = {{"id", line["id"]}, {"extracted", s.extracted}, {"correct", s.correct}};
  if (s.fallback_random) out["fallback"] = "random";
  if (!split.thought_closed || line.value("finish_reason", "") == "length") out["truncated"] = true;
  return out;
}

}  // namespace gemma4::eval
