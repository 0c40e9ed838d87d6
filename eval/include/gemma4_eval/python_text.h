// Python string semantics, for porting the official (Python) answer scorers and benchmark
// environments exactly: the scanners below, and the text Python prints (repr(), float repr,
// round(x, 2), json.dumps, == on decoded JSON).
//
// The scorers use `re`, `regex` and `str` methods on Unicode strings: `\b`, `\w`, `\s`, `\d`,
// str.strip(), str.split(), str.lower(), int(). Our responses are UTF-8 byte strings, so every
// scanner here decodes code points and classifies them with the tables generated from Python
// (unicode_tables.h). Substring search (find/rfind/replace) works on bytes: for valid UTF-8 a
// byte match of a valid UTF-8 needle is always a code-point match.
#pragma once

#include "gemma4_eval/unicode_tables.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4::eval::py {

// One decoded code point and its byte span. Invalid bytes decode as themselves (0x80..0xFF),
// one byte each, so scanning never stops on broken UTF-8.
struct CodePoint {
  std::uint32_t value;
  std::size_t begin, end;
};

inline CodePoint decode_at(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
  if (b0 < 0x80) return {b0, i, i + 1};
  if ((b0 & 0xE0) == 0xC0 && cont(1)) return {((b0 & 0x1Fu) << 6) | byte(1), i, i + 2};
  if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2))
    return {((b0 & 0x0Fu) << 12) | (byte(1) << 6) | byte(2), i, i + 3};
  if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3))
    return {((b0 & 0x07u) << 18) | (byte(1) << 12) | (byte(2) << 6) | byte(3), i, i + 4};
  return {b0, i, i + 1};
}

// The code point that ends just before byte offset `end` (end > 0).
inline CodePoint decode_before(std::string_view s, std::size_t end) {
  std::size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  CodePoint cp = decode_at(s, start);
  if (cp.end != end) return {static_cast<unsigned char>(s[end - 1]), end - 1, end};
  return cp;
}

inline std::vector<CodePoint> decode(std::string_view s) {
  std::vector<CodePoint> out;
  for (std::size_t i = 0; i < s.size();) {
    out.push_back(decode_at(s, i));
    i = out.back().end;
  }
  return out;
}

inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

template <std::size_t N>
bool in_ranges(const unicode_tables::CodepointRange (&table)[N], std::uint32_t cp) {
  std::size_t lo = 0, hi = N;
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (cp < table[mid].lo) hi = mid;
    else if (cp > table[mid].hi) lo = mid + 1;
    else return true;
  }
  return false;
}

// re `\w` for str patterns: str.isalnum() or '_'.
inline bool is_word(std::uint32_t cp) { return in_ranges(unicode_tables::kWord, cp); }
// re `\s` and str.isspace().
inline bool is_space(std::uint32_t cp) { return in_ranges(unicode_tables::kSpace, cp); }
// re/regex `\d`: Unicode decimal digits (str.isdecimal()).
inline bool is_decimal(std::uint32_t cp) { return in_ranges(unicode_tables::kDecimal, cp); }

// The value 0..9 of a Unicode decimal digit: Nd digits come in contiguous runs of ten that
// start at a code point whose value is 0, so the value is the offset in its run of the table.
inline int decimal_value(std::uint32_t cp) {
  for (const auto& r : unicode_tables::kDecimal)
    if (cp >= r.lo && cp <= r.hi) return static_cast<int>((cp - r.lo) % 10);
  return -1;
}

// The third-party `regex` module (MathArena) has its own Unicode tables for `\w` and `\d`.
inline bool is_regex_word(std::uint32_t cp) { return in_ranges(unicode_tables::kRegexWord, cp); }
inline bool is_regex_digit(std::uint32_t cp) { return in_ranges(unicode_tables::kRegexDigit, cp); }

// Is there a `\b` (word boundary) at byte offset `pos`? `word` says what `\w` is.
inline bool word_boundary(std::string_view s, std::size_t pos, bool (*word)(std::uint32_t) = is_word) {
  const bool before = pos > 0 && word(decode_before(s, pos).value);
  const bool after = pos < s.size() && word(decode_at(s, pos).value);
  return before != after;
}

