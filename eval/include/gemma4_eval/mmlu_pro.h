// MMLU-Pro (TIGER-Lab/MMLU-Pro): data, prompts and the official answer extraction.
//
// Official code: TIGER-AI-Lab/MMLU-Pro @ f418b116 (evaluate_from_api.py, evaluate_from_local.py,
// compute_accuracy.py). Protocol notes: evaluation-protocols.md §2.
//
// Data (one JSON object per line, official field names; tools/fetch_datasets writes them):
//   <dir>/test.jsonl, <dir>/validation.jsonl with
//   question_id:int, question:str, options:[str] (≤10), answer:"A".."J", answer_index:int,
//   cot_content:str, category:str, src:str.
#pragma once

#include "gemma4_eval/benchmark.h"
#include "gemma4_eval/dataset_io.h"
#include "gemma4_eval/python_text.h"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace gemma4::eval::mmlu_pro {

struct Question {
  long long question_id = 0;
  std::string question;
  std::vector<std::string> options;  // "N/A" padding already dropped, as the official loader does
  std::string answer;                // letter
  int answer_index = 0;
  std::string cot_content;
  std::string category;
  std::string src;
};

inline Question parse_row(const nlohmann::json& row, const std::string& where) {
  Question q;
  q.question_id = require<long long>(row, "question_id", where);
  q.question = require<std::string>(row, "question", where);
  for (const auto& opt : require<std::vector<std::string>>(row, "options", where))
    if (opt != "N/A") q.options.push_back(opt);  // preprocess() in both official scripts
  q.answer = require<std::string>(row, "answer", where);
  q.answer_index = require<int>(row, "answer_index", where);
  q.cot_content = row.value("cot_content", std::string());
  if (!row.contains("cot_content") || row["cot_content"].is_null()) q.cot_content.clear();
  q.category = require<std::string>(row, "category", where);
  q.src = row.value("src", std::string());
  if (q.options.empty() || q.options.size() > 10) throw DataError(where, "options", "expected 1..10 options");
  if (q.answer.size() != 1 || q.answer[0] < 'A' || q.answer[0] >= 'A' + static_cast<char>(q.options.size()))
    throw DataError(where, "answer", "expected a letter within the options");
  return q;
}

// ---- prompts ----------------------------------------------------------------------------------

inline constexpr const char* kLetters = "ABCDEFGHIJ";

// evaluate_from_api.py format_example(): "Question: ...\nOptions: A. ...\nB. ...\n" then
// "Answer: <cot>\n\n", where an empty cot is "Let's think step by step." and a leading "A: " of
// the worked example is dropped.
inline std::string format_example_api(const Question& q, std::string cot) {
  if (cot.empty()) cot = "Let's think step by step.";
  if (py::starts_with(cot, "A: ")) cot.erase(0, 3);
  std::string s = "Question: " + q.question + "\nOptions: ";
  for (std::size_t i = 0; i < q.options.size(); ++i) s += std::string(1, kLetters[i]) + ". " + q.options[i] + "\n";
  return s + "Answer: " + cot + "\n\n";
}

// evaluate_from_local.py format_cot_example(): "Question:\n...\nOptions:\nA. ...\n" then the
// worked answer (its "A: Let's think step by step." becomes "Answer: Let's think step by step."),
// or, for the question asked, "Answer: Let's think step by step." with no newline.
inline std::string format_example_local(const Question& q, bool including_answer) {
  std::string s = "Question:\n" + q.question + "\nOptions:\n";
  for (std::size_t i = 0; i < q.options.size(); ++i) s += std::string(1, kLetters[i]) + ". " + q.options[i] + "\n";
  if (including_answer)
    return s + py::replace_all(q.cot_content, "A: Let's think step by step.", "Answer: Let's think step by step.") + "\n\n";
  return s + "Answer: Let's think step by step.";
}

enum class PromptStyle { api, local };

