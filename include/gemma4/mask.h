// Attention masks (masking_utils semantics at the pinned transformers revision; 1 = may attend).
//
//   full layers:     kv ≤ q                                   (causal, never bidirectional)
//   sliding layers:  kv > q − W  ∧  (kv ≤ q  ∨  block[q] = block[kv] ≥ 0)
//
// block[t] is the index of the contiguous run of image/video soft tokens holding position t, or −1
// (text, audio, boi/eoi). Only the 31B and 26B-A4B use blocks (use_bidirectional_attention =
// "vision"), and only in the prefill that contains the image; E2B/E4B are causal everywhere.
// Within an image, look-ahead is unbounded (the window bounds the left side only).
#pragma once

#include <cstdint>
#include <vector>

#include "gemma4/config.h"

namespace gemma4 {

// Block ids from mm_token_type_ids (0 text, 1 image, 2 video, 3 audio): vision runs get 0, 1, ...
inline std::vector<int> vision_block_ids(const std::vector<int>& mm_token_type_ids) {
  std::vector<int> block(mm_token_type_ids.size(), -1);
  int next = -1;
  bool in_run = false;
  for (size_t t = 0; t < mm_token_type_ids.size(); ++t) {
    const bool vision = mm_token_type_ids[t] == 1 || mm_token_type_ids[t] == 2;
    if (vision && !in_run) ++next;
    in_run = vision;
    if (vision) block[t] = next;
  }
  return block;
}

struct MaskRule {
  LayerType type = LayerType::kFull;
  int window = 0;                         // sliding layers
  const std::vector<int>* blocks = nullptr;  // block id per absolute position, or null (causal)
  bool blocks_on_full = false;  // contrast only: Gemma 3's overlay on full layers (never Gemma 4)

  int block_of(int pos) const {
    return blocks && pos >= 0 && size_t(pos) < blocks->size() ? (*blocks)[size_t(pos)] : -1;
  }
  bool allowed(int q, int kv) const {
    if (kv < 0) return false;  // empty cache slot
    if (type == LayerType::kFull && !blocks_on_full) return kv <= q;
    if (type == LayerType::kSliding && kv <= q - window) return false;
    if (kv <= q) return true;
    const int b = block_of(q);
    return b >= 0 && b == block_of(kv);
  }
};

// mask[i, j] = rule.allowed(query_pos[i], key_pos[j]).
inline void build_mask(const MaskRule& rule, const int* query_pos, size_t nq, const int* key_pos, size_t nk,
                       std::vector<uint8_t>& mask) {
  mask.resize(nq * nk);
  for (size_t i = 0; i < nq; ++i)
    for (size_t j = 0; j < nk; ++j) mask[i * nk + j] = rule.allowed(query_pos[i], key_pos[j]) ? 1 : 0;
}

}  // namespace gemma4
