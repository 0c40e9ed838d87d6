// SentencePiece `.model` files through libsentencepiece (the one non-header dependency: link
// `sentencepiece`, found with pkg-config; the CMake option defines GEMMA4_HAVE_SENTENCEPIECE).
//
// To give the ids HF `tokenizers` gives for the converted tokenizer.json, the text is first cut at
// the special pieces written as text (CONTROL pieces such as <bos>, <|turn>, and <unk>), which
// SentencePiece itself never produces from text; the spans between go to SentencePiece, which
// handles USER_DEFINED pieces ("\n", <mask>) and byte fallback. Decoding uses the Gemma decoder
// chain of tokenizer.h (not SentencePiece's own), so invalid byte runs decode exactly as in HF.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <sentencepiece_processor.h>

#include "gemma4/tokenizer.h"
#include "gemma4/tokenizer_hf_json.h"  // LiteralMatcher

namespace gemma4 {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  static SentencePieceTokenizer from_file(const std::filesystem::path& path) {
    SentencePieceTokenizer t;
    t.source_ = path.string();
    if (!std::filesystem::exists(path)) throw TokenizerError(t.source_ + ": file not found");
    const auto status = t.sp_->Load(path.string());
    if (!status.ok()) throw TokenizerError(t.source_ + ": not a SentencePiece model: " + status.ToString());
    t.index();
    return t;
  }

  std::vector<TokenId> encode(std::string_view text, const EncodeOptions& options = {}) const override {
    std::vector<TokenId> ids;
    auto encode_span = [&](std::string_view span) {
      std::vector<int> piece_ids;
      const auto status = sp_->Encode(std::string(span), &piece_ids);
      if (!status.ok()) throw TokenizerError(source_ + ": SentencePiece encode failed: " + status.ToString());
      ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
    };
    std::size_t pos = 0;
    if (options.parse_special) {
      for (const auto& m : special_matcher_.find_all(text)) {
        if (m.begin > pos) encode_span(text.substr(pos, m.begin - pos));
        ids.push_back(m.pattern);
        pos = m.end;
      }
    }
    if (pos < text.size()) encode_span(text.substr(pos));
    return ids;  // add_special_tokens: Gemma 4 has no post-processor (add_bos_token = false)
  }

  std::string decode(std::span<const TokenId> ids, bool skip_special_tokens = false) const override {
    std::vector<std::string_view> pieces;
    pieces.reserve(ids.size());
    for (TokenId id : ids) {
      if (id < 0 || id >= static_cast<TokenId>(pieces_.size())) continue;
      if (skip_special_tokens && special_[static_cast<std::size_t>(id)]) continue;
      pieces.push_back(pieces_[static_cast<std::size_t>(id)]);
    }
    return decode_gemma_pieces(pieces);
  }

  const std::string& id_to_piece(TokenId id) const override {
    if (id < 0 || id >= static_cast<TokenId>(pieces_.size()))
      throw std::out_of_range(source_ + ": token id " + std::to_string(id) + " is not in the vocabulary");
    return pieces_[static_cast<std::size_t>(id)];
  }

  std::optional<TokenId> piece_to_id(std::string_view piece) const override {
    auto it = ids_.find(std::string(piece));
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }

  std::size_t vocab_size() const override { return pieces_.size(); }

  bool is_special(TokenId id) const override {
    return id >= 0 && id < static_cast<TokenId>(special_.size()) && special_[static_cast<std::size_t>(id)];
  }

 private:
  SentencePieceTokenizer() : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}

  void index() {
    const int n = sp_->GetPieceSize();
    pieces_.resize(static_cast<std::size_t>(n));
    special_.assign(static_cast<std::size_t>(n), false);
    for (int id = 0; id < n; ++id) {
      pieces_[static_cast<std::size_t>(id)] = sp_->IdToPiece(id);
      ids_.emplace(pieces_[static_cast<std::size_t>(id)], id);
      if (sp_->IsControl(id) || sp_->IsUnknown(id)) {
        special_[static_cast<std::size_t>(id)] = true;
        special_matcher_.add(pieces_[static_cast<std::size_t>(id)], id);
      }
    }
  }

  std::string source_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::vector<std::string> pieces_;
  std::vector<bool> special_;
  std::unordered_map<std::string, TokenId> ids_;
  LiteralMatcher special_matcher_;  // pattern index = token id
};

}  // namespace gemma4
