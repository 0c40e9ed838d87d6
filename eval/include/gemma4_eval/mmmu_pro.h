// MMMU-Pro (MMMU/MMMU_Pro): data, prompts (standard 10-option and vision settings) and the
// official answer parser.
//
// Official code: MMMU-Benchmark/MMMU @ bb0b95a9, mmmu-pro/{prompts.yaml, infer/infer_gpt.py,
// evaluate.py}. Protocol notes: evaluation-protocols.md §6.
//
// Data (tools/fetch_datasets writes it from the HF parquet files; images become files next to it):
//   <dir>/standard10.jsonl: id, question, options, explanation, image_1..image_7, img_type, answer,
//                          topic_difficulty, subject
//   <dir>/vision.jsonl:     id, image, options, answer, subject
// `options` is what the dataset stores: a string holding a Python list literal (a JSON array is
// accepted too). Image fields hold a path relative to the JSONL file (null when absent); the
// bytes are sent as they are, as an OpenAI image_url part with a base64 data URL.
#pragma once

#include "gemma4_eval/benchmark.h"
#include "gemma4_eval/dataset_io.h"
#include "gemma4_eval/python_text.h"

#include <map>
#include <string>
#include <vector>

namespace gemma4::eval::mmmu_pro {

// prompts.yaml, cot.
inline constexpr std::string_view kStandardCot =
    "Answer the preceding multiple choice question. The last line of your response should be of the following "
    "format: 'Answer: $LETTER' (without quotes) where LETTER is one of options. Think step by step before "
    "answering.";
inline constexpr std::string_view kVisionCot =
    "Write out the multiple-choice question in the image and then solve it. The last line of your response "
    "should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of options. "
    "Think step by step before answering.";

// ---- the options field: ast.literal_eval of a list of strings -------------------------------

inline std::vector<std::string> parse_python_string_list(std::string_view s, const std::string& where) {
  auto fail = [&](const std::string& why) -> std::vector<std::string> { throw DataError(where, "options", why); };
  std::vector<std::string> out;
  std::size_t i = 0;
  auto skip_ws = [&] { while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i; };
  skip_ws();
  if (i >= s.size() || s[i] != '[') return fail("expected a Python list literal");
  ++i;
  while (true) {
    skip_ws();
    if (i < s.size() && s[i] == ']') break;
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) return fail("expected a quoted string");
    const char quote = s[i++];
    std::string item;
    while (true) {
      if (i >= s.size()) return fail("unterminated string");
      const char c = s[i++];
      if (c == quote) break;
      if (c != '\\') {
        item += c;
        continue;
      }
      if (i >= s.size()) return fail("dangling backslash");
      const char e = s[i++];
      switch (e) {
        case 'n': item += '\n'; break;
        case 't': item += '\t'; break;
        case 'r': item += '\r'; break;
        case '\\': case '\'': case '"': item += e; break;
        case '\n': break;
        case 'x': case 'u': case 'U': {
          const std::size_t len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + len > s.size()) return fail("short escape");
          py::append_utf8(item, static_cast<std::uint32_t>(std::stoul(std::string(s.substr(i, len)), nullptr, 16)));
          i += len;
          break;
        }
        default: item += '\\'; item += e;  // Python keeps unknown escapes verbatim
      }
    }
    out.push_back(std::move(item));
    skip_ws();
    if (i < s.size() && s[i] == ',') { ++i; continue; }
    skip_ws();
    if (i < s.size() && s[i] == ']') break;
    return fail("expected ',' or ']'");
  }
  return out;
}

inline std::vector<std::string> parse_options(const nlohmann::json& v, const std::string& where) {
  if (v.is_array()) return v.get<std::vector<std::string>>();
  if (v.is_string()) return parse_python_string_list(v.get<std::string>(), where);
  throw DataError(where, "options", "expected a list or a string holding a Python list");
}

// ---- images ---------------------------------------------------------------------------------

inline std::string base64(std::string_view bytes) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? table[n & 63] : '=';
  }
  return out;
}

