// AIME 2026 (MathArena/aime_2026): data, prompt, MathArena's answer parser and last-chance
// re-prompt.
//
// Official code: eth-sri/matharena @ e9276603 (configs/competitions/aime/aime_2026.yaml,
// src/matharena/parser.py extract_answer/parse_answer/check_answers, src/matharena/runner.py,
// src/matharena/grader.py extract_and_grade). Protocol notes: evaluation-protocols.md §3.
//
// Data: <dir>/aime_2026.jsonl with problem_idx:int, problem:str, answer:int (0..999). The
// problems are MAA material under CC BY-NC-SA 4.0 and are never committed here.
//
// What is ported of parser.extract_answer(text, strict_parsing=False):
//   replace_unicode -> the last `(boxed|fbox){...}` with balanced braces (the `regex` module's
//   recursive pattern, as a depth scanner) -> remove_inner_boxed -> int() -> else
//   parse_answer(): remove_invalid_characters, normalize_string, remove_outer_brackets and
//   ParseList/ParsePrimitive (int, float, and the sympy path in matharena_sympy.h: sympify of
//   the rewritten LaTeX, else parse_latex + simplify; a LaTeX syntax error gives None); with no
//   box (or None), the last `\b\d+\b`. check_answers compares numerically with 1e-10 tolerance.
//   The parts of the sympy path not reproduced are listed in matharena_sympy.h; they are reported
//   as {"expression": ..., "port_gap": ...} and counted incorrect.
//
// parse_manual.py is deliberately not applied. Its two tables map byte-exact strings to fixes:
// manual_mapper keys are box contents and complete_mapper keys whole responses, each copied from
// a past MathArena run of another model on another competition (matrix-environment renderings of
// \frac{5\sqrt{3}}{2}..., an HMMT operator problem, GLM's <|begin_of_box|> markers). They are
// consulted for every competition, but a Gemma 4 AIME 2026 answer equal to one of those strings
// byte for byte is not a realistic event, and reproducing them would mean copying their text.
#pragma once

#include "gemma4_eval/benchmark.h"
#include "gemma4_eval/dataset_io.h"
#include "gemma4_eval/matharena_sympy.h"
#include "gemma4_eval/python_text.h"

#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gemma4::eval::aime {

// configs/competitions/aime/aime_2026.yaml `instruction`, after str.format_map turned "{{}}" into
// "{}", then runner.py appends "\n\n{problem}".
inline constexpr std::string_view kInstruction =
    "Put your final answer within \\boxed{}.\nThe answer is an integer between 0 and 999 inclusive.";

// runner.py _build_last_chance_prompt(None), with every line stripped as it does.
inline constexpr std::string_view kLastChancePrompt =
    "\nYour last message does not provide a final answer in a way that follows the formatting instructions.\n"
    "Please based on the conversation history, report the final answer again within \\boxed{}.\n"
    "If you did not find the answer, please use \\boxed{None}.\n"
    "Do not reason about the problem again or use tools, simply try to extract the final answer from the "
    "previous reasoning.\n"
    "Boxed answers in thinking/reasoning stages will be ignored; only the final response message is considered.\n";

inline std::string build_prompt(const std::string& problem) { return std::string(kInstruction) + "\n\n" + problem; }

// ---- values the parser produces -----------------------------------------------------------

// A SymPy object or Python complex MathArena compares numerically (`numeric`), or one it cannot
// (free symbols, zoo, lists: no `numeric`); `port_gap` names what this port does not evaluate.
struct Expression {
  std::string text;
  std::optional<std::complex<long double>> numeric;
  std::string port_gap;
};
// A non-integer sympy Rational: exact up to 127 bits, otherwise only its long double value.
struct RationalValue {
  sympy_path::i128 num, den;
  std::optional<long double> approx;  // set when num/den are not known
};
// An integer beyond int64: exact up to 127 bits, otherwise only its long double value.
struct BigInteger {
  long double approx;
  std::optional<sympy_path::i128> exact;
};
struct NoneValue {};                                  // ParsePrimitive returned None
struct ValueList;
using Value = std::variant<long long, double, Expression, std::shared_ptr<ValueList>, RationalValue, BigInteger, NoneValue>;
struct ValueList { std::vector<Value> items; };