// The whole prompt, sent as one user message (the API script concatenates instruction and input
// into one user turn; the local script's prompt is plain text, which we also send as one turn).
inline std::string build_prompt(const Question& q, const std::vector<Question>& shots, PromptStyle style) {
  std::string s;
  if (style == PromptStyle::api) {
    s = "The following are multiple choice questions (with answers) about " + q.category +
        ". Think step by step and then output the answer in the format of \"The answer is (X)\" at the end.\n\n";
    for (const auto& ex : shots) s += format_example_api(ex, ex.cot_content);
    s += format_example_api(q, "");
  } else {
    // cot_prompt_lib/initial_prompt.txt, read line by line, "{$}" replaced, then "\n".
    s = "The following are multiple choice questions (with answers) about " + q.category +
        ". Think step by step and then finish your answer with \"the answer is (X)\" where X is the correct letter choice.\n\n\n" +
        "\n";
    for (const auto& ex : shots) s += format_example_local(ex, true);
    s += format_example_local(q, false);
  }
  return s;
}

// ---- the official extraction cascade ----------------------------------------------------------
//
// extract_answer(text):
//   L1  re.search(r"answer is \(?([A-J])\)?", text)         first match
//   L2  re.search(r'.*[aA]nswer:\s*([A-J])', text)          see below
//   L3  re.search(r"\b[A-J]\b(?!.*\b[A-J]\b)", text, DOTALL) the last standalone letter
//   none: the scripts draw random.randint over the options; we report fallback "random".
// evaluate_from_api.py removes "**" from the response first; we follow it (we query chat
// endpoints). compute_accuracy.py's "l1" variant stops after L1.

inline bool is_letter_a_to_j(char c) { return c >= 'A' && c <= 'J'; }

// L1: the first "answer is " followed by an optional "(" and a capital A..J.
inline std::optional<char> match_answer_is(std::string_view t) {
  constexpr std::string_view key = "answer is ";
  for (std::size_t p = t.find(key); p != std::string_view::npos; p = t.find(key, p + 1)) {
    std::size_t i = p + key.size();
    if (i < t.size() && t[i] == '(' && i + 1 < t.size() && is_letter_a_to_j(t[i + 1])) return t[i + 1];
    if (i < t.size() && is_letter_a_to_j(t[i])) return t[i];
  }
  return std::nullopt;
}

// Skips `\s*` (Unicode whitespace, newlines included) from byte offset i.
inline std::size_t skip_spaces(std::string_view t, std::size_t i) {
  while (i < t.size()) {
    const py::CodePoint cp = py::decode_at(t, i);
    if (!py::is_space(cp.value)) break;
    i = cp.end;
  }
  return i;
}

// L2: `.` stops at '\n', so re.search returns a match on the first line that holds an
// "[aA]nswer:" followed by `\s*[A-J]`; the greedy `.*` makes it the last such "answer:" on that
// line. `\s*` itself may run over newlines into later lines.
inline std::optional<char> match_answer_colon(std::string_view t) {
  std::size_t line_start = 0;
  while (line_start <= t.size()) {
    std::size_t line_end = t.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = t.size();
    std::optional<char> found;
    for (std::size_t p = line_start; p + 7 <= line_end; ++p) {
      if ((t[p] == 'a' || t[p] == 'A') && t.substr(p + 1, 6) == "nswer:") {
        const std::size_t i = skip_spaces(t, p + 7);
        if (i < t.size() && is_letter_a_to_j(t[i])) found = t[i];
      }
    }
    if (found) return found;
    if (line_end == t.size()) break;
    line_start = line_end + 1;
  }
  return std::nullopt;
}

// L3: the last A..J with a word boundary (Unicode `\w`) on both sides.
inline std::optional<char> match_last_standalone_letter(std::string_view t) {
  for (std::size_t p = t.size(); p-- > 0;) {
    if (is_letter_a_to_j(t[p]) && py::word_boundary(t, p) && py::word_boundary(t, p + 1)) return t[p];
  }
  return std::nullopt;
}

struct Extraction {
  std::optional<char> letter;
  std::string rule;  // "answer_is", "answer_colon", "last_letter" or "none"
};

