// Hugging Face `tokenizer.json` with a BPE model and byte fallback (the Gemma 3 / Gemma 4 format),
// implemented to give the ids HF `tokenizers` gives:
//
//   text ─┬─ added tokens with normalized=false matched in the raw text (leftmost-longest)
//         └─ other spans: normalizer (Replace " " -> "▁") ─ added tokens with normalized=true
//              ─ pre-tokenizer (Split on a string) ─ BPE per word ─ ids
//
// BPE per word (tokenizers/src/models/bpe/word.rs): start from the word's characters (a character
// missing from the vocabulary becomes its "<0xXX>" byte pieces, or <unk>), then repeatedly apply
// the merge of lowest rank, leftmost first, until no adjacent pair has a merge.
//
// Loading is a single SAX pass over the JSON: the vocabulary and merges go straight into hash maps
// (the 262,144-entry Gemma 3 file loads in a few hundred milliseconds); the small sections
// (normalizer, added_tokens, ...) are kept as a DOM and interpreted afterwards.
// Supported: normalizers Replace(String)/Prepend/Sequence, pre-tokenizer Split(String), decoders
// Replace(String)/ByteFallback/Fuse/Strip/Sequence, post-processor TemplateProcessing. Anything else
// (regex patterns, ByteLevel, Metaspace, Unigram, dropout, lstrip/rstrip/single_word added tokens)
// is rejected with an error naming the field, never silently approximated.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <queue>
#include <sstream>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "gemma4/tokenizer.h"

namespace gemma4 {

// Leftmost-longest matching of a set of literal strings (the added tokens), as the Aho-Corasick
// automaton with MatchKind::LeftmostLongest in `tokenizers` does: scan left to right, take the
// longest pattern starting at the first position where any pattern starts, continue after it.
class LiteralMatcher {
 public:
  struct Match {
    std::size_t begin, end;
    int pattern;  // index given to add()
  };

  void add(std::string_view pattern, int index) {
    if (pattern.empty()) return;
    int node = 0;
    for (unsigned char c : pattern) {
      const std::uint64_t key = (static_cast<std::uint64_t>(node) << 8) | c;
      auto it = edges_.find(key);
      if (it == edges_.end()) {
        terminal_.push_back(-1);
        it = edges_.emplace(key, static_cast<int>(terminal_.size() - 1)).first;
      }
      node = it->second;
    }
    terminal_[static_cast<std::size_t>(node)] = index;
    first_byte_[static_cast<unsigned char>(pattern[0])] = true;
  }

  bool empty() const { return terminal_.size() == 1; }

  std::vector<Match> find_all(std::string_view text) const {
    std::vector<Match> out;
    std::size_t i = 0;
    while (i < text.size()) {
      if (!first_byte_[static_cast<unsigned char>(text[i])]) { ++i; continue; }
      int node = 0, best = -1;
      std::size_t best_end = 0;
      for (std::size_t j = i; j < text.size(); ++j) {
        auto it = edges_.find((static_cast<std::uint64_t>(node) << 8) | static_cast<unsigned char>(text[j]));
        if (it == edges_.end()) break;
        node = it->second;
        if (terminal_[static_cast<std::size_t>(node)] >= 0) {
          best = terminal_[static_cast<std::size_t>(node)];
          best_end = j + 1;
        }
      }
      if (best >= 0) {
        out.push_back({i, best_end, best});
        i = best_end;
      } else {
        ++i;
      }
    }
    return out;
  }

 private:
  std::unordered_map<std::uint64_t, int> edges_;  // (node << 8 | byte) -> child node
  std::vector<int> terminal_ = {-1};               // node -> pattern index, or -1
  std::array<bool, 256> first_byte_{};
};

// string -> id for the model vocabulary: open addressing over one byte arena. For the 262k Gemma
// vocabulary this loads and looks up several times faster than std::unordered_map<std::string, int>
// (one allocation per piece, a pointer chase per probe), which dominated loading time.
class PieceIdMap {
 public:
  void reserve(std::size_t n) {
    arena_.reserve(n * 8);
    rehash(std::bit_ceil(std::max<std::size_t>(16, n * 2)));
  }

  // Inserts or overwrites (a later duplicate key wins, as when serde reads a JSON object).
  void insert(std::string_view key, TokenId id) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(std::max<std::size_t>(16, slots_.size() * 2));
    const std::uint64_t h = hash(key);
    Slot* slot = probe(key, h);
    if (slot->id < 0) {
      *slot = {static_cast<std::uint32_t>(h >> 32), static_cast<std::uint32_t>(arena_.size()),
               static_cast<std::uint32_t>(key.size()), id};
      arena_.append(key);
      ++size_;
    } else {
      slot->id = id;
    }
  }