inline nlohmann::json to_json(const Value& v) {
  if (auto* i = std::get_if<long long>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* r = std::get_if<RationalValue>(&v)) {
    if (r->approx) {
      char approx[64];
      std::snprintf(approx, sizeof approx, "~%.18Le", *r->approx);
      return {{"rational", std::string(approx)}};
    }
    return {{"rational", sympy_path::to_string(r->num) + "/" + sympy_path::to_string(r->den)}};
  }
  if (auto* b = std::get_if<BigInteger>(&v)) {
    if (b->exact) return {{"big_integer", sympy_path::to_string(*b->exact)}};
    char approx[64];
    std::snprintf(approx, sizeof approx, "~%.18Le", b->approx);  // digits beyond 127 bits are not kept
    return {{"big_integer", std::string(approx)}};
  }
  if (std::holds_alternative<NoneValue>(v)) return nullptr;
  if (auto* e = std::get_if<Expression>(&v)) {
    nlohmann::json out = {{"expression", e->text}};
    if (!e->port_gap.empty()) out["port_gap"] = e->port_gap;
    return out;
  }
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& x : std::get<std::shared_ptr<ValueList>>(v)->items) arr.push_back(to_json(x));
  return {{"list", arr}};
}

// ---- Python int() and float() on a string -----------------------------------------------------

// int(s): optional whitespace, sign, Unicode decimal digits with single '_' between digits.
inline std::optional<long long> python_int(std::string_view s) {
  s = py::strip(s);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  long long value = 0;
  bool last_was_digit = false;
  int digits = 0;
  for (std::size_t i = 0; i < s.size();) {
    const py::CodePoint cp = py::decode_at(s, i);
    i = cp.end;
    if (cp.value == '_') {
      if (!last_was_digit) return std::nullopt;
      last_was_digit = false;
      continue;
    }
    const int d = py::is_decimal(cp.value) ? py::decimal_value(cp.value) : -1;
    if (d < 0) return std::nullopt;
    if (++digits > 18 && value != 0) return std::nullopt;  // beyond int64: out of scope for AIME
    value = value * 10 + d;
    last_was_digit = true;
  }
  if (!last_was_digit) return std::nullopt;
  return negative ? -value : value;
}

