"""Recording intermediate tensors of the pinned transformers Gemma 4 vision and audio towers.

Everything is captured with forward hooks on the reference modules (or, for the vision 2D RoPE,
by wrapping the module-level function the attention calls), so the stored values are exactly what
the pinned code computed; nothing is recomputed here.

Names follow the text contract (attn_norm-N, Qcur_normed-N, kqv_out-N, l_out-N, ...) with a
prefix per tower: `v_` vision, `a_` audio. Layouts are tokens-first with the batch dimension
dropped (every capture here runs with batch 1).
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from transformers.models.gemma4 import modeling_gemma4 as hf


def _np(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    if t.dtype.is_floating_point:
        t = t.to(torch.float32)
    elif t.dtype == torch.bool:
        t = t.to(torch.uint8)
    elif t.dtype == torch.int64:
        t = t.to(torch.int32)
    return t.numpy().copy()


class Recorder:
    """Ordered name -> array store fed by hooks."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.tensors: dict[str, np.ndarray] = {}
        self.order: list[str] = []
        self._handles = []
        self.layer = -1

    def put(self, name: str, value) -> None:
        full = self.prefix + name
        if full in self.tensors:
            raise ValueError(f"tensor {full} recorded twice")
        arr = _np(value) if isinstance(value, torch.Tensor) else np.asarray(value)
        self.tensors[full] = arr
        self.order.append(full)

    def on_output(self, module, name: str, fn=None):
        def hook(_m, _inp, out):
            self.put(name.replace("#", str(self.layer)), fn(out) if fn else out)
        self._handles.append(module.register_forward_hook(hook))

    def on_input(self, module, name: str, fn=None):
        def hook(_m, args, kwargs):
            x = args[0] if args else next(iter(kwargs.values()))
            self.put(name.replace("#", str(self.layer)), fn(x) if fn else x)
        self._handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))

    def track_layer(self, module, index: int):
        def hook(_m, _args):
            self.layer = index
        self._handles.append(module.register_forward_pre_hook(hook))

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()


def _b0(t):
    """Drop the batch dimension (batch must be 1)."""
    if isinstance(t, tuple):
        t = t[0]
    assert t.shape[0] == 1, t.shape
    return t[0]


def _flat_heads(t):
    t = _b0(t)
    return t.reshape(t.shape[0], -1)


@contextlib.contextmanager
def record_vision(vision_tower: "hf.Gemma4VisionModel", embedder: "hf.Gemma4MultimodalEmbedder",
                  prefix: str = "v_", soft_only: bool = False):
    """Hooks every stage of the vision tower + embed_vision; yields the Recorder.
    soft_only: record only `soft_tokens` (any batch size: several images or video frames)."""
    rec = Recorder(prefix)
    if soft_only:
        rec.on_output(embedder.embedding_projection, "soft_tokens")
        try:
            yield rec
        finally:
            rec.remove()
        return
    pe = vision_tower.patch_embedder
    rec.on_output(pe.input_proj, "patch_proj", _b0)
    orig_pos = pe._position_embeddings

    def pos_wrapper(ids, padding):
        out = orig_pos(ids, padding)
        rec.put("pos_embd", _b0(out))
        return out

    pe._position_embeddings = pos_wrapper
    rec.on_output(pe, "inp", _b0)

    for i, layer in enumerate(vision_tower.encoder.layers):
        rec.track_layer(layer, i)
        at = layer.self_attn
        rec.on_output(layer.input_layernorm, "attn_norm-#", _b0)
        rec.on_output(at.q_proj, "Qcur-#", _b0)
        rec.on_output(at.q_norm, "Qcur_normed-#", _b0)
        rec.on_output(at.k_proj, "Kcur-#", _b0)
        rec.on_output(at.k_norm, "Kcur_normed-#", _b0)
        rec.on_output(at.v_proj, "Vcur-#", _b0)
        rec.on_output(at.v_norm, "Vcur_normed-#", _b0)
        rec.on_input(at.o_proj, "kqv_out-#", _b0)
        rec.on_output(at.o_proj, "attn_proj-#", _b0)
        rec.on_output(layer.post_attention_layernorm, "attn_post_norm-#", _b0)
        rec.on_input(layer.pre_feedforward_layernorm, "attn_out-#", _b0)
        rec.on_output(layer.pre_feedforward_layernorm, "ffn_norm-#", _b0)
        rec.on_input(layer.mlp.down_proj, "ffn_gate_par-#", _b0)
        rec.on_output(layer.mlp.down_proj, "ffn_out-#", _b0)
        rec.on_output(layer.post_feedforward_layernorm, "ffn_post_norm-#", _b0)
        rec.on_output(layer, "l_out-#", _b0)

    def pooler_hook(_m, _inp, out):
        hidden, mask = out
        rec.put("pooled", _b0(hidden))
        rec.put("pooled_mask", _b0(mask))

    rec._handles.append(vision_tower.pooler.register_forward_hook(pooler_hook))
    rec.on_output(vision_tower, "out", lambda o: o.last_hidden_state)
    rec.on_output(embedder.embedding_pre_projection_norm, "mm_norm")
    rec.on_output(embedder.embedding_projection, "soft_tokens")

    # Q/K after the 2D RoPE: the attention calls the module-level function for q, then for k.
    orig_rope = hf.apply_multidimensional_rope
    calls = {"n": 0}

    def rope_wrapper(x, cos, sin, position_ids, unsqueeze_dim=2):
        y = orig_rope(x, cos, sin, position_ids, unsqueeze_dim=unsqueeze_dim)
        which = "Qcur_pos" if calls["n"] % 2 == 0 else "Kcur_pos"
        calls["n"] += 1
        rec.put(f"{which}-{rec.layer}", _b0(y))
        return y

    hf.apply_multidimensional_rope = rope_wrapper
    try:
        yield rec
    finally:
        hf.apply_multidimensional_rope = orig_rope
        pe._position_embeddings = orig_pos
        rec.remove()