inline Extraction extract(std::string_view response, bool remove_bold = true) {
  const std::string text = remove_bold ? py::replace_all(response, "**", "") : std::string(response);
  if (auto l = match_answer_is(text)) return {l, "answer_is"};
  if (auto l = match_answer_colon(text)) return {l, "answer_colon"};
  if (auto l = match_last_standalone_letter(text)) return {l, "last_letter"};
  return {std::nullopt, "none"};
}

inline AnswerScore score_answer(std::string_view answer, const std::string& gold, bool remove_bold = true) {
  const Extraction e = extract(answer, remove_bold);
  AnswerScore s;
  s.detail["rule"] = e.rule;
  if (e.letter) {
    s.extracted = std::string(1, *e.letter);
    s.correct = s.extracted.get<std::string>() == gold;
  } else {
    s.fallback_random = true;
  }
  return s;
}

// ---- the benchmark ----------------------------------------------------------------------------

struct Options {
  std::string data_dir;
  int shots = 5;            // 5 (official CoT) or 0
  PromptStyle style = PromptStyle::api;
};

class MmluPro : public Benchmark {
 public:
  explicit MmluPro(Options opt) : opt_(std::move(opt)) {
    if (opt_.shots < 0 || opt_.shots > 5) throw std::invalid_argument("mmlu_pro: --shots must be 0..5");
    for (const auto& [row, where] : read_jsonl(opt_.data_dir + "/test.jsonl")) {
      Question q = parse_row(row, where);
      EvalItem item;
      item.id = std::to_string(q.question_id);
      item.category = q.category;
      item.gold = q.answer;
      questions_.push_back(std::move(q));
      items_.push_back(std::move(item));
    }
    if (opt_.shots > 0) {
      for (const auto& [row, where] : read_jsonl(opt_.data_dir + "/validation.jsonl")) {
        Question q = parse_row(row, where);
        if (q.cot_content.empty()) throw DataError(where, "cot_content", "few-shot example without a worked answer");
        shots_[q.category].push_back(std::move(q));
      }
      for (const auto& q : questions_)
        if (shots_[q.category].size() < static_cast<std::size_t>(opt_.shots))
          throw DataError(opt_.data_dir + "/validation.jsonl", "category",
                          "fewer than " + std::to_string(opt_.shots) + " examples for category '" + q.category + "'");
    }
    for (std::size_t i = 0; i < items_.size(); ++i) index_[items_[i].id] = i;
  }

  std::string name() const override { return "mmlu_pro"; }
  const std::vector<EvalItem>& items() const override { return items_; }
  nlohmann::json settings() const override {
    return {{"shots", opt_.shots},
            {"prompt_style", opt_.style == PromptStyle::api ? "api" : "local"},
            {"extraction", opt_.style == PromptStyle::api
                               ? "evaluate_from_api.py: remove '**'; L1 answer is (X); L2 Answer: X; L3 last letter"
                               : "evaluate_from_local.py: L1 answer is (X); L2 Answer: X; L3 last letter"}};
  }
  SamplePrompt prompt(const EvalItem& item, int) const override {
    const Question& q = questions_.at(index_.at(item.id));
    std::vector<Question> shots;
    if (opt_.shots > 0) {
      const auto& pool = shots_.at(q.category);
      shots.assign(pool.begin(), pool.begin() + opt_.shots);  // the first k of the category
    }
    SamplePrompt p;
    p.messages.push_back(text_message("user", build_prompt(q, shots, opt_.style)));
    p.gold = q.answer;
    p.num_choices = static_cast<int>(q.options.size());
    return p;
  }
  AnswerScore score(const EvalItem&, const SamplePrompt& p, const std::string& answer) const override {
    // evaluate_from_local.py extracts from the raw text; only the API script removes "**".
    return score_answer(answer, p.gold.get<std::string>(), opt_.style == PromptStyle::api);
  }

 private:
  Options opt_;
  std::vector<Question> questions_;
  std::vector<EvalItem> items_;
  std::map<std::string, std::vector<Question>> shots_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace gemma4::eval::mmlu_pro
