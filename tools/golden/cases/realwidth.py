"""Real-width text-decoder slices of all four variants (weights regenerated, never committed).

<v>-realwidth-prefill: the released widths (hidden size, head dims 256/512, KV-head counts,
intermediate and expert widths, sliding window) with reduced depth and a 512-token vocabulary
(configs in g4golden/configs.py and models/<v>-realwidth/config.json), one 6-token forward pass.

The model is built on the meta device and each decoder layer is materialised from the synthetic
algorithm just before transformers runs it and dropped right after, so peak memory stays at one
layer (31B: ~2.1 GB) although the 6-layer 31B slice has 2.9 G parameters. The forward pass itself
is the unmodified transformers one.

Stored (to keep the bundle small): every global tensor, `l_out-N` of every layer, and a subset of
per-layer tensors for the "detail" layers (first sliding layer, first full layer, and for the
E-series the first KV-shared sliding and full layers). The manifest lists exactly what is stored.

<v>-realwidth-window (e2b, 26b-a4b): logits of every position of a W+6-token prompt at the real
sliding window W (512 / 1024), so the real window size is exercised, not only the tiny one
(rows W-8 .. W+5 stored, with their positions in `result_output_rows`).
"""
from __future__ import annotations

import math

import numpy as np

from g4golden import configs, weights

SEQ = 6

# Per-layer tensors kept for the detail layers: enough to localise a mismatch to the attention
# inputs (norm, p-RoPE at head dim 512, K=V), the attention core (probabilities), the MoE
# router/experts, the FFN block and PLE, at ~2 MB per variant.
DETAIL_KEEP = (
    "attn_norm", "Qcur_pos", "Kcur_pos", "Vcur_normed", "kq_soft_max",
    "ffn_moe_logits", "ffn_moe_probs", "ffn_moe_topk", "ffn_moe_weights", "ffn_moe_out",
    "ffn_residual", "per_layer_embd_out", "l_out",
)


def _detail_layers(tc) -> list[int]:
    types = tc.layer_types
    first_shared = tc.num_hidden_layers - tc.num_kv_shared_layers
    out = {types.index("sliding_attention"), types.index("full_attention")}
    if tc.num_kv_shared_layers:
        shared = list(range(first_shared, tc.num_hidden_layers))
        out.add(next(i for i in shared if types[i] == "sliding_attention"))
        out.add(next(i for i in shared if types[i] == "full_attention"))
    return sorted(out)


def _fill(module, prefix: str) -> None:
    sd = module.state_dict(keep_vars=True)
    for key, t in sd.items():
        name = prefix + key
        center, s = weights.weight_params(name, tuple(t.shape))
        flat = t.data.view(-1)
        n = flat.numel()
        chunk = 1 << 22
        for start in range(0, n, chunk):
            count = min(chunk, n - start)
            flat[start:start + count].copy_(ctx_torch.from_numpy(weights._chunk(name, start, count, center, s)))


ctx_torch = None


def build_lazy_model(ctx, variant: str):
    """Gemma4ForConditionalGeneration of the real-width config whose decoder layers are
    materialised on demand. Returns (model, manifest synthetic entries)."""
    global ctx_torch
    torch = ctx.torch
    ctx_torch = torch
    from transformers import Gemma4ForConditionalGeneration
    from transformers.models.gemma4.modeling_gemma4 import Gemma4TextRotaryEmbedding

    cfg = configs.realwidth_config(variant)
    with torch.device("meta"):
        model = Gemma4ForConditionalGeneration(cfg)
    model.set_attn_implementation("eager")
    model.set_experts_implementation("eager")
    model.eval()
    entries = weights.synthetic_entries(weights.checkpoint_tensors(model))
    lm = model.model.language_model
    tc = lm.config
    # Everything but the decoder layers: materialise now.
    for cname, child in lm.named_children():
        if cname in ("layers", "rotary_emb"):
            continue
        child.to_empty(device="cpu")
        _fill(child, f"model.language_model.{cname}.")
    lm.embed_tokens.embed_scale.fill_(tc.hidden_size ** 0.5)
    if tc.hidden_size_per_layer_input:
        lm.embed_tokens_per_layer.embed_scale.fill_(tc.hidden_size_per_layer_input ** 0.5)
    lm.rotary_emb = Gemma4TextRotaryEmbedding(tc, device="cpu")
    model.lm_head.weight = lm.embed_tokens.weight

    def pre(mod, args, kwargs, i=None):
        mod.to_empty(device="cpu")
        _fill(mod, f"model.language_model.layers.{i}.")

    def post(mod, args, kwargs, output, i=None):
        mod.to_empty(device="meta")

    for i, layer in enumerate(lm.layers):
        # A decoder layer has no non-persistent buffers, so the state dict covers everything.
        assert {n for n, _ in layer.named_buffers()} <= set(layer.state_dict())
        layer.register_forward_pre_hook(lambda m, a, k, i=i: pre(m, a, k, i), with_kwargs=True)
        layer.register_forward_hook(lambda m, a, k, o, i=i: post(m, a, k, o, i), with_kwargs=True)
    return model, entries


