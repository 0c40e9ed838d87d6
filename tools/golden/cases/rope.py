"""RoPE unit case at the real head dims (runtime-bugs G6): the official Gemma4TextRotaryEmbedding
tables and apply_rotary_pos_emb for sliding layers (default RoPE, theta 1e4, D=256) and full layers
(proportional p-RoPE, theta 1e6, partial 0.25, D=512) at positions up to 131071.

rope-unit tensors ("<t>" is "sliding" or "full"):
  rope_pos [P] int32                positions
  rope_inv_freq_<t> [D/2]           inverse frequencies (zeros past the rotated part for p-RoPE)
  rope_cos_<t>, rope_sin_<t> [P,D]  float32 tables (cat(freqs, freqs)); *_bf16: the same tables
                                    as transformers hands them to a bfloat16 model (rounded)
  rope_x_<t> [P,D]                  a deterministic input vector per position
  rope_y_<t> [P,D]                  apply_rotary_pos_emb(x) in float32
"""
from __future__ import annotations

import numpy as np

from g4golden import configs

POSITIONS = [0, 1, 2, 7, 63, 100, 187, 188, 511, 512, 1000, 1023, 1024, 8191, 8192, 65535, 65536, 131071]


def generate(bundle, ctx):
    torch = ctx.torch
    from transformers import Gemma4TextConfig
    from transformers.models.gemma4.modeling_gemma4 import Gemma4TextRotaryEmbedding, apply_rotary_pos_emb

    kw = configs.realwidth_text_kwargs("31b")
    tc = Gemma4TextConfig(**kw)
    rot = Gemma4TextRotaryEmbedding(tc)
    pos = torch.tensor([POSITIONS], dtype=torch.long)
    case = bundle.case(
        "rope-unit", kind="rope",
        description="RoPE tables and rotation at real head dims: sliding (default, theta 1e4, D=256) and "
                    "full (proportional, theta 1e6, partial_rotary_factor 0.25, D=512), positions up to 131071",
        config={"positions": POSITIONS, "rope_parameters": kw["rope_parameters"],
                "head_dim": {"sliding": 256, "full": 512}})
    case.add("rope_pos", np.array(POSITIONS, dtype=np.int32))
    for short, layer_type, d in (("sliding", "sliding_attention", 256), ("full", "full_attention", 512)):
        x = torch.from_numpy(ctx.rng(f"rope-{short}").standard_normal((1, len(POSITIONS), 1, d)).astype(np.float32))
        cos, sin = rot(x, pos, layer_type)
        cos16, sin16 = rot(x.to(torch.bfloat16), pos, layer_type)
        y = apply_rotary_pos_emb(x, cos, sin, unsqueeze_dim=2)
        case.add(f"rope_inv_freq_{short}", getattr(rot, f"{layer_type}_inv_freq").numpy())
        case.add(f"rope_cos_{short}", cos[0].numpy())
        case.add(f"rope_sin_{short}", sin[0].numpy())
        case.add(f"rope_cos_{short}_bf16", cos16[0].float().numpy())
        case.add(f"rope_sin_{short}_bf16", sin16[0].float().numpy())
        case.add(f"rope_x_{short}", x[0, :, 0].numpy())
        case.add(f"rope_y_{short}", y[0, :, 0].numpy())
        if short == "full":
            # p-RoPE sanity: dims 64..255 and 320..511 pass through unchanged.
            xn, yn = x[0, :, 0].numpy(), y[0, :, 0].numpy()
            keep = np.r_[64:256, 320:512]
            if not np.array_equal(xn[:, keep], yn[:, keep]):
                raise RuntimeError("p-RoPE changed non-rotated dims")
    case.close()