// float(s) for ASCII decimal/scientific literals, inf and nan.
inline std::optional<double> python_float(std::string_view s) {
  s = py::strip(s);
  std::string t;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {  // only between digits
      if (i == 0 || i + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1])))
        return std::nullopt;
      continue;
    }
    t += s[i];
  }
  std::string low = py::lower(t);
  std::string_view body = low;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
  if (body == "inf" || body == "infinity" || body == "nan") return std::strtod(t.c_str(), nullptr);
  // [digits][.digits][e[+-]digits] with at least one digit in the mantissa
  std::size_t i = 0, mant = 0;
  while (i < body.size() && std::isdigit(static_cast<unsigned char>(body[i]))) ++i, ++mant;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && std::isdigit(static_cast<unsigned char>(body[i]))) ++i, ++mant;
  }
  if (mant == 0) return std::nullopt;
  if (i < body.size() && body[i] == 'e') {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < body.size() && std::isdigit(static_cast<unsigned char>(body[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != body.size()) return std::nullopt;
  return std::strtod(t.c_str(), nullptr);
}

// ---- boxes ----------------------------------------------------------------------------------

struct BoxMatch {
  std::size_t begin, end;   // the whole match
  std::string content;      // group 2
};

// regex.finditer(r"(<prefix>)\{((?:[^{}]|\{(?2)\})*)\}", text) for the given prefixes: a match
// ends at the first '}' that closes the opening brace; an unclosed box does not match and the
// search resumes one character later. Matches do not overlap.
inline std::vector<BoxMatch> find_boxes(std::string_view t, std::initializer_list<std::string_view> prefixes) {
  std::vector<BoxMatch> out;
  std::size_t p = 0;
  while (p < t.size()) {
    std::size_t open = std::string_view::npos;
    for (std::string_view prefix : prefixes)
      if (t.substr(p, prefix.size()) == prefix && p + prefix.size() < t.size() && t[p + prefix.size()] == '{')
        open = p + prefix.size();
    if (open == std::string_view::npos) {
      ++p;
      continue;
    }
    int depth = 0;
    std::size_t close = std::string_view::npos;
    for (std::size_t i = open; i < t.size(); ++i) {
      if (t[i] == '{') ++depth;
      else if (t[i] == '}' && --depth == 0) {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) {
      ++p;
      continue;
    }
    out.push_back({p, close + 1, std::string(t.substr(open + 1, close - open - 1))});
    p = close + 1;
  }
  return out;
}

// remove_inner_boxed(): every `\boxed{x}`/`\fbox{x}` match (found once, on the original string)
// is replaced, with str.replace (all occurrences), by its content.
inline std::string remove_inner_boxed(std::string s) {
  const auto matches = find_boxes(s, {"\\boxed", "\\fbox"});
  const std::string original = s;
  for (const auto& m : matches) s = py::replace_all(s, std::string_view(original).substr(m.begin, m.end - m.begin), m.content);
  return s;
}

inline std::string replace_unicode(std::string t) {
  t = py::replace_all(t, "\u23a7", "\\boxed{");
  t = py::replace_all(t, "\u23ab", "}");
  t = py::replace_all(t, "\n\u2502", "\\boxed{");
  t = py::replace_all(t, "\u2502", "}");
  t = py::replace_all(t, "\n\u2503", "\\boxed{");
  t = py::replace_all(t, "\u2503", "}");
  t = py::replace_all(t, "\n\uf8f0", "\\boxed{");
  t = py::replace_all(t, "\uf8fb", "}");
  t = py::replace_all(t, "\u221a", "\\sqrt");
  t = py::replace_all(t, "\u00d7", "\\cdot");
  t = py::replace_all(t, "\u202f", " ");
  t = py::replace_all(t, "\u2212", "-");
  t = py::replace_all(t, "\u03c0", "\\pi");
  return t;
}

// ---- parse_answer's string clean-up -----------------------------------------------------------

// re.sub(r"<open>(.*?)<close>", f, s) where `.` excludes '\n' unless dotall.
template <typename F>
std::string sub_lazy(std::string_view s, std::string_view open, std::string_view close, bool dotall, F replace) {
  std::string out;
  std::size_t pos = 0;
  for (std::size_t p = s.find(open); p != std::string_view::npos; p = s.find(open, p + 1)) {
    if (p < pos) continue;
    const std::size_t body = p + open.size();
    const std::size_t c = s.find(close, body);
    if (c == std::string_view::npos) break;
    if (!dotall && s.substr(body, c - body).find('\n') != std::string_view::npos) continue;
    out.append(s.substr(pos, p - pos));
    out.append(replace(s.substr(body, c - body)));
    pos = c + close.size();
    p = pos - 1;
  }
  out.append(s.substr(pos));
  return out;
}

// parser.strip()
inline std::string matharena_strip(std::string_view in) {
  std::string s(py::strip(in));
  while (py::starts_with(s, "\\n")) s.erase(0, 2);
  while (py::ends_with(s, "\\n")) s.erase(s.size() - 2);
  while (py::starts_with(s, "\\ ")) s.erase(0, 2);
  auto backslashes_then_paren = [](const std::string& x) {  // re.match(r"\\{2,}\n?\(", x)
    std::size_t i = 0;
    while (i < x.size() && x[i] == '\\') ++i;
    if (i < 2) return false;
    if (i < x.size() && x[i] == '\n') ++i;
    return i < x.size() && x[i] == '(';
  };
  while (backslashes_then_paren(s)) s.erase(0, 3);
  return s;
}

// parser.normalize_string(s, list_answer=False)
inline std::string normalize_string(std::string s) {
  for (std::string_view cmd : {"\\left", "\\right", "\\Bigl", "\\Bigr", "\\bigl", "\\bigr", "\\Big", "\\big", "\\Large", "\\large"})
    s = py::replace_all(s, cmd, "");
  // remove_aligns: \begin{align*}...\end{align*} -> its body without '&' and '\\'
  {
    std::string out;
    std::size_t pos = 0;
    while (true) {
      const std::size_t b = s.find("\\begin{align", pos);
      if (b == std::string::npos) break;
      const std::size_t b_end = s.find('}', b + 12);
      if (b_end == std::string::npos) break;
      const std::size_t e = s.find("\\end{align", b_end + 1);
      if (e == std::string::npos) break;
      const std::size_t e_end = s.find('}', e + 10);
      if (e_end == std::string::npos) break;
      out.append(s, pos, b - pos);
      out.append(py::replace_all(py::replace_all(std::string_view(s).substr(b_end + 1, e - b_end - 1), "&", ""), "\\\\", ""));
      pos = e_end + 1;
    }
    out.append(s, pos);
    s = out;
  }
  const std::pair<std::string_view, std::string_view> replacements[] = {
      {"[", "("}, {"]", ")"}, {"\\{", "("}, {"\\}", ")"}, {"$", ""}, {"\\ ", " "}, {"\\hline", ""},
      {"\\vline", ""}, {"\\quad", " "}, {"\u2212", "-"}, {"\u2013", "-"}, {"\u00b7", " \\cdot "},
      {"^\\circ", " "}, {"^{\\circ}", " "}, {"\\displaystyle", ""}, {"\\(", "("}, {"\\)", ")"}, {"{,}", ""}};
  for (const auto& [from, to] : replacements) s = py::replace_all(s, from, to);
  if (py::ends_with(s, ".")) s.pop_back();
  // re.sub(r"(?<=\d),(?=\d)", "", s)
  {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == ',' && i > 0 && i + 1 < s.size() && py::is_decimal(py::decode_before(s, i).value) &&
          py::is_decimal(py::decode_at(s, i + 1).value))
        continue;
      out += s[i];
    }
    s = out;
  }
  s = py::replace_all(s, "{,}", "");
  if (s.find("\\sqrt ") != std::string::npos) {  // re.sub(r"\\sqrt\s*([^\s{}]*)", r"\\sqrt{\1}", s)
    std::string out;
    std::size_t pos = 0;
    for (std::size_t p = s.find("\\sqrt"); p != std::string::npos; p = s.find("\\sqrt", pos)) {
      out.append(s, pos, p - pos);
      std::size_t i = p + 5;
      while (i < s.size() && py::is_space(py::decode_at(s, i).value)) i = py::decode_at(s, i).end;
      const std::size_t arg = i;
      while (i < s.size() && s[i] != '{' && s[i] != '}' && !py::is_space(py::decode_at(s, i).value))
        i = py::decode_at(s, i).end;
      out += "\\sqrt{" + s.substr(arg, i - arg) + "}";
      pos = i;
    }
    out.append(s, pos);
    s = out;
  }
  s = sub_lazy(s, "\\text{", "}", false, [](std::string_view) { return std::string(); });
  s = sub_lazy(s, "\\mathrm{", "}", false, [](std::string_view body) { return " " + std::string(body) + " "; });
  s = py::replace_all(s, "F_{30}", "832040");
  if (const auto eq = s.rfind('='); eq != std::string::npos) s.erase(0, eq + 1);
  if (const auto ap = s.find("\\approx"); ap != std::string::npos) {
    s.erase(ap);
    if (py::ends_with(s, "(")) s.pop_back();
  }
  return matharena_strip(s);
}

inline std::string remove_invalid_characters(std::string s) {
  for (std::string_view cmd : {"\\;", "\\:", "\\,", "\\!"}) s = py::replace_all(s, cmd, "");
  return s;
}

// remove_outer_brackets(): strip "(...)" while the pair encloses the whole string.
inline std::string remove_outer_brackets(std::string s) {
  while (s.size() >= 2 && s.front() == '(' && s.back() == ')') {
    int count = 0;
    bool matched = true;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '(') ++count;
      else if (s[i] == ')') --count;
      if (count == 0 && i != s.size() - 1) {
        matched = false;
        break;
      }
    }
    if (!matched) break;
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

// ---- ParsePrimitive / ParseList -----------------------------------------------------------------

inline bool has_digit(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto cp = py::decode_at(s, i);
    if (py::is_decimal(cp.value)) return true;
    i = cp.end;
  }
  return false;
}

