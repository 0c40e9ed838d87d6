// KV sharing (E2B: layers 15–34, E4B: layers 24–41): the last `num_kv_shared_layers` layers
// compute no K/V. Each reads the keys/values of the LAST non-shared layer of its own type
// (E2B: sliding -> 13, full -> 14), as produced in the same forward pass after that layer's cache
// update — not from a cache: a sliding cache has already dropped old tokens, and transformers'
// cache-coupled sharing was a real bug (#45242). The mask is the shared layer's own type's mask.
//
// config.h resolves the map (LayerSpec::kv_shared, kv_source, stores_shared_kv); this header is
// the hand-over inside a forward pass.
#pragma once

#include "gemma4/activations.h"
#include "gemma4/config.h"
#include "gemma4/error.h"

namespace gemma4 {

// Called by a K/V-computing layer after its cache update: publish its keys if later layers read them.
inline void publish_shared_kv(const LayerSpec& spec, const KeySet& keys, Activations& a) {
  if (spec.stores_shared_kv) a.shared_kv[int(spec.type)] = keys;
}

// The keys a KV-shared layer attends to.
inline const KeySet& shared_kv_for(const LayerSpec& spec, int layer, const Activations& a) {
  const KeySet& keys = a.shared_kv[int(spec.type)];
  if (keys.n == 0 && a.tokens > 0)
    fail("layer " + std::to_string(layer), "KV-shared layer ran before its source layer " +
                                              std::to_string(spec.kv_source) + " published its keys");
  return keys;
}

}  // namespace gemma4