  std::optional<TokenId> find(std::string_view key) const {
    if (slots_.empty()) return std::nullopt;
    const Slot* slot = const_cast<PieceIdMap*>(this)->probe(key, hash(key));
    if (slot->id < 0) return std::nullopt;
    return slot->id;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.id >= 0) f(std::string_view(arena_).substr(s.offset, s.length), s.id);
  }

 private:
  // The key's place in the arena sits in the slot itself: one cache miss for the slot, one for the
  // bytes (a node-based map needs three or four).
  struct Slot {
    std::uint32_t tag = 0;  // high hash bits, to skip most string compares
    std::uint32_t offset = 0, length = 0;
    TokenId id = -1;        // -1: empty
  };

  static std::uint64_t hash(std::string_view key) { return std::hash<std::string_view>{}(key) * 0x9E3779B97F4A7C15ull; }

  // The slot holding `key`, or the empty slot where it would go.
  Slot* probe(std::string_view key, std::uint64_t h) {
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.id < 0) return &s;
      if (s.tag == tag && s.length == key.size() && std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0)
        return &s;
    }
  }

  void rehash(std::size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      const std::uint64_t h = hash(std::string_view(arena_).substr(s.offset, s.length));
      std::size_t i = h & (capacity - 1);
      while (slots_[i].id >= 0) i = (i + 1) & (capacity - 1);
      slots_[i] = s;
    }
  }

  std::string arena_;
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

// (left id, right id) -> (rank, merged id), open addressing.
class MergeTable {
 public:
  struct Rule {
    std::uint32_t rank;
    TokenId new_id;
  };

  void reserve(std::size_t n) { rehash(std::bit_ceil(std::max<std::size_t>(16, n * 2))); }