// A value of ParsePrimitive's sympy path in the parser's value types.
inline Value from_sympy_path(const sympy_path::Outcome& o, const std::string& text) {
  using K = sympy_path::Outcome::Kind;
  switch (o.kind) {
    case K::none: return NoneValue{};
    case K::integer:
      if (!o.big && o.num <= std::numeric_limits<long long>::max() && o.num >= std::numeric_limits<long long>::min())
        return static_cast<long long>(o.num);
      if (o.big) return BigInteger{o.value, std::nullopt};
      return BigInteger{static_cast<long double>(o.num), o.num};
    case K::rational:
      if (o.big) return RationalValue{0, 1, o.value};
      return RationalValue{o.num, o.den, std::nullopt};
    case K::floating: return static_cast<double>(o.value);
    case K::other: return Expression{o.str.empty() ? text : o.str, o.numeric, {}};
    case K::list: {
      auto lst = std::make_shared<ValueList>();
      for (const auto& item : o.items) lst->items.push_back(from_sympy_path(item, text));
      return lst;
    }
    case K::gap: break;
  }
  return Expression{text, std::nullopt, o.why};
}

// ParsePrimitive.parse: str.isdigit() -> int; float() -> int if integral else float (float('nan')
// fails int() with ValueError, which ParsePrimitive catches); otherwise the sympy path
// (matharena_sympy.h), which may return None.
inline Value parse_primitive(const std::string& s) {
  bool all_digits = !s.empty();
  for (std::size_t i = 0; i < s.size();) {
    const auto cp = py::decode_at(s, i);
    if (!py::is_decimal(cp.value)) all_digits = false;
    i = cp.end;
  }
  if (all_digits)
    if (auto v = python_int(s)) return *v;
  if (auto f = python_float(s); f && !std::isnan(*f)) {
    if (std::isfinite(*f) && std::floor(*f) == *f && std::fabs(*f) < 9.2e18) return static_cast<long long>(*f);
    return *f;
  }
  return from_sympy_path(sympy_path::parse_expression(s), s);
}

