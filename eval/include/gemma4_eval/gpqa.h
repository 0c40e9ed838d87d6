// GPQA Diamond (Idavidrein/gpqa, config gpqa_diamond): data, prompt and official extraction.
//
// Official code: openai/simple-evals @ ee3b0318 (gpqa_eval.py, common.py). Protocol notes:
// evaluation-protocols.md §5. The data is gated with a request not to publish it: nothing from
// it is ever committed, and question text is never printed in logs or reports.
//
// Data: <dir>/gpqa_diamond.jsonl, one row per line with the CSV's column names:
//   "Question", "Correct Answer", "Incorrect Answer 1".."Incorrect Answer 3", "Record ID",
//   "High-level domain", "Subdomain", "Canary String", ... (other columns are kept untouched).
#pragma once

#include "gemma4_eval/benchmark.h"
#include "gemma4_eval/dataset_io.h"
#include "gemma4_eval/python_text.h"

#include <array>
#include <map>
#include <string>
#include <vector>

namespace gemma4::eval::gpqa {

struct Question {
  std::string record_id;
  std::string question;
  std::array<std::string, 4> choices;  // [correct, incorrect 1, incorrect 2, incorrect 3]
  std::string domain;
};

inline Question parse_row(const nlohmann::json& row, const std::string& where) {
  Question q;
  q.record_id = require<std::string>(row, "Record ID", where);
  q.question = require<std::string>(row, "Question", where);
  q.choices[0] = require<std::string>(row, "Correct Answer", where);
  for (int i = 1; i <= 3; ++i) q.choices[i] = require<std::string>(row, "Incorrect Answer " + std::to_string(i), where);
  q.domain = row.value("High-level domain", std::string());
  return q;
}

// ---- the per-sample shuffle ----------------------------------------------------------------
// Two ways, both seeded and recorded with every sample:
//   simple_evals  exactly simple-evals' permutations: gpqa_eval.py draws
//                 `random.Random(seed).sample(range(4), 4)` once per example of `rows * repeats`,
//                 so sample s of row r gets draw number s * rows + r (seed 0 is simple-evals').
//   per_item      a permutation from (seed, Record ID, sample) only, independent of the row order
//                 and of the number of rows (useful for subsets).

// CPython's random.Random(n) for 0 <= n < 2^32: MT19937 seeded by init_by_array({n}), and the
// getrandbits/_randbelow/sample steps Python 3.11 uses for sample(range(4), 4).
class PythonRandom {
 public:
  explicit PythonRandom(std::uint32_t seed) {
    init_genrand(19650218u);
    const std::uint32_t key[1] = {seed};
    std::size_t i = 1, j = 0;
    for (std::size_t k = kN; k > 0; --k) {  // init_by_array with a one-word key
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[j] + static_cast<std::uint32_t>(j);
      if (++i >= kN) { mt_[0] = mt_[kN - 1]; i = 1; }
      if (++j >= 1) j = 0;
    }
    for (std::size_t k = kN - 1; k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - static_cast<std::uint32_t>(i);
      if (++i >= kN) { mt_[0] = mt_[kN - 1]; i = 1; }
    }
    mt_[0] = 0x80000000u;
  }
  std::uint32_t next_u32() {
    if (index_ >= kN) twist();
    std::uint32_t y = mt_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
  }
  // _randbelow_with_getrandbits(n): getrandbits(n.bit_length()) until below n.
  std::uint32_t randbelow(std::uint32_t n) {
    int k = 0;
    while ((n >> k) != 0) ++k;
    std::uint32_t r;
    do r = next_u32() >> (32 - k); while (r >= n);
    return r;
  }
  // sample(range(4), 4): the pool method (4 <= setsize 21).
  std::array<int, 4> sample4() {
    std::array<int, 4> pool{0, 1, 2, 3}, out{};
    for (int i = 0; i < 4; ++i) {
      const auto j = randbelow(static_cast<std::uint32_t>(4 - i));
      out[i] = pool[j];
      pool[j] = pool[3 - i];
    }
    return out;
  }