// str.lower(), code point by code point.
inline std::string lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const CodePoint cp = decode_at(s, i);
    i = cp.end;
    if (cp.value == 0x130) {  // 'İ'.lower() == 'i' + U+0307
      out += 'i';
      append_utf8(out, 0x307);
      continue;
    }
    std::uint32_t v = cp.value;
    for (const auto& run : unicode_tables::kLower) {
      if (v < run.lo) break;
      if (v <= run.hi && (run.stride == 0 || (v - run.lo) % run.stride == 0)) {
        v = static_cast<std::uint32_t>(static_cast<std::int64_t>(v) + run.delta);
        break;
      }
    }
    if (v == cp.value) out.append(s.substr(cp.begin, cp.end - cp.begin));
    else append_utf8(out, v);
  }
  return out;
}

// str.strip() with no argument: Unicode whitespace at both ends.
inline std::string_view strip(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e) {
    const CodePoint cp = decode_at(s, b);
    if (!is_space(cp.value)) break;
    b = cp.end;
  }
  while (e > b) {
    const CodePoint cp = decode_before(s, e);
    if (!is_space(cp.value)) break;
    e = cp.begin;
  }
  return s.substr(b, e - b);
}

// str.strip(chars) for a set of ASCII characters.
inline std::string_view strip_chars(std::string_view s, std::string_view chars) {
  std::size_t b = 0, e = s.size();
  while (b < e && chars.find(s[b]) != std::string_view::npos) ++b;
  while (e > b && chars.find(s[e - 1]) != std::string_view::npos) --e;
  return s.substr(b, e - b);
}

// len(str.split()): the number of runs of non-whitespace.
inline std::size_t count_split_words(std::string_view s) {
  std::size_t words = 0;
  bool in_word = false;
  for (std::size_t i = 0; i < s.size();) {
    const CodePoint cp = decode_at(s, i);
    i = cp.end;
    const bool space = is_space(cp.value);
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

// str.replace(old, new): every non-overlapping occurrence, left to right.
inline std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(s);
  std::string out;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string_view::npos; pos = hit + from.size()) {
    out.append(s.substr(pos, hit - pos));
    out.append(to);
  }
  out.append(s.substr(pos));
  return out;
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ---- the text Python prints -------------------------------------------------------------------
// For formatting, an invalid UTF-8 byte (decode_at passes it through as its byte value) stands
// for U+FFFD, one per byte. Python would have rejected such text when decoding it, so this only
// keeps garbage from crashing the formatters.
inline std::uint32_t formatted_code_point(const CodePoint& cp) {
  return cp.end - cp.begin == 1 && cp.value >= 0x80 ? 0xFFFD : cp.value;
}

// repr(float): the shortest digits that round-trip; positional notation when the decimal
// exponent is in [-4, 16), otherwise d.ddde+XX (at least two exponent digits). NaN and the
// infinities are spelled as json.dumps writes them.
inline std::string float_repr(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0.0) return std::signbit(value) ? "-0.0" : "0.0";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // [-]d[.ddd]e(+|-)XX
  const bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  const auto epos = sci.find('e');
  const int exponent = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (char c : sci.substr(0, epos))
    if (c != '.') digits += c;
  std::string out;
  if (exponent >= -4 && exponent < 16) {
    const int point = exponent + 1;  // digits before the decimal point
    if (point <= 0) {
      out = "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    } else if (point >= static_cast<int>(digits.size())) {
      out = digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += exp_buf;
  }
  return negative ? "-" + out : out;
}

// round(x, 2) for floats: correctly rounded to the nearest multiple of 0.01 of the exact binary
// value (ties to even); glibc's printf rounds the same way.
inline double round2(double value) {
  if (!std::isfinite(value)) return value;
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%.2f", value);
  return std::strtod(buf, nullptr);
}

// repr(str): single quotes unless the text has a single quote and no double quote.
inline std::string repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  char buf[16];
  for (std::size_t i = 0; i < s.size();) {
    const CodePoint decoded = decode_at(s, i);
    i = decoded.end;
    const std::uint32_t cp = formatted_code_point(decoded);
    if (cp == static_cast<unsigned char>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      append_utf8(out, cp);
    }
  }
  out += quote;
  return out;
}