inline std::string join_pieces(const std::vector<std::string>& pieces, std::size_t n, std::string_view delim) {
  std::string out;
  for (std::size_t i = 0; i < n && i < pieces.size(); ++i) {
    if (i) out += delim;
    out += pieces[i];
  }
  return out;
}

inline std::vector<std::string> split_on(const std::string& s, std::string_view delim) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(delim, pos)) != std::string::npos; pos = hit + delim.size())
    out.push_back(s.substr(pos, hit - pos));
  out.push_back(s.substr(pos));
  return out;
}

inline std::size_t count_char(std::string_view s, char c) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), c)); }

// ParseList.parse(string) for a string that starts with '('. Returns nullopt where the official
// code returns None (unparseable).
inline std::optional<std::vector<Value>> parse_list(std::string string, int depth = 0) {
  if (string.empty() || string[0] != '(') return std::nullopt;
  string = std::string(py::strip_chars(py::strip(string), ","));
  {  // never_zero_count(string[:-1])
    int count = 0;
    bool ever_zero = false;
    for (std::size_t i = 0; i + 1 < string.size(); ++i) {
      if (string[i] == '(') ++count;
      if (string[i] == ')') --count;
      if (count == 0) ever_zero = true;
    }
    if (!ever_zero && string.size() >= 2) string = string.substr(1, string.size() - 2);
    else if (!ever_zero) string.clear();
  }
  string = matharena_strip(string);
  std::string_view delim = "\\n";
  for (std::string_view d : {std::string_view("\\n"), std::string_view(",")})
    if (string.find(d) != std::string::npos) {
      delim = d;
      break;
    }
  std::vector<Value> output;
  while (!string.empty()) {
    const std::string previous = string;
    const auto pieces = split_on(string, delim);
    const bool list_at_start = py::starts_with(matharena_strip(string), "(");
    for (int obj = 0; obj < 2; ++obj) {
      const bool is_list = obj == 0 && depth <= 50;
      if (obj == 0 && (!list_at_start || depth > 50)) continue;
      auto complete = [&](const std::string& x) {
        return is_list ? count_char(x, '(') == count_char(x, ')')
                       : count_char(x, '{') == count_char(x, '}') && count_char(x, '(') == count_char(x, ')');
      };
      auto finished = [&](const std::string& x) {
        return is_list ? py::ends_with(py::strip_chars(py::strip(x), ","), ")") : true;
      };
      std::size_t k = 1;
      while (!complete(matharena_strip(join_pieces(pieces, k, delim))) || !finished(matharena_strip(join_pieces(pieces, k, delim)))) {
        ++k;
        if (k >= pieces.size()) break;
      }
      const std::string head = matharena_strip(join_pieces(pieces, k, delim));
      if (!complete(head) || !finished(head)) continue;
      if (is_list) {
        auto sub = parse_list(head, depth + 1);
        if (!sub) return std::nullopt;
        auto lst = std::make_shared<ValueList>();
        lst->items = std::move(*sub);
        output.emplace_back(std::move(lst));
      } else {
        output.push_back(parse_primitive(head));
      }
      std::vector<std::string> rest(pieces.begin() + static_cast<std::ptrdiff_t>(std::min(k, pieces.size())), pieces.end());
      string = matharena_strip(join_pieces(rest, rest.size(), delim));
      break;
    }
    if (previous == string) return std::nullopt;
  }
  return output;
}