def prefill(bundle, ctx, variant: str, model, entries) -> None:
    torch = ctx.torch
    from g4golden.capture import capture_text_forward

    tc = model.config.text_config
    rel = f"models/{variant}-realwidth"
    path = bundle.add_model(rel, {"variant": variant, "kind": "realwidth", "config": f"{rel}/config.json",
                                  "synthetic_weights": entries, "files": ["config.json"]})
    bundle.manifest["models"][rel]["module"] = ctx.module_name
    (path / "config.json").write_text(model.config.to_json_string(use_diff=True))
    bundle._total_bytes += (path / "config.json").stat().st_size

    detail = _detail_layers(tc)
    ids = np.concatenate([[2], ctx.token_ids(SEQ - 1, f"{variant}-realwidth")]).astype(np.int64)
    n_params = sum(int(np.prod(e["shape"])) for e in entries)
    case = bundle.case(
        f"{variant}-realwidth-prefill", kind="text-prefill", model=rel,
        description=f"{variant} at real width ({n_params / 1e9:.2f} G parameters, "
                    f"{tc.num_hidden_layers} layers, vocab {tc.vocab_size}): one {SEQ}-token forward pass; "
                    f"per-layer detail for layers {detail}, l_out-N for all layers",
        config={"variant": variant, "seq_len": SEQ, "hidden_size": tc.hidden_size,
                "num_hidden_layers": tc.num_hidden_layers, "layer_types": list(tc.layer_types),
                "sliding_window": tc.sliding_window, "embed_scale": float(np.float32(math.sqrt(tc.hidden_size))),
                "detail_layers": detail, "dtype": "float32", "attn_implementation": "eager"},
        detail_layers=detail)
    case.add("inp_tokens", ids.astype(np.int32))
    case.add("inp_pos", np.arange(SEQ, dtype=np.int32))
    t = torch.from_numpy(ids)[None]
    out, records = capture_text_forward(torch, model, layers=set(detail), input_ids=t,
                                        attention_mask=torch.ones_like(t), use_cache=False)
    for name, arr in records:
        base = name.rsplit("-", 1)[0] if name[-1].isdigit() and "-" in name else None
        if base is not None and base not in DETAIL_KEEP:
            continue
        case.add(name, arr)
    rec = dict(records)
    lo = [float(np.sqrt((rec[f"l_out-{i}"] ** 2).mean())) for i in range(tc.num_hidden_layers)]
    raw = rec["result_output_uncapped"]
    ctx.log(f"{variant} realwidth: raw logits std {raw.std():.1f} max|x| {np.abs(raw).max():.1f}; "
            f"l_out rms {' '.join(f'{x:.2f}' for x in lo)}")
    case.close()


def window(bundle, ctx, variant: str, model) -> None:
    """Logits of a prompt W+6 tokens long at the real sliding window W (512 / 1024); the rows
    from W-8 on are stored (rows before that are causal prefixes the other cases cover)."""
    torch = ctx.torch
    tc = model.config.text_config
    n = tc.sliding_window + WINDOW_EXTRA
    rows = np.arange(tc.sliding_window - 8, n, dtype=np.int32)
    ids = np.concatenate([[2], ctx.token_ids(n - 1, f"{variant}-realwidth-window")]).astype(np.int64)
    case = bundle.case(
        f"{variant}-realwidth-window", kind="text-prefill-rows", model=f"models/{variant}-realwidth",
        description=f"{variant} at real width: one {n}-token forward pass, {WINDOW_EXTRA} tokens past the "
                    f"real sliding window {tc.sliding_window}; logits of positions {rows[0]}..{rows[-1]}",
        config={"variant": variant, "seq_len": n, "sliding_window": tc.sliding_window,
                "rows": [int(rows[0]), int(rows[-1]) + 1], "dtype": "float32", "attn_implementation": "eager"})
    case.add("inp_tokens", ids.astype(np.int32))
    case.add("inp_pos", np.arange(n, dtype=np.int32))
    t = torch.from_numpy(ids)[None]
    with torch.no_grad():
        logits = model(input_ids=t, attention_mask=torch.ones_like(t), use_cache=False).logits[0].numpy()
    case.add("result_output_rows", rows)              # [R] int32: positions of the stored rows
    case.add("result_output", logits[rows])           # [R, V]
    ctx.log(f"{variant} realwidth window: {n} tokens, logits std {logits.std():.2f}")
    case.close()


# Real sliding-window crossing at real width, for one E-series (W=512, KV sharing) and one large
# variant (W=1024, K=V, MoE); the other two have the same mask code and the tiny cases cross
# their windows.
WINDOW_VARIANTS = ("e2b", "26b-a4b")
WINDOW_EXTRA = 6


def generate(bundle, ctx):
    for variant in ctx.VARIANTS:
        model, entries = build_lazy_model(ctx, variant)
        prefill(bundle, ctx, variant, model, entries)
        if variant in WINDOW_VARIANTS:
            window(bundle, ctx, variant, model)
