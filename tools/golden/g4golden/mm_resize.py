"""The image processor's resize, written out: torchvision `resize(uint8, bicubic, antialias=True)`
as the pinned torch computes it on CPU for uint8 images, reproduced bit for bit.

The generator asserts that this function equals the processor's resize on every image and budget
of the `image-preprocess` case (up- and down-scaling), so the description below is checked, not
assumed. A C++ port that follows it matches the goldens exactly.

Algorithm (separable, horizontal pass first, uint8 in between):
  for one axis resized from n_in to n_out (skipped when n_in == n_out):
    scale   = n_in / n_out
    support = 2 * max(scale, 1)                # bicubic radius 2, widened when downscaling
    for output index i:
      center = scale * (i + 0.5)
      lo     = max(int(center - support + 0.5), 0)          # int() truncates toward zero
      hi     = min(int(center + support + 0.5), n_in)
      w_j    = cubic((j + lo - center + 0.5) / max(scale, 1)),  j = 0 .. hi-lo-1   (float64)
      w_j   /= sum(w)
    cubic(x) (a = -0.5): |x| < 1: (a+2)|x|^3 - (a+3)|x|^2 + 1;  1 <= |x| < 2: a(|x|^3 - 5|x|^2 + 8|x| - 4); else 0
    fixed point, one precision p per axis: p = the largest value in 0..22 such that
      int(0.5 + max_w * 2^(p+1)) < 2^15 still holds for every p' < p  (loop: p = 0; while p < 22 and
      int(0.5 + max_w * 2^(p+1)) < 2^15: p += 1), max_w = the largest normalised weight of the axis
    integer weight   W_j = trunc(w_j * 2^p + (0.5 if w_j >= 0 else -0.5))
    output           y_i = clamp((sum_j x[lo + j] * W_j + 2^(p-1)) >> p, 0, 255)   (arithmetic shift)
  image: x -> horizontal pass (width) -> uint8 -> vertical pass (height) -> uint8.
"""
from __future__ import annotations

import numpy as np


def _cubic(x: float, a: float = -0.5) -> float:
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return 0.0


def axis_weights(n_in: int, n_out: int):
    """([(lo, int weights)] per output index, precision p) for one axis."""
    scale = n_in / n_out
    support = 2.0 * scale if scale >= 1.0 else 2.0
    inv = 1.0 / scale if scale >= 1.0 else 1.0
    rows = []
    for i in range(n_out):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        w = np.array([_cubic((j + lo - center + 0.5) * inv) for j in range(hi - lo)], dtype=np.float64)
        rows.append((lo, w / w.sum()))
    max_w = max(float(w.max()) for _, w in rows)
    p = 0
    while p < 22 and int(0.5 + max_w * (1 << (p + 1))) < (1 << 15):
        p += 1
    irows = [(lo, np.array([int(v * (1 << p) + (0.5 if v >= 0 else -0.5)) for v in w], dtype=np.int64))
             for lo, w in rows]
    return irows, p


def _pass(img: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    n_in = img.shape[axis]
    if n_in == n_out:
        return img
    rows, p = axis_weights(n_in, n_out)
    x = np.moveaxis(img, axis, -1)
    out = np.empty(x.shape[:-1] + (n_out,), dtype=np.int64)
    for i, (lo, w) in enumerate(rows):
        acc = (x[..., lo:lo + len(w)] * w).sum(-1) + (1 << (p - 1))
        out[..., i] = np.clip(acc >> p, 0, 255)
    return np.moveaxis(out, -1, axis)


def resize_uint8_bicubic_aa(img_hwc: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """uint8 [H, W, C] -> uint8 [out_h, out_w, C]."""
    x = img_hwc.astype(np.int64)
    x = _pass(x, out_w, 1)
    x = _pass(x, out_h, 0)
    return x.astype(np.uint8)
