// Python string semantics, for porting the official (Python) answer scorers exactly.
//
// The scorers use `re`, `regex` and `str` methods on Unicode strings: `\b`, `\w`, `\s`, `\d`,
// str.strip(), str.split(), str.lower(), int(). Our responses are UTF-8 byte strings, so every
// scanner here decodes code points and classifies them with the tables generated from Python
// (unicode_tables.h). Substring search (find/rfind/replace) works on bytes: for valid UTF-8 a
// byte match of a valid UTF-8 needle is always a code-point match.
#pragma once

#include "gemma4_eval/unicode_tables.h"

#include <cstdint>
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

}  // namespace gemma4::eval::py
