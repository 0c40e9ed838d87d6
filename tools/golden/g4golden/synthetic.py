"""Deterministic synthetic weights: the language-neutral algorithm shared with the C++ side.

Every element of every tensor is a pure function of (tensor name, flat element index, center,
scale_log2), so any runtime can rebuild a real-width model without weight files:

    seed  = FNV-1a-64(UTF-8 bytes of the tensor name)        # Gemma4ForConditionalGeneration key
    x     = seed + (i + 1) * 0x9E3779B97F4A7C15   (mod 2^64)  # i = row-major flat index
    x     = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9  (mod 2^64)  # splitmix64 finaliser
    x     = (x ^ (x >> 27)) * 0x94D049BB133111EB  (mod 2^64)
    x     =  x ^ (x >> 31)
    u     = x >> 40                                           # top 24 bits, 0 .. 2^24-1
    v     = (u + 0.5) * 2^-23 - 1                             # uniform on (-1, 1), mean 0
    w     = float32(center + 2^scale_log2 * v)

`center + 2^scale_log2 * v` is exact in float64 for the centers and scales we use (dyadic
numbers with few bits), so the only rounding is the final float64 -> float32 conversion
(round-to-nearest-even). No fused multiply-add can change the result.

C++ twin: include/gemma4/synthetic_weights.h.
"""
from __future__ import annotations

import numpy as np

GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def fnv1a64(name: str) -> int:
    h = FNV_OFFSET
    for byte in name.encode("utf-8"):
        h ^= byte
        h = (h * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def uniform_pm1(name: str, start: int, count: int) -> np.ndarray:
    """v for flat indices [start, start+count) of tensor `name`, as float64 in (-1, 1)."""
    with np.errstate(over="ignore"):
        idx = np.arange(start + 1, start + count + 1, dtype=np.uint64)
        x = np.uint64(fnv1a64(name)) + idx * GOLDEN_GAMMA
        x = (x ^ (x >> np.uint64(30))) * MIX1
        x = (x ^ (x >> np.uint64(27))) * MIX2
        x = x ^ (x >> np.uint64(31))
    u = (x >> np.uint64(40)).astype(np.float64)
    return (u + 0.5) * 2.0**-23 - 1.0


def synthetic_tensor(name: str, shape, center: float, scale_log2: int,
                     chunk: int = 1 << 24) -> np.ndarray:
    """The float32 tensor `name` of `shape`; generated in chunks to bound float64 scratch memory."""
    n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    out = np.empty(n, dtype=np.float32)
    scale = 2.0**scale_log2
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        out[start:start + count] = (center + scale * uniform_pm1(name, start, count)).astype(np.float32)
    return out.reshape(shape)


def _self_check() -> None:
    # Pinned values; the C++ test suite checks the same numbers (tests/core).
    assert fnv1a64("") == 0xCBF29CE484222325
    assert fnv1a64("a") == 0xAF63DC4C8601EC8C
    v = uniform_pm1("model.language_model.embed_tokens.weight", 0, 4)
    assert np.all(np.abs(v) < 1.0)


if __name__ == "__main__":
    _self_check()
    t = synthetic_tensor("model.language_model.embed_tokens.weight", (2, 3), 0.0, -3)
    print(t)
