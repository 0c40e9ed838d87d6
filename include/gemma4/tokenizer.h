// The tokenizer interface shared by both back ends:
//   * tokenizer_hf_json.h      — Hugging Face tokenizer.json (BPE with byte fallback), implemented here;
//   * tokenizer_sentencepiece.h — SentencePiece .model files through libsentencepiece (optional).
//
// Gemma 4 semantics (docs/gemma4-architecture.md §7.1): BPE with byte fallback, " " normalised to
// "▁", no dummy prefix, add_bos_token = false (the chat template writes <bos>). Added tokens
// (<bos>, <|turn>, "\n", ...) are matched in the text before BPE runs, leftmost-longest, exactly
// like HF `tokenizers`; `parse_special = false` leaves the *special* ones as plain text
// (HF: `split_special_tokens=True`), while non-special added tokens such as "\n" still match.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4 {

using TokenId = std::int32_t;

// Thrown for unreadable or malformed tokenizer files; the message names the file and the field.
struct TokenizerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct EncodeOptions {
  bool parse_special = true;        // match special added tokens written as text ("<bos>", "<|turn>")
  bool add_special_tokens = false;  // apply the post-processor template (e.g. Gemma 3 prepends <bos>)
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual std::vector<TokenId> encode(std::string_view text, const EncodeOptions& options = {}) const = 0;

  // Decoding follows HF `tokenizers`: ids outside the vocabulary are skipped; with
  // skip_special_tokens, special added tokens are dropped. Invalid byte-fallback sequences decode
  // to one U+FFFD per byte of the run.
  virtual std::string decode(std::span<const TokenId> ids, bool skip_special_tokens = false) const = 0;

  // The stored piece of an id ("▁the", "<0x0A>", "<|turn>"); throws std::out_of_range.
  virtual const std::string& id_to_piece(TokenId id) const = 0;
  virtual std::optional<TokenId> piece_to_id(std::string_view piece) const = 0;
  virtual std::size_t vocab_size() const = 0;
  virtual bool is_special(TokenId id) const = 0;

  // Convenience: the id of a piece that must exist (throws TokenizerError naming it).
  TokenId required_id(std::string_view piece) const {
    if (auto id = piece_to_id(piece)) return *id;
    throw TokenizerError("tokenizer: required token '" + std::string(piece) + "' is not in the vocabulary");
  }
};

// ---------------------------------------------------------------------------------------------
// The decoder chain of Gemma-style tokenizers: Replace("▁" -> " "), ByteFallback, Fuse.
// ByteFallback turns a run of "<0xXX>" pieces into its bytes when they form valid UTF-8, otherwise
// into one U+FFFD per byte (tokenizers/src/decoders/byte_fallback.rs does the same).

namespace detail {

inline bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and code points above U+10FFFF are invalid (Rust's from_utf8).
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += n + 1;
  }
  return true;
}

// "<0x41>" -> 0x41; anything else -> nullopt.
inline std::optional<unsigned char> byte_piece_value(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(piece[3]), lo = hex(piece[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<unsigned char>(hi * 16 + lo);
}

inline void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

}  // namespace detail

// Pieces -> text with the Gemma decoder chain (see above).
inline std::string decode_gemma_pieces(std::span<const std::string_view> pieces) {
  static constexpr std::string_view kSpace = "\xE2\x96\x81";  // "▁"
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out, bytes;
  auto flush = [&] {
    if (bytes.empty()) return;
    if (detail::is_valid_utf8(bytes)) {
      out += bytes;
    } else {
      for (std::size_t i = 0; i < bytes.size(); ++i) out += kReplacement;
    }
    bytes.clear();
  };
  for (std::string_view piece : pieces) {
    // Replace runs first, so "<0x..>" detection sees the replaced piece (it never contains "▁").
    std::string p(piece);
    detail::replace_all(p, kSpace, " ");
    if (auto b = detail::byte_piece_value(p)) {
      bytes.push_back(static_cast<char>(*b));
      continue;
    }
    flush();
    out += p;
  }
  flush();
  return out;
}

// Decoding while generating: push ids one at a time, get the text they complete. A run of
// byte-fallback pieces ("<0xE6><0x9D><0xB1>" = "東") is held until the run ends, because HF decodes
// a run as a whole (valid UTF-8, or one U+FFFD per byte); every other id is emitted at once.
// The concatenated output always equals tokenizer.decode(all ids).
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false)
      : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}

  std::string push(TokenId id) {
    bool is_byte = false;
    if (id >= 0 && static_cast<std::size_t>(id) < tokenizer_.vocab_size()) {
      try {
        is_byte = detail::byte_piece_value(tokenizer_.id_to_piece(id)).has_value();
      } catch (const std::out_of_range&) {
        // an id without a piece decodes to nothing, like in decode()
      }
    }
    if (is_byte) {
      pending_.push_back(id);
      return {};
    }
    pending_.push_back(id);
    return flush();
  }

  // End of generation: whatever is still held.
  std::string finish() { return flush(); }

 private:
  std::string flush() {
    std::string text = tokenizer_.decode(pending_, skip_special_);
    pending_.clear();
    return text;
  }

  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<TokenId> pending_;
};

}  // namespace gemma4