@contextlib.contextmanager
def record_audio(audio_tower: "hf.Gemma4AudioModel", embedder: "hf.Gemma4MultimodalEmbedder",
                 prefix: str = "a_", detail: bool = True):
    """Hooks every stage of the audio tower + embed_audio; yields the Recorder.

    Conv feature maps are stored as [time, freq, channel] (the order the model flattens them in).
    detail=False skips the 4x-wide FFN hidden and the per-projection q/k/v tensors.
    """
    rec = Recorder(prefix)
    sub = audio_tower.subsample_conv_projection

    def tfc(t):  # [1, C, T, F] -> [T, F, C]
        return _b0(t).permute(1, 2, 0)

    for j, lay in enumerate((sub.layer0, sub.layer1)):
        rec.on_output(lay.conv, f"conv{j}_raw", tfc)
        rec.on_output(lay.norm, f"conv{j}_norm", _b0)   # hooked on [1, T, F, C]

        def lay_hook(_m, _inp, out, j=j):
            hidden, mask = out
            rec.put(f"conv{j}_out", tfc(hidden))
            rec.put(f"mask{j + 1}", _b0(mask))

        rec._handles.append(lay.register_forward_hook(lay_hook))
    rec.on_output(sub.input_proj_linear, "inp", _b0)
    rec.on_output(audio_tower.rel_pos_enc, "rel_pos_embd", lambda t: t.reshape(t.shape[-2], t.shape[-1]))

    for i, layer in enumerate(audio_tower.layers):
        rec.track_layer(layer, i)
        for k, ff in ((1, layer.feed_forward1), (2, layer.feed_forward2)):
            rec.on_output(ff.pre_layer_norm, f"ffn{k}_norm-#", _b0)
            if detail:
                rec.on_output(ff.ffw_layer_1, f"ffn{k}_up-#", _b0)
            rec.on_output(ff.ffw_layer_2, f"ffn{k}_down-#", _b0)
            rec.on_output(ff.post_layer_norm, f"ffn{k}_post_norm-#", _b0)
            rec.on_output(ff, f"ffn{k}_out-#", _b0)
        at = layer.self_attn
        rec.on_output(layer.norm_pre_attn, "attn_norm-#", _b0)
        if detail:
            rec.on_output(at.q_proj, "Qcur-#", _b0)
            rec.on_output(at.k_proj, "Kcur-#", _b0)
            rec.on_output(at.v_proj, "Vcur-#", _b0)
        rec.on_output(at.relative_k_proj, "rel_k-#", lambda t: t.reshape(t.shape[-2], t.shape[-1]))

        def attn_hook(_m, _inp, out):
            # out[1]: softmax probabilities [1, heads, blocks, chunk, context] after cap and mask
            rec.put(f"attn_probs-{rec.layer}", _b0(out[1]))

        rec._handles.append(at.register_forward_hook(attn_hook))
        rec.on_input(at.post, "kqv_out-#", _b0)
        rec.on_output(at.post, "attn_proj-#", _b0)
        rec.on_output(layer.norm_post_attn, "attn_post_norm-#", _b0)
        lc = layer.lconv1d
        rec.on_input(lc, "attn_out-#", _b0)
        rec.on_output(lc.pre_layer_norm, "lconv_norm-#", _b0)
        rec.on_output(lc.linear_start, "lconv_start-#", _b0)
        rec.on_output(lc.depthwise_conv1d, "lconv_dw-#", lambda t: _b0(t).transpose(0, 1))
        rec.on_output(lc.conv_norm, "lconv_conv_norm-#", _b0)
        rec.on_output(lc.linear_end, "lconv_end-#", _b0)
        rec.on_output(lc, "lconv_out-#", _b0)
        rec.on_output(layer.norm_out, "l_out-#", _b0)

    rec.on_output(audio_tower.output_proj, "out", _b0)
    rec.on_output(embedder.embedding_pre_projection_norm, "mm_norm", _b0)
    rec.on_output(embedder.embedding_projection, "soft_tokens_all", _b0)
    try:
        yield rec
    finally:
        rec.remove()
