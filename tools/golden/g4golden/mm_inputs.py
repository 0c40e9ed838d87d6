"""Deterministic synthetic multimodal inputs: RGB images, 16 kHz waveforms and short videos.

The goldens store every raw input they use (images and videos as uint8, waveforms as float32), so
a reader never has to regenerate them; the formulas are documented here (and in
tools/golden/cases/README-mm.md) only so the inputs are explainable.

Noise comes from the same counter hash as the synthetic weights (g4golden/synthetic.py): for the
stream `name`, byte i is the top 8 bits of the 24-bit value u, i.e. floor((v + 1) * 128) with
v = uniform_pm1(name, i).
"""
from __future__ import annotations

import numpy as np

from .synthetic import uniform_pm1


def hash_bytes(name: str, count: int) -> np.ndarray:
    """count uint8 values of the hash stream `name` (top 8 bits of the 24-bit uniform)."""
    v = uniform_pm1(name, 0, count)
    return np.floor((v + 1.0) * 128.0).astype(np.uint8)


def _grid(h: int, w: int):
    y, x = np.meshgrid(np.arange(h, dtype=np.int64), np.arange(w, dtype=np.int64), indexing="ij")
    return y, x


def image_gradient(h: int, w: int) -> np.ndarray:
    """R follows x, G follows y, B follows x+y (integer ramps 0..255)."""
    y, x = _grid(h, w)
    r = (255 * x) // max(w - 1, 1)
    g = (255 * y) // max(h - 1, 1)
    b = (255 * (x + y)) // max(w + h - 2, 1)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def image_checker(h: int, w: int, cell: int = 8) -> np.ndarray:
    """High-contrast black/white checkerboard (the fp16/accumulation stress input of G13/G14)."""
    y, x = _grid(h, w)
    v = (((x // cell) + (y // cell)) % 2) * 255
    return np.stack([v, v, v], axis=-1).astype(np.uint8)


def image_noise(name: str, h: int, w: int) -> np.ndarray:
    """Uniform RGB noise from the hash stream `image/<name>`, row-major (y, x, channel)."""
    return hash_bytes(f"image/{name}", h * w * 3).reshape(h, w, 3)


def image_solid(h: int, w: int, rgb=(200, 30, 90)) -> np.ndarray:
    out = np.empty((h, w, 3), dtype=np.uint8)
    out[...] = np.asarray(rgb, dtype=np.uint8)
    return out


def image_scene(name: str, h: int, w: int) -> np.ndarray:
    """A photo-like scene: gradient sky, a yellow disk, a dark ground band, and +-8 noise."""
    y, x = _grid(h, w)
    img = image_gradient(h, w).astype(np.int64)
    cy, cx, rad = h // 3, (2 * w) // 3, max(min(h, w) // 6, 1)
    disk = (y - cy) ** 2 + (x - cx) ** 2 <= rad * rad
    img[disk] = np.array([250, 220, 40])
    ground = y >= (3 * h) // 4
    img[ground] = np.array([40, 90, 30])
    noise = hash_bytes(f"image/{name}", h * w * 3).reshape(h, w, 3).astype(np.int64) // 16 - 8
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def waveform(kind: str, num_samples: int, sample_rate: int = 16000) -> np.ndarray:
    """Synthetic mono waveform in [-1, 1], float32, computed in float64 then rounded.

    kind:
      chirp  linear chirp 100 Hz -> 6000 Hz over the clip, amplitude 0.5, plus 0.02 noise
      tones  440 Hz + 1250 Hz + 3100 Hz (amplitudes 0.3, 0.2, 0.1) gated on/off every 0.25 s
      noise  uniform noise, amplitude 0.3
    Noise samples are uniform_pm1(f"audio/{kind}/{num_samples}", i).
    """
    t = np.arange(num_samples, dtype=np.float64) / sample_rate
    dur = max(num_samples / sample_rate, 1e-9)
    noise = uniform_pm1(f"audio/{kind}/{num_samples}", 0, num_samples)
    if kind == "chirp":
        f0, f1 = 100.0, 6000.0
        phase = 2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / dur * t * t)
        x = 0.5 * np.sin(phase) + 0.02 * noise
    elif kind == "tones":
        gate = (np.floor(t / 0.25) % 2 == 0).astype(np.float64)
        x = gate * (0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1250 * t)
                    + 0.1 * np.sin(2 * np.pi * 3100 * t))
    elif kind == "noise":
        x = 0.3 * noise
    else:
        raise ValueError(f"unknown waveform kind {kind}")
    return x.astype(np.float32)


def video_moving_square(num_frames: int, h: int, w: int) -> np.ndarray:
    """[F, H, W, 3] uint8: a gradient background with a white square moving left to right and a
    per-frame brightness ramp on the blue channel, so every frame differs."""
    base = image_gradient(h, w)
    frames = np.empty((num_frames, h, w, 3), dtype=np.uint8)
    side = max(min(h, w) // 4, 1)
    for f in range(num_frames):
        fr = base.copy()
        x0 = (f * (w - side)) // max(num_frames - 1, 1)
        y0 = (h - side) // 2
        fr[y0:y0 + side, x0:x0 + side] = 255
        fr[..., 2] = ((fr[..., 2].astype(np.int64) + 7 * f) % 256).astype(np.uint8)
        frames[f] = fr
    return frames