inline std::string value_str(const Value& v);

// parse_answer(s): None, a value, or an AnswerList (elements whose str() has no digit dropped).
inline std::optional<Value> parse_answer(std::string s) {
  s = remove_invalid_characters(std::move(s));
  s = remove_outer_brackets(normalize_string(std::move(s)));
  auto output = parse_list("(" + s + ")");
  if (!output) return std::nullopt;
  std::vector<Value> items = std::move(*output);
  if (items.size() == 1) {  // output = output[0]; a list then becomes an AnswerList as well
    if (std::holds_alternative<NoneValue>(items[0])) return std::nullopt;
    auto* inner = std::get_if<std::shared_ptr<ValueList>>(&items[0]);
    if (!inner) return items[0];
    const std::shared_ptr<ValueList> keep = *inner;  // items[0] is overwritten below
    items = keep->items;
  }
  auto lst = std::make_shared<ValueList>();
  for (auto& v : items)
    if (has_digit(value_str(v))) lst->items.push_back(v);
  return Value(lst);
}

inline std::string value_str(const Value& v) {
  if (auto* i = std::get_if<long long>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  if (auto* e = std::get_if<Expression>(&v)) return e->text;
  if (auto* r = std::get_if<RationalValue>(&v)) return sympy_path::to_string(r->num) + "/" + sympy_path::to_string(r->den);
  if (auto* b = std::get_if<BigInteger>(&v)) return std::to_string(static_cast<double>(b->approx));
  if (std::holds_alternative<NoneValue>(v)) return "None";
  std::string out = "[";
  for (const auto& x : std::get<std::shared_ptr<ValueList>>(v)->items) out += value_str(x) + ",";
  return out + "]";
}

// ---- extract_answer ---------------------------------------------------------------------------

struct Extraction {
  std::optional<Value> value;
  std::string rule;  // "boxed_int", "boxed_parsed", "last_integer", "none"
};

inline Extraction extract(std::string_view response, bool strict_parsing = false) {
  if (response.empty()) return {std::nullopt, "none"};
  const std::string text = replace_unicode(std::string(response));
  const auto boxes = find_boxes(text, {"boxed", "fbox"});
  if (!boxes.empty()) {
    const std::string content = remove_inner_boxed(boxes.back().content);
    if (auto i = python_int(content)) return {Value(*i), "boxed_int"};
    std::optional<Value> parsed = parse_answer(content);
    if (parsed) {
      if (auto* lst = std::get_if<std::shared_ptr<ValueList>>(&*parsed); lst && (*lst)->items.size() == 1) {
        const std::shared_ptr<ValueList> keep = *lst;  // `parsed` owns the list it is assigned from
        parsed = keep->items[0];
      }
      return {parsed, "boxed_parsed"};
    }
  }
  if (strict_parsing) return {std::nullopt, "none"};
  // extract_last_integer: regex.finditer(r"\b\d+\b") with the `regex` module's \w and \d; the
  // last match is the last maximal digit run with a `regex` boundary on both sides.
  std::optional<std::size_t> best_begin;
  std::size_t best_end = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto cp = py::decode_at(text, i);
    if (!py::is_regex_digit(cp.value)) {
      i = cp.end;
      continue;
    }
    std::size_t j = cp.end;
    while (j < text.size() && py::is_regex_digit(py::decode_at(text, j).value)) j = py::decode_at(text, j).end;
    if (py::word_boundary(text, i, py::is_regex_word) && py::word_boundary(text, j, py::is_regex_word)) {
      best_begin = i;
      best_end = j;
    }
    i = j;
  }
  if (best_begin) {
    // int() knows only the digits of Python's own Unicode version; failing, the official code
    // returns None.
    if (auto v = python_int(std::string_view(text).substr(*best_begin, best_end - *best_begin))) return {Value(*v), "last_integer"};
  }
  return {std::nullopt, "none"};
}