// repr(list_of_str), e.g. "['a', \"it's\"]".
inline std::string repr(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += repr(items[i]);
  }
  return out + "]";
}

// json.dumps(s) with ensure_ascii=True: everything outside ' '..'~' is escaped, non-BMP code
// points as surrogate pairs.
inline void dump_string(std::string& out, std::string_view s) {
  out += '"';
  char buf[16];
  for (std::size_t i = 0; i < s.size();) {
    const CodePoint decoded = decode_at(s, i);
    i = decoded.end;
    const std::uint32_t cp = formatted_code_point(decoded);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp <= 0x7E) {
      out += static_cast<char>(cp);
    } else if (cp < 0x10000) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      const std::uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 | (v >> 10)),
                    static_cast<unsigned>(0xDC00 | (v & 0x3FF)));
      out += buf;
    }
  }
  out += '"';
}

// The JSON functions below take any nlohmann::basic_json (J): Python dicts keep insertion order,
// so callers that print objects use nlohmann::ordered_json.
template <class J>
void dump_to(std::string& out, const J& value, bool sort_keys) {
  using Type = typename J::value_t;
  switch (value.type()) {
    case Type::null: out += "null"; break;
    case Type::boolean: out += value.template get<bool>() ? "true" : "false"; break;
    case Type::number_integer: out += std::to_string(value.template get<std::int64_t>()); break;
    case Type::number_unsigned: out += std::to_string(value.template get<std::uint64_t>()); break;
    case Type::number_float: out += float_repr(value.template get<double>()); break;
    case Type::string: dump_string(out, value.template get_ref<const std::string&>()); break;
    case Type::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value) {
        if (!first) out += ", ";
        first = false;
        dump_to(out, item, sort_keys);
      }
      out += ']';
      break;
    }
    case Type::object: {
      std::vector<const std::string*> keys;
      for (auto it = value.begin(); it != value.end(); ++it) keys.push_back(&it.key());
      // Python sorts str keys by code point; UTF-8 byte order is the same order.
      if (sort_keys) std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
      out += '{';
      bool first = true;
      for (const std::string* key : keys) {
        if (!first) out += ", ";
        first = false;
        dump_string(out, *key);
        out += ": ";
        dump_to(out, value.at(*key), sort_keys);
      }
      out += '}';
      break;
    }
    default: throw std::runtime_error("py::dumps: unsupported JSON value (binary/discarded)");
  }
}

// json.dumps(value, sort_keys=sort_keys) with the default separators (", " and ": ").
template <class J>
std::string dumps(const J& value, bool sort_keys = false) {
  std::string out;
  dump_to(out, value, sort_keys);
  return out;
}

// Python's == on decoded JSON: 1 == 1.0 and True == 1 (bool is an int subclass); dict equality
// ignores order.
template <class J>
bool equal(const J& a, const J& b) {
  const bool a_num = a.is_number() || a.is_boolean();
  const bool b_num = b.is_number() || b.is_boolean();
  if (a_num && b_num) {
    auto as_number = [](const J& v) -> long double {
      if (v.is_boolean()) return v.template get<bool>() ? 1 : 0;
      if (v.is_number_float()) return v.template get<double>();
      if (v.is_number_unsigned()) return static_cast<long double>(v.template get<std::uint64_t>());
      return static_cast<long double>(v.template get<std::int64_t>());
    };
    return as_number(a) == as_number(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto jt = b.find(it.key());
      if (jt == b.end() || !equal(*it, *jt)) return false;
    }
    return true;
  }
  return a == b;
}

// The name Python gives a decoded JSON value's type in error messages.
template <class J>
std::string type_name(const J& v) {
  if (v.is_null()) return "NoneType";
  if (v.is_boolean()) return "bool";
  if (v.is_number_float()) return "float";
  if (v.is_number()) return "int";
  if (v.is_string()) return "str";
  if (v.is_array()) return "list";
  return "dict";
}

}  // namespace gemma4::eval::py
