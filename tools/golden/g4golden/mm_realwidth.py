"""Real-width vision and audio towers (released widths, 2 layers), built standalone and filled
with the synthetic weights under their Gemma4ForConditionalGeneration state-dict names.

Models registered in the manifest (config.json committed, weights regenerated from
`synthetic_weights`, which lists only the tower and its embedder):
  models/e2b-realwidth-vision   on-device tower: 768 hidden, 12x64 heads, MLP 3072, clipped
                                linears; embed_vision projects to the E2B text width 1536
  models/31b-realwidth-vision   large tower: 1152 hidden, 16x72 heads, MLP 4304, standardize;
                                embed_vision projects to the 31B text width 5376
  models/e2b-realwidth-audio    Conformer: 1024 hidden, 8x128 heads, conv channels [128, 32],
                                output_proj 1536; embed_audio projects to 1536
The config.json is a full Gemma4Config whose text_config is the real-width text slice of
configs.realwidth_text_kwargs (only its hidden_size matters here: the projection target).
"""
from __future__ import annotations

import numpy as np

from . import configs, weights
from .bundle import dump_json
from .synthetic import uniform_pm1

REALWIDTH_LAYERS = 2


def vision_kwargs(variant: str) -> dict:
    if variant in ("e2b", "e4b"):
        return dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=REALWIDTH_LAYERS,
                    num_attention_heads=12, num_key_value_heads=12, head_dim=64, patch_size=16,
                    pooling_kernel_size=3, position_embedding_size=10240, use_clipped_linears=True,
                    standardize=False, rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh")
    return dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=REALWIDTH_LAYERS,
                num_attention_heads=16, num_key_value_heads=16, head_dim=72, patch_size=16,
                pooling_kernel_size=3, position_embedding_size=10240, use_clipped_linears=False,
                standardize=True, rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh")


def audio_kwargs() -> dict:
    return dict(hidden_size=1024, num_hidden_layers=REALWIDTH_LAYERS, num_attention_heads=8, hidden_act="silu",
                subsampling_conv_channels=[128, 32], conv_kernel_size=5, residual_weight=0.5,
                attention_chunk_size=12, attention_context_left=13, attention_context_right=0,
                attention_logit_cap=50.0, attention_invalid_logits_value=-1.0e9,
                use_clipped_linears=True, rms_norm_eps=1e-6, gradient_clipping=1e10,
                output_proj_dims=1536)


def config(variant: str, with_vision: bool, with_audio: bool):
    from transformers import Gemma4AudioConfig, Gemma4Config, Gemma4TextConfig, Gemma4VisionConfig

    return Gemma4Config(
        text_config=Gemma4TextConfig(**configs.realwidth_text_kwargs(variant)),
        vision_config=Gemma4VisionConfig(**vision_kwargs(variant)) if with_vision else None,
        audio_config=Gemma4AudioConfig(**audio_kwargs()) if with_audio else None,
        **configs.top_level_kwargs(),
    )


def fill_prefixed(module, prefix: str, chunk: int = 1 << 22) -> list[tuple[str, tuple]]:
    """Fill every checkpoint tensor of a standalone submodule with the synthetic values of its
    full state-dict key `prefix + local name`; returns the (full name, shape) pairs."""
    import torch

    out = []
    for local, t in module.state_dict(keep_vars=True).items():
        name = prefix + local
        shape = tuple(t.shape)
        center, s = weights.weight_params(name, shape)
        flat = t.data.view(-1)
        n = flat.numel()
        with torch.no_grad():
            for start in range(0, n, chunk):
                count = min(chunk, n - start)
                vals = (center + 2.0**s * uniform_pm1(name, start, count)).astype(np.float32)
                flat[start:start + count].copy_(torch.from_numpy(vals))
        out.append((name, shape))
    return out


def build_vision(bundle, ctx, variant: str):
    """(tower, embedder, rel_dir) for the real-width vision model of `variant`."""
    from transformers.models.gemma4 import modeling_gemma4 as hf

    cfg = config(variant, with_vision=True, with_audio=False)
    cfg.vision_config._attn_implementation = "eager"
    tower = hf.Gemma4VisionModel(cfg.vision_config).eval()
    emb = hf.Gemma4MultimodalEmbedder(cfg.vision_config, cfg.text_config).eval()
    named = fill_prefixed(tower, "model.vision_tower.") + fill_prefixed(emb, "model.embed_vision.")
    rel = _register(bundle, ctx, f"models/{variant}-realwidth-vision", variant, cfg, named,
                    ["model.vision_tower", "model.embed_vision"])
    return tower, emb, rel


def build_audio(bundle, ctx, variant: str = "e2b"):
    from transformers.models.gemma4 import modeling_gemma4 as hf

    cfg = config(variant, with_vision=False, with_audio=True)
    cfg.audio_config._attn_implementation = "eager"
    tower = hf.Gemma4AudioModel(cfg.audio_config).eval()
    emb = hf.Gemma4MultimodalEmbedder(cfg.audio_config, cfg.text_config).eval()
    named = fill_prefixed(tower, "model.audio_tower.") + fill_prefixed(emb, "model.embed_audio.")
    rel = _register(bundle, ctx, f"models/{variant}-realwidth-audio", variant, cfg, named,
                    ["model.audio_tower", "model.embed_audio"])
    return tower, emb, rel


def _register(bundle, ctx, rel: str, variant: str, cfg, named, components) -> str:
    entry = {"variant": variant, "kind": "realwidth", "config": f"{rel}/config.json",
             "components": components,
             "synthetic_weights": weights.synthetic_entries(named)}
    bundle.add_model(rel, entry)
    bundle.add_file(f"{rel}/config.json", dump_json(cfg.to_dict()),
                    f"config of the real-width {'/'.join(components)} slice (weights regenerated from the manifest)")
    return rel