// check_answers(model, gold) for an integer gold (a Python int, which has no .equals): lists
// never equal a number; anything else is compared numerically, err = abs(N(model - gold)),
// correct when err < 1e-10 and err / max(abs(N(model)), abs(N(gold))) < 1e-10. Both zero
// divides 0 by 0 and the official code returns False; an expression with free symbols makes the
// comparison raise, also False.
inline bool check_answer(const std::optional<Value>& v, long long gold) {
  if (!v) return false;
  const long double g = static_cast<long double>(gold);
  long double err, scale;
  if (auto* i = std::get_if<long long>(&*v)) {
    err = std::fabs(static_cast<long double>(*i) - g), scale = std::max(std::fabs(static_cast<long double>(*i)), std::fabs(g));
  } else if (auto* d = std::get_if<double>(&*v)) {
    err = std::fabs(static_cast<long double>(*d) - g), scale = std::max(std::fabs(static_cast<long double>(*d)), std::fabs(g));
  } else if (auto* r = std::get_if<RationalValue>(&*v); r && r->approx) {
    err = std::fabs(*r->approx - g), scale = std::max(std::fabs(*r->approx), std::fabs(g));
  } else if (r) {
    // |num/den - gold| exactly as far as 128 bits allow
    const long double num = static_cast<long double>(r->num), den = static_cast<long double>(r->den);
    err = std::fabs(num - g * den) / den, scale = std::max(std::fabs(num / den), std::fabs(g));
  } else if (auto* b = std::get_if<BigInteger>(&*v)) {
    err = std::fabs(b->approx - g), scale = std::max(std::fabs(b->approx), std::fabs(g));
  } else if (auto* e = std::get_if<Expression>(&*v); e && e->numeric) {
    err = std::abs(*e->numeric - std::complex<long double>(g, 0)), scale = std::max(std::abs(*e->numeric), std::fabs(g));
  } else {
    return false;
  }
  if (scale == 0.0L || !std::isfinite(err)) return false;
  return err < 1e-10L && err / scale < 1e-10L;
}

