"""Capturing the text decoder's intermediates from the official transformers modules.

Every tensor is read from a forward hook (input or output of an official submodule) or from the
official `apply_rotary_pos_emb` function, wrapped for the duration of the forward pass. The only
value assembled here is `ffn_residual-N` of layers without PLE: the layer adds the two hooked
tensors `attn_out-N + ffn_post_norm-N` and then scales in place by layer_scalar, so no hook sees
the sum; it is recomputed with the same float32 add.

Layout: batch dimension dropped, tokens first. Names follow reference_outputs/README.md.
"""
from __future__ import annotations

import numpy as np


def _np(t) -> np.ndarray:
    """float32 numpy copy; drops the batch dimension of [B, S, ...] tensors (B = 1). The MoE
    path works on flattened [B*S, ...] 2-D tensors, which are already tokens-first."""
    a = t.detach().to("cpu").float().numpy()
    return (a[0] if a.ndim >= 3 else a).copy()


def capture_text_forward(torch, model, layers: set[int] | None = None, **forward_kwargs):
    """Run `model(**forward_kwargs)` (batch 1) and return (output, [(name, array), ...]).

    `layers`: if given, per-layer tensors are kept only for these layer indices (l_out-N is
    always kept for every layer)."""
    from transformers.models.gemma4 import modeling_gemma4 as mg

    lm = model.model.language_model
    cfg = lm.config
    records: list[tuple[str, np.ndarray]] = []
    handles = []
    state = {"layer": None, "rope_calls": 0}
    per_layer_inputs: dict[int, np.ndarray] = {}
    pending: dict[str, np.ndarray] = {}

    def keep(i: int) -> bool:
        return layers is None or i in layers

    def add(name, t):
        records.append((name, t if isinstance(t, np.ndarray) else _np(t)))

    def out_hook(name_fn, idx=None):
        def hook(mod, args, output):
            i = state["layer"]
            if i is not None and not keep(i):
                return
            o = output if idx is None else output[idx]
            add(name_fn(i), o)
        return hook

    def in_hook(name_fn):
        def hook(mod, args, kwargs):
            i = state["layer"]
            if i is not None and not keep(i):
                return
            x = args[0] if args else next(iter(kwargs.values()))
            add(name_fn(i), x)
        return hook

    def reg_out(mod, name_fn, idx=None):
        handles.append(mod.register_forward_hook(out_hook(name_fn, idx)))

    def reg_in(mod, name_fn):
        handles.append(mod.register_forward_pre_hook(in_hook(name_fn), with_kwargs=True))

    # Embeddings (inputs of the language model: after any multimodal scatter).
    def lm_pre(mod, args, kwargs):
        x = kwargs.get("inputs_embeds")
        add("inp_scaled", x)
        pli = kwargs.get("per_layer_inputs")
        if pli is not None:
            add("inp_per_layer_selected", pli)
    handles.append(lm.register_forward_pre_hook(lm_pre, with_kwargs=True))
    if cfg.hidden_size_per_layer_input:
        reg_out(lm.per_layer_projection_norm, lambda i: "per_layer_proj")

    # Rotary: the official function, wrapped.
    orig_rope = mg.apply_rotary_pos_emb

    def rope_wrapper(x, cos, sin, unsqueeze_dim=1):
        y = orig_rope(x, cos, sin, unsqueeze_dim=unsqueeze_dim)
        i = state["layer"]
        if i is not None and keep(i):
            which = "Qcur_pos" if state["rope_calls"] == 0 else "Kcur_pos"
            add(f"{which}-{i}", y)
        state["rope_calls"] += 1
        return y

    for i, layer in enumerate(lm.layers):
        def layer_pre(mod, args, kwargs, i=i):
            state["layer"] = i
            state["rope_calls"] = 0
            pli = args[1] if len(args) > 1 else kwargs.get("per_layer_input")
            if pli is not None:
                per_layer_inputs[i] = _np(pli)
        handles.append(layer.register_forward_pre_hook(layer_pre, with_kwargs=True))
        at = layer.self_attn
        reg_out(layer.input_layernorm, lambda i: f"attn_norm-{i}")
        reg_out(at.q_proj, lambda i: f"Qcur-{i}")
        reg_out(at.q_norm, lambda i: f"Qcur_normed-{i}")
        if not at.is_kv_shared_layer:
            reg_out(at.k_proj, lambda i: f"Kcur-{i}")
            if at.v_proj is not None:
                reg_out(at.v_proj, lambda i: f"Vcur-{i}")
            else:
                # K=V: the value is the raw k_proj output.
                reg_out(at.k_proj, lambda i: f"Vcur-{i}")
            reg_out(at.k_norm, lambda i: f"Kcur_normed-{i}")
            reg_out(at.v_norm, lambda i: f"Vcur_normed-{i}")
        reg_out(at, lambda i: f"kq_soft_max-{i}", idx=1)  # eager attention probabilities [Hq, S, T]
        reg_in(at.o_proj, lambda i: f"kqv_out-{i}")
        reg_out(at.o_proj, lambda i: f"attn_proj-{i}")
        reg_out(layer.post_attention_layernorm, lambda i: f"attn_post_norm-{i}")
        reg_in(layer.pre_feedforward_layernorm, lambda i: f"attn_out-{i}")
        if layer.enable_moe_block:
            reg_out(layer.pre_feedforward_layernorm, lambda i: f"ffn_norm_1-{i}")
        else:
            reg_out(layer.pre_feedforward_layernorm, lambda i: f"ffn_norm-{i}")
        reg_in(layer.mlp.down_proj, lambda i: f"ffn_gate_par-{i}")
        reg_out(layer.mlp, lambda i: f"ffn_out-{i}")
        if layer.enable_moe_block:
            reg_out(layer.post_feedforward_layernorm_1, lambda i: f"ffn_mlp-{i}")
            reg_out(layer.router.proj, lambda i: f"ffn_moe_logits-{i}")

            def router_hook(mod, args, output, i=i):
                if not keep(i):
                    return
                probs, w, idx = output
                add(f"ffn_moe_probs-{i}", _np(probs))
                add(f"ffn_moe_topk-{i}", idx.detach().numpy().astype(np.int32))
                add(f"ffn_moe_weights-{i}", _np(w))
            handles.append(layer.router.register_forward_hook(router_hook))
            reg_out(layer.pre_feedforward_layernorm_2, lambda i: f"ffn_norm_2-{i}")
            reg_out(layer.experts, lambda i: f"ffn_moe_out-{i}")
            reg_out(layer.post_feedforward_layernorm_2, lambda i: f"ffn_moe-{i}")
            reg_in(layer.post_feedforward_layernorm, lambda i: f"ffn_moe_combined-{i}")
        reg_out(layer.post_feedforward_layernorm, lambda i: f"ffn_post_norm-{i}")
        if layer.hidden_size_per_layer_input:
            reg_in(layer.per_layer_input_gate, lambda i: f"ffn_residual-{i}")
            reg_out(layer.post_per_layer_input_norm, lambda i: f"per_layer_embd_out-{i}")

        def layer_post(mod, args, output, i=i):
            if keep(i) and not mod.hidden_size_per_layer_input:
                names = [n for n, _ in records]
                a = records[names.index(f"attn_out-{i}")][1]
                f = records[names.index(f"ffn_post_norm-{i}")][1]
                records.append((f"ffn_residual-{i}", (torch.from_numpy(a) + torch.from_numpy(f)).numpy()))
            records.append((f"l_out-{i}", _np(output)))
            state["layer"] = None
        handles.append(layer.register_forward_hook(layer_post))
    reg_out(lm.norm, lambda i: "result_norm")
    reg_out(model.lm_head, lambda i: "result_output_uncapped")

    mg.apply_rotary_pos_emb = rope_wrapper
    try:
        with torch.no_grad():
            out = model(**forward_kwargs)
    finally:
        mg.apply_rotary_pos_emb = orig_rope
        for h in handles:
            h.remove()

    # Router tensors come flattened [B*S, ...] -> already tokens-first for batch 1; others had the
    # batch dimension dropped by _np. inp_per_layer: the tensor each layer actually received.
    if per_layer_inputs:
        stacked = np.stack([per_layer_inputs[i] for i in sorted(per_layer_inputs)], axis=1)  # [S, L, P]
        # Place it right after per_layer_proj.
        names = [n for n, _ in records]
        pos = names.index("per_layer_proj") + 1
        records.insert(pos, ("inp_per_layer", stacked))
    records.append(("result_output", _np(out.logits)))
    return out, records
