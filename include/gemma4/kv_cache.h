// The KV cache: what each K/V-computing layer keeps between forward calls.
//
//   full layers:    every token so far, in order (grows; memory ∝ context length);
//   sliding layers: a ring buffer of `window` slots; token at position p lives in slot p % W and
//                   evicts p − W, which no later query can see (allowed: kv > q − W).
// KV-shared layers (E2B/E4B) own no cache at all: they read their source layer's keys (kv_sharing.h).
//
// Cached K is post-k_norm and post-RoPE; cached V is post-v_norm — exactly what attention reads.
#pragma once

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "gemma4/config.h"
#include "gemma4/error.h"

namespace gemma4 {

// The keys one attention call reads: rows of [n, Hkv·D] with their absolute positions.
struct KeySet {
  const float* k = nullptr;
  const float* v = nullptr;
  const int* pos = nullptr;
  int n = 0;
};

class LayerKVCache {
 public:
  LayerKVCache() = default;
  LayerKVCache(LayerType type, int kv_dim, int window) : type_(type), kv_dim_(kv_dim), window_(window) {
    if (type_ == LayerType::kSliding) {
      k_.assign(size_t(window_) * size_t(kv_dim_), 0.0f);
      v_.assign(k_.size(), 0.0f);
      pos_.assign(size_t(window_), -1);
    }
  }

  // Adds `n` new rows (positions `pos`) and returns the keys the new queries attend to:
  //   full:    the whole cache (new rows included);
  //   sliding: the still-visible old rows, oldest first, then all new rows — gathered into
  //            `scratch_*` first, because a long chunk overwrites ring slots its early queries need.
  KeySet append(const float* k, const float* v, const int* pos, int n, std::vector<float>& scratch_k,
                std::vector<float>& scratch_v, std::vector<int>& scratch_pos) {
    const size_t row = size_t(kv_dim_);
    if (type_ == LayerType::kFull) {
      k_.insert(k_.end(), k, k + size_t(n) * row);
      v_.insert(v_.end(), v, v + size_t(n) * row);
      pos_.insert(pos_.end(), pos, pos + n);
      return KeySet{k_.data(), v_.data(), pos_.data(), int(pos_.size())};
    }
    // Old slots in logical (position) order.
    std::vector<int> slots;
    for (int s = 0; s < window_; ++s)
      if (pos_[size_t(s)] >= 0) slots.push_back(s);
    std::sort(slots.begin(), slots.end(), [&](int a, int b) { return pos_[size_t(a)] < pos_[size_t(b)]; });
    const size_t total = slots.size() + size_t(n);
    scratch_k.resize(total * row);
    scratch_v.resize(total * row);
    scratch_pos.resize(total);
    size_t r = 0;
    for (int s : slots) {
      std::memcpy(&scratch_k[r * row], &k_[size_t(s) * row], row * sizeof(float));
      std::memcpy(&scratch_v[r * row], &v_[size_t(s) * row], row * sizeof(float));
      scratch_pos[r++] = pos_[size_t(s)];
    }
    std::memcpy(&scratch_k[r * row], k, size_t(n) * row * sizeof(float));
    std::memcpy(&scratch_v[r * row], v, size_t(n) * row * sizeof(float));
    std::copy(pos, pos + n, &scratch_pos[r]);
    // Now store the new rows; only the last W survive.
    for (int t = std::max(0, n - window_); t < n; ++t) {
      const size_t s = size_t(pos[t] % window_);
      std::memcpy(&k_[s * row], k + size_t(t) * row, row * sizeof(float));
      std::memcpy(&v_[s * row], v + size_t(t) * row, row * sizeof(float));
      pos_[s] = pos[t];
    }
    return KeySet{scratch_k.data(), scratch_v.data(), scratch_pos.data(), int(total)};
  }

  // Rows currently held (for tests: a sliding cache never holds more than W).
  int size() const {
    return int(std::count_if(pos_.begin(), pos_.end(), [](int p) { return p >= 0; }));
  }
  const std::vector<int>& positions() const { return pos_; }

 private:
  LayerType type_ = LayerType::kFull;
  int kv_dim_ = 0;
  int window_ = 0;
  std::vector<float> k_, v_;
  std::vector<int> pos_;
};

class KVCache {
 public:
  KVCache() = default;
  explicit KVCache(const TextConfig& c) {
    layers_.resize(c.layers.size());
    for (size_t i = 0; i < c.layers.size(); ++i) {
      const LayerSpec& s = c.layers[i];
      if (s.kv_shared) continue;  // reads its source layer's keys
      layers_[i] = LayerKVCache(s.type, s.num_kv_heads * s.head_dim, c.sliding_window);
    }
  }
  LayerKVCache& layer(int i) { return layers_[size_t(i)]; }
  const LayerKVCache& layer(int i) const { return layers_[size_t(i)]; }
  int num_tokens() const { return num_tokens_; }
  void advance(int n) { num_tokens_ += n; }

 private:
  std::vector<LayerKVCache> layers_;
  int num_tokens_ = 0;
};

}  // namespace gemma4