 private:
  static constexpr std::size_t kN = 624;
  void init_genrand(std::uint32_t s) {
    mt_[0] = s;
    for (std::size_t i = 1; i < kN; ++i)
      mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
    index_ = kN;
  }
  void twist() {
    for (std::size_t i = 0; i < kN; ++i) {
      const std::uint32_t y = (mt_[i] & 0x80000000u) | (mt_[(i + 1) % kN] & 0x7fffffffu);
      mt_[i] = mt_[(i + 397) % kN] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
    index_ = 0;
  }
  std::array<std::uint32_t, kN> mt_{};
  std::size_t index_ = kN;
};

// Draw number `index` of simple-evals' permutation stream.
inline std::array<int, 4> simple_evals_permutation(std::uint32_t seed, std::size_t index) {
  PythonRandom rng(seed);
  std::array<int, 4> p{};
  for (std::size_t k = 0; k <= index; ++k) p = rng.sample4();
  return p;
}

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// permutation[i] = which original choice is shown at letter i (0 = the correct answer).
inline std::array<int, 4> per_item_permutation(std::uint64_t seed, const std::string& record_id, int sample) {
  std::uint64_t state = sample_seed(seed, "gpqa/" + record_id, sample);
  std::array<int, 4> p{0, 1, 2, 3};
  for (int i = 3; i > 0; --i) {  // Fisher-Yates
    const int j = static_cast<int>(splitmix64(state) % static_cast<std::uint64_t>(i + 1));
    std::swap(p[i], p[j]);
  }
  return p;
}

// common.QUERY_TEMPLATE_MULTICHOICE, filled as format_multichoice_question() does.
inline std::string build_prompt(const std::string& question, const std::array<std::string, 4>& shown) {
  return "Answer the following multiple choice question. The last line of your response should be of the "
         "following format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by "
         "step before answering.\n\n" +
         question + "\n\nA) " + shown[0] + "\nB) " + shown[1] + "\nC) " + shown[2] + "\nD) " + shown[3];
}

// ---- the official extraction ------------------------------------------------------------------
// re.search(r"(?i)Answer[ \t]*:[ \t]*\$?([A-D])\$?", response): the FIRST match, case-insensitive
// (so "answer: b" extracts "b", which then does not equal "B"), no word boundary (so
// "Answer: Because" extracts "B"). Under IGNORECASE Python also lets 's' match U+017F 'ſ'.
// No match scores 0; simple-evals does not guess.

// Matches "answer" case-insensitively at byte p; returns the end offset or npos.
inline std::size_t match_answer_word(std::string_view t, std::size_t p) {
  constexpr std::string_view word = "answer";
  for (char w : word) {
    if (p >= t.size()) return std::string_view::npos;
    const char c = static_cast<char>(t[p] | 0x20);
    if (c == w && (t[p] & 0x80) == 0) {
      ++p;
    } else if (w == 's' && t.substr(p, 2) == "\xC5\xBF") {  // U+017F LATIN SMALL LETTER LONG S
      p += 2;
    } else {
      return std::string_view::npos;
    }
  }
  return p;
}

// All matches in order (the official scorer uses the first).
inline std::vector<char> find_answer_letters(std::string_view t) {
  std::vector<char> out;
  auto blank = [&](std::size_t i) { return i < t.size() && (t[i] == ' ' || t[i] == '\t'); };
  for (std::size_t p = 0; p < t.size(); ++p) {
    std::size_t i = match_answer_word(t, p);
    if (i == std::string_view::npos) continue;
    while (blank(i)) ++i;
    if (i >= t.size() || t[i] != ':') continue;
    ++i;
    while (blank(i)) ++i;
    if (i < t.size() && t[i] == '$') ++i;
    if (i < t.size() && ((t[i] >= 'A' && t[i] <= 'D') || (t[i] >= 'a' && t[i] <= 'd'))) {
      out.push_back(t[i]);
      p = i;  // matches do not overlap
    }
  }
  return out;
}

inline AnswerScore score_answer(std::string_view answer, const std::string& gold) {
  const std::vector<char> letters = find_answer_letters(answer);
  AnswerScore s;
  if (!letters.empty()) {
    s.extracted = std::string(1, letters.front());
    s.correct = s.extracted.get<std::string>() == gold;
    // The recommended variant (last match) is recorded for comparison, not scored.
    s.detail["last_match"] = std::string(1, letters.back());
  }
  return s;
}

// ---- the benchmark ----------------------------------------------------------------------------

enum class Shuffle { simple_evals, per_item };

struct Options {
  std::string data_file;
  std::uint64_t shuffle_seed = 0;
  Shuffle shuffle = Shuffle::simple_evals;
};

class Gpqa : public Benchmark {
 public:
  explicit Gpqa(Options opt) : opt_(std::move(opt)) {
    for (const auto& [row, where] : read_jsonl(opt_.data_file)) {
      Question q = parse_row(row, where);
      EvalItem item;
      item.id = q.record_id;
      item.category = q.domain;
      item.gold = "A";  // before shuffling the correct answer is choice 0
      if (index_.count(item.id)) throw DataError(where, "Record ID", "duplicate id " + item.id);
      index_[item.id] = questions_.size();
      questions_.push_back(std::move(q));
      items_.push_back(std::move(item));
    }
  }
  std::string name() const override { return "gpqa"; }
  const std::vector<EvalItem>& items() const override { return items_; }
  nlohmann::json settings() const override {
    return {{"shuffle_seed", opt_.shuffle_seed},
            {"shuffle", opt_.shuffle == Shuffle::simple_evals ? "simple-evals" : "per-item"},
            {"extraction", "simple-evals ANSWER_PATTERN_MULTICHOICE, first match"}};
  }
  SamplePrompt prompt(const EvalItem& item, int sample) const override {
    const std::size_t row = index_.at(item.id);
    const Question& q = questions_.at(row);
    const auto perm = opt_.shuffle == Shuffle::simple_evals
                          ? simple_evals_permutation(static_cast<std::uint32_t>(opt_.shuffle_seed),
                                                     static_cast<std::size_t>(sample) * questions_.size() + row)
                          : per_item_permutation(opt_.shuffle_seed, q.record_id, sample);
    std::array<std::string, 4> shown;
    int correct_letter = 0;
    for (int i = 0; i < 4; ++i) {
      shown[i] = q.choices[perm[i]];
      if (perm[i] == 0) correct_letter = i;
    }
    SamplePrompt p;
    p.messages.push_back(text_message("user", build_prompt(q.question, shown)));
    p.gold = std::string(1, static_cast<char>('A' + correct_letter));
    p.record["permutation"] = perm;  // letter i shows choice perm[i]; 0 is the correct answer
    p.num_choices = 4;
    return p;
  }
  AnswerScore score(const EvalItem&, const SamplePrompt& p, const std::string& answer) const override {
    return score_answer(answer, p.gold.get<std::string>());
  }

 private:
  Options opt_;
  std::vector<Question> questions_;
  std::vector<EvalItem> items_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace gemma4::eval::gpqa