  void insert(TokenId left, TokenId right, Rule rule) {  // overwrites: a later duplicate merge wins
    if ((size_ + 1) * 2 > slots_.size()) rehash(std::max<std::size_t>(16, slots_.size() * 2));
    const std::uint64_t k = key(left, right);
    for (std::size_t i = mix(k) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].rule.new_id < 0) {
        slots_[i] = {k, rule};
        ++size_;
        return;
      }
      if (slots_[i].key == k) {
        slots_[i].rule = rule;
        return;
      }
    }
  }

  const Rule* find(TokenId left, TokenId right) const {
    if (slots_.empty()) return nullptr;
    const std::uint64_t k = key(left, right);
    for (std::size_t i = mix(k) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].rule.new_id < 0) return nullptr;
      if (slots_[i].key == k) return &slots_[i].rule;
    }
  }

  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t key = 0;
    Rule rule{0, -1};  // new_id < 0: empty
  };
  static std::uint64_t key(TokenId a, TokenId b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }
  static std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }
  void rehash(std::size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    size_ = 0;
    for (const Slot& s : old)
      if (s.rule.new_id >= 0) insert(static_cast<TokenId>(s.key >> 32), static_cast<TokenId>(s.key & 0xFFFFFFFFu), s.rule);
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

class HfJsonTokenizer final : public Tokenizer {
 public:
  static HfJsonTokenizer from_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw TokenizerError(path.string() + ": cannot open tokenizer file");
    std::string data;
    in.seekg(0, std::ios::end);
    data.resize(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    if (!in) throw TokenizerError(path.string() + ": read error");
    return from_string(data, path.string());
  }

  // `source` names the input in error messages.
  static HfJsonTokenizer from_string(std::string_view json_text, const std::string& source = "tokenizer.json") {
    HfJsonTokenizer t;
    t.source_ = source;
    t.load(json_text);
    return t;
  }

  // ---- Tokenizer ----------------------------------------------------------------------------
  std::vector<TokenId> encode(std::string_view text, const EncodeOptions& options = {}) const override {
    std::vector<TokenId> ids;
    // 1. added tokens written as-is in the raw text
    split_on_added(text, raw_matcher_, options.parse_special, ids, [&](std::string_view span) {
      // 2. normalise the text between them, then match the normalised added tokens
      const std::string normalized = normalize(span);
      split_on_added(normalized, normalized_matcher_, options.parse_special, ids, [&](std::string_view piece) {
        // 3. pre-tokenise and run BPE on each word
        for (std::string_view word : pre_tokenize(piece)) bpe(word, ids);
      });
    });
    if (options.add_special_tokens) ids = apply_post_processor(std::move(ids));
    return ids;
  }

  std::string decode(std::span<const TokenId> ids, bool skip_special_tokens = false) const override {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (TokenId id : ids) {
      if (id < 0 || static_cast<std::size_t>(id) >= pieces_.size() || !known_[static_cast<std::size_t>(id)]) continue;
      if (skip_special_tokens && special_[static_cast<std::size_t>(id)]) continue;
      tokens.push_back(pieces_[static_cast<std::size_t>(id)]);
    }
    for (const DecoderStep& step : decoder_) tokens = step.apply(std::move(tokens));
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
  }

  const std::string& id_to_piece(TokenId id) const override {
    if (id < 0 || static_cast<std::size_t>(id) >= pieces_.size() || !known_[static_cast<std::size_t>(id)])
      throw std::out_of_range(source_ + ": token id " + std::to_string(id) + " is not in the vocabulary");
    return pieces_[static_cast<std::size_t>(id)];
  }

  std::optional<TokenId> piece_to_id(std::string_view piece) const override {
    if (auto it = added_ids_.find(std::string(piece)); it != added_ids_.end()) return it->second;
    return vocab_.find(piece);
  }

  // Highest id + 1 (model vocabulary and added tokens together).
  std::size_t vocab_size() const override { return pieces_.size(); }

  bool is_special(TokenId id) const override {
    return id >= 0 && static_cast<std::size_t>(id) < special_.size() && special_[static_cast<std::size_t>(id)];
  }

  std::size_t merge_count() const { return merges_.size(); }

 private:
  HfJsonTokenizer() = default;

  // ---- pipeline pieces ----------------------------------------------------------------------
  struct NormalizerStep {
    enum Kind { kReplace, kPrepend } kind;
    std::string pattern, content;
  };

  struct SplitRule {  // pre_tokenizers.Split with a String pattern
    enum Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous } behavior;
    std::string pattern;
  };

  struct DecoderStep {
    enum Kind { kReplace, kByteFallback, kFuse, kStrip } kind;
    std::string pattern, content;
    std::size_t strip_start = 0, strip_stop = 0;

    std::vector<std::string> apply(std::vector<std::string> tokens) const {
      switch (kind) {
        case kReplace:
          for (auto& t : tokens) detail::replace_all(t, pattern, content);
          return tokens;
        case kFuse: {
          std::string all;
          for (const auto& t : tokens) all += t;
          return {all};
        }
        case kStrip:
          for (auto& t : tokens) {
            // Strip up to strip_start leading and strip_stop trailing copies of `content`.
            std::size_t a = 0, b = t.size();
            for (std::size_t k = 0; k < strip_start && t.compare(a, content.size(), content) == 0 && a < b; ++k)
              a += content.size();
            for (std::size_t k = 0; k < strip_stop && b >= a + content.size() &&
                                    t.compare(b - content.size(), content.size(), content) == 0; ++k)
              b -= content.size();
            t = t.substr(a, b - a);
          }
          return tokens;
        case kByteFallback: {
          std::vector<std::string> out;
          std::string bytes;
          auto flush = [&] {
            if (bytes.empty()) return;
            if (detail::is_valid_utf8(bytes)) {
              out.push_back(bytes);
            } else {
              for (std::size_t i = 0; i < bytes.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
            }
            bytes.clear();
          };
          for (auto& t : tokens) {
            if (auto b = detail::byte_piece_value(t)) {
              bytes.push_back(static_cast<char>(*b));
            } else {
              flush();
              out.push_back(std::move(t));
            }
          }
          flush();
          return out;
        }
      }
      return tokens;
    }
  };

  struct TemplatePart {
    bool is_sequence;             // the input ids ("Sequence": {"id": "A"})
    std::vector<TokenId> ids;     // a special token's ids
  };

  std::string normalize(std::string_view text) const {
    std::string s(text);
    for (const auto& step : normalizer_) {
      if (step.kind == NormalizerStep::kReplace) {
        detail::replace_all(s, step.pattern, step.content);
      } else if (!s.empty()) {  // Prepend: only non-empty strings (tokenizers/src/normalizers/prepend.rs)
        s = step.content + s;
      }
    }
    return s;
  }

  std::vector<std::string_view> pre_tokenize(std::string_view text) const {
    std::vector<std::string_view> words;
    if (!split_) {
      if (!text.empty()) words.push_back(text);
      return words;
    }
    const std::string& pat = split_->pattern;
    std::vector<std::pair<std::size_t, std::size_t>> pieces;  // (begin, end) with a delimiter flag below
    std::vector<bool> is_delim;
    std::size_t pos = 0;
    for (std::size_t hit; !pat.empty() && (hit = text.find(pat, pos)) != std::string_view::npos; pos = hit + pat.size()) {
      if (hit > pos) { pieces.emplace_back(pos, hit); is_delim.push_back(false); }
      pieces.emplace_back(hit, hit + pat.size());
      is_delim.push_back(true);
    }
    if (pos < text.size()) { pieces.emplace_back(pos, text.size()); is_delim.push_back(false); }

    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      const auto [b, e] = pieces[i];
      switch (split_->behavior) {
        case SplitRule::kRemoved:
          if (!is_delim[i]) out.emplace_back(b, e);
          break;
        case SplitRule::kIsolated:
          out.emplace_back(b, e);
          break;
        case SplitRule::kContiguous:
          if (is_delim[i] && i > 0 && is_delim[i - 1]) out.back().second = e;
          else out.emplace_back(b, e);
          break;
        case SplitRule::kMergedWithPrevious:
          if (is_delim[i] && i > 0 && !is_delim[i - 1]) out.back().second = e;
          else out.emplace_back(b, e);
          break;
        case SplitRule::kMergedWithNext:
          if (i > 0 && is_delim[i - 1] && !is_delim[i]) out.back().second = e;
          else out.emplace_back(b, e);
          break;
      }
    }
    for (auto [b, e] : out) words.push_back(text.substr(b, e - b));
    return words;
  }

  template <class OnText>
  void split_on_added(std::string_view text, const LiteralMatcher& matcher, bool parse_special,
                      std::vector<TokenId>& ids, OnText&& on_text) const {
    std::size_t pos = 0;
    if (!matcher.empty()) {
      for (const auto& m : matcher.find_all(text)) {
        const AddedToken& tok = added_[static_cast<std::size_t>(m.pattern)];
        // Like tokenizers with encode_special_tokens: the match is found, then left as text.
        if (!parse_special && tok.special) continue;
        if (m.begin > pos) on_text(text.substr(pos, m.begin - pos));
        ids.push_back(tok.id);
        pos = m.end;
      }
    }
    if (pos < text.size()) on_text(text.substr(pos));
  }

  // One UTF-8 character starting at s[i] (an invalid byte counts as a character of its own).
  static std::size_t utf8_char_len(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (i + n > s.size()) return 1;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
    return n;
  }

  void bpe(std::string_view word, std::vector<TokenId>& ids) const {
    if (word.empty()) return;
    if (ignore_merges_) {
      if (auto id = vocab_.find(word)) {
        ids.push_back(*id);
        return;
      }
    }
    struct Symbol {
      TokenId id;
      int prev, next;
      bool removed;
    };
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    auto push = [&](TokenId id) {
      const int n = static_cast<int>(symbols.size());
      symbols.push_back({id, n - 1, n + 1, false});
    };
    TokenId pending_unk = -1;  // an <unk> not yet pushed, so that consecutive ones can fuse
    for (std::size_t i = 0; i < word.size();) {
      const std::size_t len = utf8_char_len(word, i);
      const std::string_view key = word.substr(i, len);
      i += len;
      if (auto id = vocab_.find(key)) {
        if (pending_unk >= 0) { push(pending_unk); pending_unk = -1; }
        push(*id);
        continue;
      }
      if (byte_fallback_) {
        bool all = true;
        for (unsigned char c : key) all = all && byte_ids_[c] >= 0;
        if (all) {
          if (pending_unk >= 0) { push(pending_unk); pending_unk = -1; }
          for (unsigned char c : key) push(byte_ids_[c]);
          continue;
        }
      }
      if (unk_id_ < 0) throw TokenizerError(source_ + ": text needs model.unk_token, which is not set");
      if (pending_unk >= 0 && !fuse_unk_) push(pending_unk);
      pending_unk = unk_id_;
    }
    if (pending_unk >= 0) push(pending_unk);
    if (symbols.empty()) return;
    symbols.back().next = -1;

    struct Candidate {
      std::uint32_t rank;
      int pos;
      TokenId new_id;
      bool operator<(const Candidate& o) const {  // priority_queue pops the largest: lowest rank, then pos
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    std::priority_queue<Candidate> queue;
    using MergeRule = MergeTable::Rule;
    auto find_merge = [&](TokenId a, TokenId b) { return merges_.find(a, b); };
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i)
      if (const MergeRule* m = find_merge(symbols[i].id, symbols[i + 1].id))
        queue.push({m->rank, static_cast<int>(i), m->new_id});

    while (!queue.empty()) {
      const Candidate top = queue.top();
      queue.pop();
      Symbol& cur = symbols[static_cast<std::size_t>(top.pos)];
      if (cur.removed || cur.next < 0) continue;
      Symbol& right = symbols[static_cast<std::size_t>(cur.next)];
      const MergeRule* m = find_merge(cur.id, right.id);
      if (m == nullptr || m->new_id != top.new_id) continue;  // stale entry
      cur.id = top.new_id;
      right.removed = true;
      cur.next = right.next;
      if (cur.next >= 0) symbols[static_cast<std::size_t>(cur.next)].prev = top.pos;
      if (cur.prev >= 0)
        if (const MergeRule* p = find_merge(symbols[static_cast<std::size_t>(cur.prev)].id, cur.id))
          queue.push({p->rank, cur.prev, p->new_id});
      if (cur.next >= 0)
        if (const MergeRule* n = find_merge(cur.id, symbols[static_cast<std::size_t>(cur.next)].id))
          queue.push({n->rank, top.pos, n->new_id});
    }
    for (const Symbol& s : symbols)
      if (!s.removed) ids.push_back(s.id);
  }

  std::vector<TokenId> apply_post_processor(std::vector<TokenId> ids) const {
    if (post_template_.empty()) return ids;
    std::vector<TokenId> out;
    for (const TemplatePart& part : post_template_) {
      if (part.is_sequence) out.insert(out.end(), ids.begin(), ids.end());
      else out.insert(out.end(), part.ids.begin(), part.ids.end());
    }
    return out;
  }

  // ---- loading ------------------------------------------------------------------------------
  struct AddedToken {
    TokenId id;
    std::string content;
    bool special, normalized;
  };

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw TokenizerError(source_ + ": " + field + ": " + what);
  }

  // SAX handler: model.vocab and model.merges are consumed directly; everything else becomes a DOM.
  class Loader : public nlohmann::json_sax<nlohmann::json> {
   public:
    explicit Loader(HfJsonTokenizer& t) : t_(t) {}
    nlohmann::json root;

    bool null() override { return value(nullptr); }
    bool boolean(bool v) override { return value(v); }
    bool number_integer(number_integer_t v) override { return vocab_value(v) || value(v); }
    bool number_unsigned(number_unsigned_t v) override {
      return vocab_value(static_cast<number_integer_t>(v)) || value(v);
    }
    bool number_float(number_float_t v, const string_t&) override { return value(v); }
    bool binary(binary_t&) override { return value(nullptr); }
    bool string(string_t& s) override {
      if (mode_ == kMerges) {
        merge_string(std::move(s));
        return true;
      }
      return value(std::move(s));
    }
    bool key(string_t& k) override {
      if (mode_ == kVocab) {
        vocab_key_ = std::move(k);
        return true;
      }
      key_ = std::move(k);
      return true;
    }
    bool start_object(std::size_t) override {
      if (mode_ != kDom) return enter_raw(true);
      if (stack_.size() == 2 && key_ == "vocab" && in_model()) {
        mode_ = kVocab;
        depth_ = 1;
        t_.vocab_.reserve(1 << 18);
        return true;
      }
      return open(nlohmann::json::object());
    }
    bool end_object() override {
      if (mode_ != kDom) return leave_raw();
      stack_.pop_back();
      return true;
    }
    bool start_array(std::size_t) override {
      if (mode_ != kDom) return enter_raw(false);
      if (stack_.size() == 2 && key_ == "merges" && in_model()) {
        mode_ = kMerges;
        depth_ = 1;
        t_.merges_.reserve(1 << 19);
        return true;
      }
      return open(nlohmann::json::array());
    }
    bool end_array() override {
      if (mode_ != kDom) return leave_raw();
      stack_.pop_back();
      return true;
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
      t_.fail("JSON", "parse error at byte " + std::to_string(position) + ": " + e.what());
    }

   private:
    enum Mode { kDom, kVocab, kMerges } mode_ = kDom;
    HfJsonTokenizer& t_;
    std::vector<nlohmann::json*> stack_;
    std::string key_, vocab_key_;
    int depth_ = 0;
    std::string pending_left_;
    bool have_left_ = false;

    bool in_model() const { return stack_.size() == 2 && stack_[0]->contains("model") && stack_[1] == &(*stack_[0])["model"]; }

    bool vocab_value(number_integer_t v) {
      if (mode_ != kVocab) return false;
      if (depth_ != 1) t_.fail("model.vocab", "nested values are not a BPE vocabulary");
      if (v < 0 || v > INT32_MAX) t_.fail("model.vocab[\"" + vocab_key_ + "\"]", "id out of range");
      t_.vocab_.insert(vocab_key_, static_cast<TokenId>(v));
      return true;
    }
    void merge_string(std::string s) {
      if (depth_ == 1) {  // "left right" (legacy format)
        const auto space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
          t_.fail("model.merges[" + std::to_string(t_.merges_seen_) + "]",
                  "expected \"left right\", got \"" + s + "\"");
        t_.add_merge(std::string_view(s).substr(0, space), std::string_view(s).substr(space + 1));
      } else if (depth_ == 2) {  // ["left", "right"]
        if (!have_left_) {
          pending_left_ = std::move(s);
          have_left_ = true;
        } else {
          t_.add_merge(pending_left_, s);
          have_left_ = false;
        }
      } else {
        t_.fail("model.merges", "unexpected nesting");
      }
    }
    bool enter_raw(bool is_object) {
      if (mode_ == kVocab) t_.fail("model.vocab", "nested values are not a BPE vocabulary");
      if (is_object || depth_ != 1) t_.fail("model.merges", "expected strings or [left, right] pairs");
      ++depth_;
      have_left_ = false;
      return true;
    }
    bool leave_raw() {
      if (--depth_ == 0) {
        if (mode_ == kVocab) t_.vocab_complete_ = true;
        mode_ = kDom;
      } else if (mode_ == kMerges && have_left_) {
        t_.fail("model.merges[" + std::to_string(t_.merges_seen_) + "]", "expected a [left, right] pair");
      }
      return true;
    }
    template <class V>
    bool value(V&& v) {
      if (mode_ != kDom) t_.fail(mode_ == kVocab ? "model.vocab" : "model.merges", "unexpected value type");
      if (stack_.empty()) {
        root = std::forward<V>(v);
      } else if (stack_.back()->is_object()) {
        (*stack_.back())[key_] = std::forward<V>(v);
      } else {
        stack_.back()->push_back(std::forward<V>(v));
      }
      return true;
    }
    bool open(nlohmann::json container) {
      if (stack_.empty()) {
        root = std::move(container);
        stack_.push_back(&root);
      } else if (stack_.back()->is_object()) {
        auto& slot = (*stack_.back())[key_];
        slot = std::move(container);
        stack_.push_back(&slot);
      } else {
        stack_.back()->push_back(std::move(container));
        stack_.push_back(&stack_.back()->back());
      }
      return true;
    }
  };

  static std::string str_field(const nlohmann::json& j, const char* name, const std::string& where,
                               const HfJsonTokenizer& t) {
    if (!j.contains(name) || !j[name].is_string()) t.fail(where + "." + name, "missing or not a string");
    return j[name].get<std::string>();
  }

  static std::string string_pattern(const nlohmann::json& j, const std::string& where, const HfJsonTokenizer& t) {
    if (!j.contains("pattern") || !j["pattern"].is_object()) t.fail(where + ".pattern", "missing");
    const auto& p = j["pattern"];
    if (p.contains("Regex")) t.fail(where + ".pattern", "Regex patterns are not supported (only String)");
    if (!p.contains("String") || !p["String"].is_string()) t.fail(where + ".pattern", "expected {\"String\": ...}");
    return p["String"].get<std::string>();
  }

  void load(std::string_view text) {
    Loader loader(*this);
    if (!nlohmann::json::sax_parse(text, &loader)) fail("JSON", "parse failed");
    const nlohmann::json& root = loader.root;
    if (!root.is_object()) fail("(root)", "not a JSON object");
    if (!root.contains("model") || !root["model"].is_object()) fail("model", "missing");
    const nlohmann::json& model = root["model"];
    if (!model.contains("type") || model["type"] != "BPE")
      fail("model.type", "only BPE models are supported, got " + (model.contains("type") ? model["type"].dump() : "none"));
    if (vocab_.empty()) fail("model.vocab", "missing or empty");
    if (model.contains("dropout") && !model["dropout"].is_null()) fail("model.dropout", "BPE dropout is not supported");
    for (const char* f : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (model.contains(f) && !model[f].is_null() && model[f] != "")
        fail(std::string("model.") + f, "not supported");
    byte_fallback_ = model.value("byte_fallback", false);
    fuse_unk_ = model.value("fuse_unk", false);
    ignore_merges_ = model.value("ignore_merges", false);

    // id -> piece
    TokenId max_id = -1;
    vocab_.for_each([&](std::string_view, TokenId id) { max_id = std::max(max_id, id); });
    std::vector<AddedToken> added;
    if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
      if (!root["added_tokens"].is_array()) fail("added_tokens", "not an array");
      std::size_t i = 0;
      for (const auto& a : root["added_tokens"]) {
        const std::string where = "added_tokens[" + std::to_string(i++) + "]";
        if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer()) fail(where + ".id", "missing");
        for (const char* f : {"lstrip", "rstrip", "single_word"})
          if (a.value(f, false)) fail(where + "." + f, "true is not supported");
        added.push_back({a["id"].get<TokenId>(), str_field(a, "content", where, *this), a.value("special", false),
                         a.value("normalized", false)});
        if (added.back().id < 0) fail(where + ".id", "negative");
        max_id = std::max(max_id, added.back().id);
      }
    }
    // Ids index a table: refuse absurdly sparse ones rather than allocate gigabytes.
    const std::size_t entries = vocab_.size() + added.size();
    if (static_cast<std::size_t>(max_id) >= 4 * entries + 1024)
      fail("model.vocab", "ids go up to " + std::to_string(max_id) + " for only " + std::to_string(entries) + " entries");
    pieces_.assign(static_cast<std::size_t>(max_id) + 1, std::string());
    known_.assign(pieces_.size(), false);
    special_.assign(pieces_.size(), false);
    vocab_.for_each([&](std::string_view piece, TokenId id) {
      pieces_[static_cast<std::size_t>(id)] = piece;
      known_[static_cast<std::size_t>(id)] = true;
    });
    for (std::size_t i = 0; i < added.size(); ++i) {
      const AddedToken& a = added[i];
      const auto idx = static_cast<std::size_t>(a.id);
      pieces_[idx] = a.content;
      known_[idx] = true;
      special_[idx] = a.special;
      added_ids_[a.content] = a.id;
      (a.normalized ? normalized_matcher_ : raw_matcher_).add(a.content, static_cast<int>(i));
    }
    added_ = std::move(added);

    byte_ids_.fill(-1);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      if (auto id = vocab_.find(name)) byte_ids_[static_cast<std::size_t>(b)] = *id;
    }
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      auto id = vocab_.find(model["unk_token"].get<std::string>());
      if (!id) fail("model.unk_token", "not in model.vocab");
      unk_id_ = *id;
    }

    // Merges that came before the vocabulary in the file were kept as strings until now.
    for (const auto& [l, r] : deferred_merges_) resolve_merge(l, r, deferred_rank_base_++);
    deferred_merges_.clear();

    load_normalizer(root.value("normalizer", nlohmann::json()), "normalizer");
    load_pre_tokenizer(root.value("pre_tokenizer", nlohmann::json()));
    load_decoder(root.value("decoder", nlohmann::json()), "decoder");
    load_post_processor(root.value("post_processor", nlohmann::json()));
  }

  // Rank = position in model.merges; the merged piece is left + right.
  void add_merge(std::string_view left, std::string_view right) {
    if (vocab_complete_) {
      resolve_merge(left, right, merges_seen_);
    } else {
      if (deferred_merges_.empty()) deferred_rank_base_ = merges_seen_;
      deferred_merges_.emplace_back(left, right);
    }
    ++merges_seen_;
  }

  void resolve_merge(std::string_view left, std::string_view right, std::size_t rank) {
    joined_.assign(left).append(right);
    const auto a = vocab_.find(left), b = vocab_.find(right), c = vocab_.find(joined_);
    if (!a || !b || !c)
      fail("model.merges[" + std::to_string(rank) + "]",
           "\"" + std::string(left) + "\" + \"" + std::string(right) + "\" uses a piece missing from model.vocab");
    merges_.insert(*a, *b, {static_cast<std::uint32_t>(rank), *c});
  }

  void load_normalizer(const nlohmann::json& n, const std::string& where) {
    if (n.is_null()) return;
    const std::string type = n.value("type", "");
    if (type == "Sequence") {
      std::size_t i = 0;
      for (const auto& s : n.value("normalizers", nlohmann::json::array()))
        load_normalizer(s, where + ".normalizers[" + std::to_string(i++) + "]");
    } else if (type == "Replace") {
      normalizer_.push_back({NormalizerStep::kReplace, string_pattern(n, where, *this), str_field(n, "content", where, *this)});
    } else if (type == "Prepend") {
      normalizer_.push_back({NormalizerStep::kPrepend, "", str_field(n, "prepend", where, *this)});
    } else {
      fail(where + ".type", "unsupported normalizer \"" + type + "\"");
    }
  }

  void load_pre_tokenizer(const nlohmann::json& p) {
    if (p.is_null()) return;
    if (p.value("type", "") != "Split") fail("pre_tokenizer.type", "only Split is supported, got " + p.value("type", "none"));
    if (p.value("invert", false)) fail("pre_tokenizer.invert", "true is not supported");
    const std::string b = p.value("behavior", "");
    SplitRule rule{SplitRule::kIsolated, string_pattern(p, "pre_tokenizer", *this)};
    if (b == "Removed") rule.behavior = SplitRule::kRemoved;
    else if (b == "Isolated") rule.behavior = SplitRule::kIsolated;
    else if (b == "MergedWithPrevious") rule.behavior = SplitRule::kMergedWithPrevious;
    else if (b == "MergedWithNext") rule.behavior = SplitRule::kMergedWithNext;
    else if (b == "Contiguous") rule.behavior = SplitRule::kContiguous;
    else fail("pre_tokenizer.behavior", "unknown \"" + b + "\"");
    split_ = rule;
  }

  void load_decoder(const nlohmann::json& d, const std::string& where) {
    if (d.is_null()) return;
    const std::string type = d.value("type", "");
    if (type == "Sequence") {
      std::size_t i = 0;
      for (const auto& s : d.value("decoders", nlohmann::json::array()))
        load_decoder(s, where + ".decoders[" + std::to_string(i++) + "]");
    } else if (type == "Replace") {
      decoder_.push_back({DecoderStep::kReplace, string_pattern(d, where, *this), str_field(d, "content", where, *this)});
    } else if (type == "ByteFallback") {
      decoder_.push_back({DecoderStep::kByteFallback, "", ""});
    } else if (type == "Fuse") {
      decoder_.push_back({DecoderStep::kFuse, "", ""});
    } else if (type == "Strip") {
      DecoderStep s{DecoderStep::kStrip, "", str_field(d, "content", where, *this)};
      s.strip_start = d.value("start", 0u);
      s.strip_stop = d.value("stop", 0u);
      decoder_.push_back(s);
    } else {
      fail(where + ".type", "unsupported decoder \"" + type + "\"");
    }
  }

  void load_post_processor(const nlohmann::json& p) {
    if (p.is_null()) return;
    if (p.value("type", "") != "TemplateProcessing")
      fail("post_processor.type", "only TemplateProcessing is supported, got " + p.value("type", "none"));
    const auto specials = p.value("special_tokens", nlohmann::json::object());
    std::size_t i = 0;
    for (const auto& item : p.value("single", nlohmann::json::array())) {
      const std::string where = "post_processor.single[" + std::to_string(i++) + "]";
      if (item.contains("Sequence")) {
        if (item["Sequence"].value("id", "") != "A") fail(where, "only sequence A is supported");
        post_template_.push_back({true, {}});
      } else if (item.contains("SpecialToken")) {
        const std::string name = item["SpecialToken"].value("id", "");
        if (!specials.contains(name) || !specials[name].contains("ids"))
          fail(where, "special token \"" + name + "\" missing from post_processor.special_tokens");
        post_template_.push_back({false, specials[name]["ids"].get<std::vector<TokenId>>()});
      } else {
        fail(where, "expected Sequence or SpecialToken");
      }
    }
  }

  std::string source_;
  std::string joined_;
  PieceIdMap vocab_;                                                // model vocabulary
  bool vocab_complete_ = false;
  std::size_t merges_seen_ = 0;
  std::vector<std::pair<std::string, std::string>> deferred_merges_;  // merges read before the vocab
  std::size_t deferred_rank_base_ = 0;
  MergeTable merges_;
  std::vector<std::string> pieces_;  // id -> piece (model vocab, overridden by added tokens)
  std::vector<bool> known_, special_;
  std::vector<AddedToken> added_;
  std::unordered_map<std::string, TokenId> added_ids_;
  LiteralMatcher raw_matcher_, normalized_matcher_;
  std::array<TokenId, 256> byte_ids_{};
  TokenId unk_id_ = -1;
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  std::vector<NormalizerStep> normalizer_;
  std::optional<SplitRule> split_;
  std::vector<DecoderStep> decoder_;
  std::vector<TemplatePart> post_template_;
};

}  // namespace gemma4
