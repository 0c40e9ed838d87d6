// Opening the tokenizer of a checkpoint folder: tokenizer.json (implemented in this project) when
// present, otherwise tokenizer.model through libsentencepiece when the build has it.
#pragma once

#include <filesystem>
#include <memory>

#include "gemma4/tokenizer.h"
#include "gemma4/tokenizer_hf_json.h"
#ifdef GEMMA4_HAVE_SENTENCEPIECE
#include "gemma4/tokenizer_sentencepiece.h"
#endif

namespace gemma4 {

inline std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir) {
  if (const auto json = dir / "tokenizer.json"; std::filesystem::exists(json))
    return std::make_unique<HfJsonTokenizer>(HfJsonTokenizer::from_file(json));
  const auto model = dir / "tokenizer.model";
#ifdef GEMMA4_HAVE_SENTENCEPIECE
  if (std::filesystem::exists(model))
    return std::make_unique<SentencePieceTokenizer>(SentencePieceTokenizer::from_file(model));
  throw TokenizerError(dir.string() + ": no tokenizer.json or tokenizer.model");
#else
  if (std::filesystem::exists(model))
    throw TokenizerError(model.string() + ": SentencePiece models need a build with libsentencepiece "
                         "(GEMMA4_HAVE_SENTENCEPIECE); tokenizer.json is missing");
  throw TokenizerError(dir.string() + ": no tokenizer.json");
#endif
}

}  // namespace gemma4