inline AnswerScore score_answer(std::string_view answer, long long gold) {
  const Extraction e = extract(answer);
  AnswerScore s;
  s.detail["rule"] = e.rule;
  if (e.value) s.extracted = to_json(*e.value);
  s.correct = check_answer(e.value, gold);
  return s;
}

// ---- the benchmark ----------------------------------------------------------------------------

struct Options {
  std::string data_file;
  bool last_chance = true;  // MathArena re-prompts once when the answer has no valid box
};

class Aime : public Benchmark {
 public:
  explicit Aime(Options opt) : opt_(std::move(opt)) {
    for (const auto& [row, where] : read_jsonl(opt_.data_file)) {
      EvalItem item;
      item.id = std::to_string(require<long long>(row, "problem_idx", where));
      item.gold = require<long long>(row, "answer", where);
      item.category = "aime";
      item.data["problem"] = require<std::string>(row, "problem", where);
      items_.push_back(std::move(item));
    }
  }
  std::string name() const override { return "aime"; }
  const std::vector<EvalItem>& items() const override { return items_; }
  nlohmann::json settings() const override {
    return {{"last_chance", opt_.last_chance}, {"extraction", "matharena parser.extract_answer, strict_parsing=false"}};
  }
  SamplePrompt prompt(const EvalItem& item, int) const override {
    SamplePrompt p;
    p.messages.push_back(text_message("user", build_prompt(item.data.at("problem").get<std::string>())));
    p.gold = item.gold;
    return p;
  }
  AnswerScore score(const EvalItem&, const SamplePrompt& p, const std::string& answer) const override {
    return score_answer(answer, p.gold.get<long long>());
  }

  // MathArena's last chance: when strict parsing (a box only) finds nothing in the final answer,
  // ask once more for just the boxed answer, and grade that reply.
  nlohmann::json run_sample(const EvalItem& item, int sample, ChatBackend& backend,
                            const GenerationSettings& gen) const override {
    nlohmann::json rec = Benchmark::run_sample(item, sample, backend, gen);
    if (!opt_.last_chance || rec.value("status", "") == "error") return rec;
    const std::string answer = rec.value("answer_text", "");
    if (extract(answer, /*strict_parsing=*/true).value) return rec;
    SamplePrompt p = prompt(item, sample);
    p.messages.push_back(text_message("assistant", answer));
    p.messages.push_back(text_message("user", std::string(kLastChancePrompt)));
    ChatResponse resp;
    try {
      resp = backend.chat(make_request(p, gen, sample_seed(gen.seed, item.id + "/last_chance", sample)));
    } catch (const std::exception& e) {
      rec["status"] = "error";
      rec["error"] = std::string("last-chance request: ") + e.what();
      rec["score"] = nullptr;
      return rec;
    }
    const SplitOutput split = split_thinking(resp.message.content);
    const AnswerScore s = score(item, p, split.answer);
    rec["first_answer"] = {{"extracted", rec["extracted"]}, {"correct", rec["correct"]}, {"status", rec["status"]}};
    rec["last_chance"] = {{"response", resp.raw.empty() ? resp.message.content : resp.raw},
                          {"finish_reason", resp.finish_reason},
                          {"completion_tokens", resp.completion_tokens}};
    rec["answer_text"] = split.answer;
    rec["extracted"] = s.extracted;
    rec["correct"] = s.correct;
    rec["score"] = s.correct ? 1.0 : 0.0;
    rec["extraction"] = s.detail;
    if (rec["status"] != "truncated") rec["status"] = s.extracted.is_null() ? "unparsed" : "ok";
    return rec;
  }

 private:
  Options opt_;
  std::vector<EvalItem> items_;
};

}  // namespace gemma4::eval::aime