inline std::string image_mime(std::string_view b, const std::string& path) {
  if (b.substr(0, 8) == "\x89PNG\r\n\x1a\n") return "image/png";
  if (b.substr(0, 3) == "\xff\xd8\xff") return "image/jpeg";
  if (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a") return "image/gif";
  if (b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return "image/webp";
  if (b.substr(0, 2) == "BM") return "image/bmp";
  throw std::runtime_error(path + ": not a PNG, JPEG, GIF, WebP or BMP image");
}

inline nlohmann::json image_part(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  return {{"type", "image_url"},
          {"image_url", {{"url", "data:" + image_mime(bytes, path) + ";base64," + base64(bytes)}}}};
}

// infer_gpt.py replace_images_tokens(): every `<image\s+N>` mention in order (repeats included),
// each replaced by "<image>".
inline std::pair<std::string, std::vector<int>> replace_image_tokens(std::string_view s) {
  std::string out;
  std::vector<int> order;
  std::size_t pos = 0;
  for (std::size_t p = s.find("<image"); p != std::string_view::npos; p = s.find("<image", p + 1)) {
    if (p < pos) continue;
    std::size_t i = p + 6, ws = i;
    while (i < s.size() && py::is_space(py::decode_at(s, i).value)) i = py::decode_at(s, i).end;
    if (i == ws) continue;
    const std::size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits || i >= s.size() || s[i] != '>') continue;
    order.push_back(std::stoi(std::string(s.substr(digits, i - digits))));
    out.append(s.substr(pos, p - pos));
    out += "<image>";
    pos = i + 1;
  }
  out.append(s.substr(pos));
  return {out, order};
}

// ---- the official parser: evaluate.py parse_multi_choice_response -------------------------------

struct Extraction {
  std::optional<std::string> letter;
  std::string rule;  // "after_answer", "bracket", "letter_space", "letter_dot", "option_text", "none"
};

// `match_option_text` false: only letters are known (no option texts), so step 2's last rule is off.
inline Extraction extract(std::string_view raw, const std::vector<std::string>& options, bool match_option_text = true) {
  std::vector<std::string> choices;
  for (std::size_t i = 0; i < options.size(); ++i) choices.emplace_back(1, static_cast<char>('A' + i));
  // 1. After the last "Answer:", a unique letter that occurs anywhere in the rest.
  if (const std::size_t last = raw.rfind("Answer:"); last != std::string_view::npos) {
    const std::string_view rest = py::strip(raw.substr(last + 7));
    std::vector<std::string> hits;
    for (const auto& c : choices)
      if (rest.find(c) != std::string_view::npos) hits.push_back(c);
    if (hits.size() == 1) return {hits[0], "after_answer"};
  }
  // 2. Strip these characters from both ends, one character kind after another, then pad.
  std::string_view trimmed = raw;
  for (char c : {',', '.', '!', '?', ';', ':', '\''}) trimmed = py::strip_chars(trimmed, std::string_view(&c, 1));
  const std::string response = " " + std::string(trimmed) + " ";
  std::vector<std::string> candidates;
  bool index_answer = true, with_brackets = false;
  for (const auto& c : choices)
    if (response.find("(" + c + ")") != std::string::npos) {
      candidates.push_back(c);
      with_brackets = true;
    }
  std::string rule = "bracket";
  if (candidates.empty()) {
    rule = "letter_space";
    for (const auto& c : choices)
      if (response.find(c + " ") != std::string::npos) candidates.push_back(c);
  }
  if (candidates.empty()) {
    rule = "letter_dot";
    for (const auto& c : choices)
      if (response.find(c + ".") != std::string::npos) candidates.push_back(c);
  }
  if (candidates.empty() && match_option_text && py::count_split_words(response) > 5) {
    rule = "option_text";
    const std::string low = py::lower(response);
    for (std::size_t i = 0; i < options.size(); ++i)
      if (low.find(py::lower(options[i])) != std::string::npos) {
        candidates.push_back(choices[i]);
        index_answer = false;
      }
  }
  if (candidates.empty()) return {std::nullopt, "none"};  // official: random.choice(all_choices)
  if (candidates.size() == 1) return {candidates[0], rule};
  // Several: the one whose marker occurs last (np.argmax keeps the first of equal positions).
  const std::string low = index_answer ? std::string() : py::lower(response);
  long best = -2;
  std::string pick;
  for (const auto& c : candidates) {
    std::size_t at;
    if (!index_answer) at = low.rfind(py::lower(options[static_cast<std::size_t>(c[0] - 'A')]));
    else if (with_brackets) at = response.rfind("(" + c + ")");
    else at = response.rfind(" " + c + " ");
    const long pos = at == std::string::npos ? -1 : static_cast<long>(at);
    if (pos > best) {
      best = pos;
      pick = c;
    }
  }
  return {pick, rule};
}

inline AnswerScore score_answer(std::string_view answer, const std::string& gold, const std::vector<std::string>& options,
                                bool match_option_text = true) {
  const Extraction e = extract(answer, options, match_option_text);
  AnswerScore s;
  s.detail["rule"] = e.rule;
  if (e.letter) {
    s.extracted = *e.letter;
    s.correct = *e.letter == gold;
  } else {
    s.fallback_random = true;
  }
  return s;
}

// ---- the benchmark ----------------------------------------------------------------------------

enum class Setting { standard10, vision };

struct Options {
  std::string data_dir;
  Setting setting = Setting::standard10;
  bool images_first = true;  // Gemma 4 card: images before text; the reference script sends text first
};

class MmmuPro : public Benchmark {
 public:
  explicit MmmuPro(Options opt) : opt_(std::move(opt)) {
    const std::string file = opt_.data_dir + (opt_.setting == Setting::vision ? "/vision.jsonl" : "/standard10.jsonl");
    for (const auto& [row, where] : read_jsonl(file)) {
      EvalItem item;
      item.id = require<std::string>(row, "id", where);
      item.gold = require<std::string>(row, "answer", where);
      item.category = row.value("subject", std::string());
      const auto options = parse_options(row.at("options"), where);
      if (options.empty() || options.size() > 26) throw DataError(where, "options", "expected 1..26 options");
      item.data["options"] = options;
      if (opt_.setting == Setting::vision) {
        item.data["images"] = nlohmann::json::array({require<std::string>(row, "image", where)});
      } else {
        item.data["question"] = require<std::string>(row, "question", where);
        nlohmann::json images = nlohmann::json::object();
        for (int k = 1; k <= 7; ++k) {
          const std::string f = "image_" + std::to_string(k);
          if (row.contains(f) && row[f].is_string()) images[f] = row[f];
        }
        item.data["images"] = images;
      }
      items_.push_back(std::move(item));
    }
  }
  std::string name() const override { return "mmmu_pro"; }
  const std::vector<EvalItem>& items() const override { return items_; }
  nlohmann::json settings() const override {
    return {{"setting", opt_.setting == Setting::vision ? "vision" : "standard (10 options)"},
            {"prompt", "cot"},
            {"images_first", opt_.images_first},
            {"extraction", "mmmu-pro/evaluate.py parse_multi_choice_response"}};
  }
  SamplePrompt prompt(const EvalItem& item, int) const override {
    const auto options = item.data.at("options").get<std::vector<std::string>>();
    std::string text;
    std::vector<std::string> image_paths;
    if (opt_.setting == Setting::vision) {
      text = kVisionCot;
      image_paths.push_back(item.data.at("images")[0].get<std::string>());
    } else {
      std::string q = item.data.at("question").get<std::string>() + "\n";
      for (std::size_t i = 0; i < options.size(); ++i)
        q += std::string(i ? "\n" : "") + static_cast<char>('A' + i) + ". " + options[i];
      q += "\n" + std::string(kStandardCot);
      auto [replaced, order] = replace_image_tokens(q);
      text = std::move(replaced);
      for (int k : order) {
        const std::string f = "image_" + std::to_string(k);
        if (!item.data.at("images").contains(f))
          throw DataError("mmmu_pro item " + item.id, f, "mentioned in the question but absent");
        image_paths.push_back(item.data["images"][f].get<std::string>());
      }
    }
    const std::string base = opt_.data_dir + "/";
    nlohmann::json parts = nlohmann::json::array();
    nlohmann::json text_part = {{"type", "text"}, {"text", text}};
    if (!opt_.images_first) parts.push_back(text_part);
    for (const auto& path : image_paths) parts.push_back(image_part(base + path));
    if (opt_.images_first) parts.push_back(text_part);
    SamplePrompt p;
    ChatMessage m;
    m.role = "user";
    m.content = text;
    m.content_parts = std::move(parts);
    p.messages.push_back(std::move(m));
    p.gold = item.gold;
    p.num_choices = static_cast<int>(options.size());
    p.record["images"] = image_paths.size();
    return p;
  }
  AnswerScore score(const EvalItem& item, const SamplePrompt& p, const std::string& answer) const override {
    return score_answer(answer, p.gold.get<std::string>(), item.data.at("options").get<std::vector<std::string>>());
  }

 private:
  Options opt_;
  std::vector<EvalItem> items_;
};

}  // namespace gemma4::eval::mmmu_pro
