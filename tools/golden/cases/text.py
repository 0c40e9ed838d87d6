"""Text-decoder goldens on the tiny checkpoints of all four variants.

Per variant:
  <v>-tiny-prefill   every intermediate of one 20-token forward pass (window 8, crossed twice)
  <v>-tiny-decode    the same 20 tokens as a 5-token prefill + 15 single-token decode steps
                     through the transformers KV cache (crosses the window at positions 8, 16)
  <v>-tiny-generate  greedy transformers generate(), 40 new tokens
  <v>-tiny-batch     (e2b, 26b-a4b) two left-padded prompts of unequal length in one batch
"""
from __future__ import annotations

import math

import numpy as np

SEQ = 20
DECODE_PREFILL = 5
GEN_PROMPT = 8
GEN_NEW = 40


def _case_config(model, variant: str, **extra) -> dict:
    tc = model.config.text_config
    cfg = {
        "variant": variant,
        "hidden_size": tc.hidden_size,
        "num_hidden_layers": tc.num_hidden_layers,
        "layer_types": list(tc.layer_types),
        "sliding_window": tc.sliding_window,
        # float32 forward: HF multiplies by float32(sqrt(H)) (the bf16 rounding of the scale only
        # happens when the weights are bf16).
        "embed_scale": float(np.float32(math.sqrt(tc.hidden_size))),
        "kv_sharing_modes": [m if m is not None else "none" for m in tc.kv_sharing_modes],
        "dtype": "float32",
        "attn_implementation": "eager",
    }
    cfg.update(extra)
    return cfg


def _stats(ctx, variant, tensors: dict) -> None:
    logits = tensors["result_output_uncapped"]
    capped = tensors["result_output"]
    msg = [f"{variant}: raw logits std {logits.std():.1f} max|x| {np.abs(logits).max():.1f}",
           f"capped max {np.abs(capped).max():.2f}"]
    probs = [v for k, v in tensors.items() if k.startswith("kq_soft_max-")]
    if probs:
        mx = np.mean([p.max(-1).mean() for p in probs])
        msg.append(f"mean max attention prob {mx:.2f}")
    lo = [float(np.sqrt((v ** 2).mean())) for k, v in tensors.items() if k.startswith("l_out-")]
    msg.append("l_out rms " + " ".join(f"{x:.2f}" for x in lo))
    topk = [v for k, v in tensors.items() if k.startswith("ffn_moe_topk-")]
    if topk:
        used = [len(np.unique(t)) for t in topk]
        sets = [len({tuple(sorted(r)) for r in t}) for t in topk]
        msg.append(f"experts used per layer {used}, distinct top-k sets {sets}")
    ctx.log("; ".join(msg))


def prefill(bundle, ctx, variant, ids):
    torch = ctx.torch
    model, rel = ctx.tiny_model(variant)
    case = bundle.case(
        f"{variant}-tiny-prefill", kind="text-prefill", model=rel,
        description=f"{variant} tiny: one {len(ids)}-token forward pass (sliding window "
                    f"{model.config.text_config.sliding_window}), every decoder intermediate",
        config=_case_config(model, variant, seq_len=len(ids)))
    case.add("inp_tokens", ids.astype(np.int32))
    case.add("inp_pos", np.arange(len(ids), dtype=np.int32))
    input_ids = torch.from_numpy(ids)[None]
    from g4golden.capture import capture_text_forward

    out, records = capture_text_forward(torch, model, input_ids=input_ids,
                                        attention_mask=torch.ones_like(input_ids), use_cache=False)
    for name, arr in records:
        case.add(name, arr)
    _stats(ctx, variant, dict(records))
    case.close()
    return out.logits[0].numpy()


def decode(bundle, ctx, variant, ids, full_logits):
    torch = ctx.torch
    model, rel = ctx.tiny_model(variant)
    p = DECODE_PREFILL
    case = bundle.case(
        f"{variant}-tiny-decode", kind="text-decode", model=rel,
        description=f"{variant} tiny: prefill {p} tokens, then {len(ids) - p} single-token decode "
                    f"steps through the transformers DynamicCache, crossing the sliding window",
        config=_case_config(model, variant, seq_len=len(ids), prefill_len=p, decode_steps=len(ids) - p),
        prefill_len=p)
    case.add("inp_tokens", ids.astype(np.int32))
    case.add("inp_pos", np.arange(len(ids), dtype=np.int32))
    t = torch.from_numpy(ids)[None]
    steps = []
    with torch.no_grad():
        out = model(input_ids=t[:, :p], attention_mask=torch.ones(1, p, dtype=torch.long), use_cache=True)
        cache = out.past_key_values
        prefill_logits = out.logits[0].numpy().copy()
        for k in range(p, len(ids)):
            out = model(input_ids=t[:, k:k + 1], attention_mask=torch.ones(1, k + 1, dtype=torch.long),
                        position_ids=torch.tensor([[k]]), past_key_values=cache, use_cache=True)
            cache = out.past_key_values
            steps.append(out.logits[0, -1].numpy().copy())
    dec = np.stack(steps)
    case.add("result_output", prefill_logits)
    case.add("decode_result_output", dec)
    # The cached path must agree with the full forward pass of the prefill case.
    err = np.abs(dec - full_logits[p:]).max()
    err_p = np.abs(prefill_logits - full_logits[:p]).max()
    ctx.log(f"{variant} decode vs full prefill: max |diff| {err:.2e} (prefill part {err_p:.2e})")
    if err > 1e-3 or err_p > 1e-3:
        raise RuntimeError(f"{variant}: cached decode disagrees with the full forward pass ({err})")
    case.close()


def generate_case(bundle, ctx, variant):
    torch = ctx.torch
    model, rel = ctx.tiny_model(variant)
    # Stop ids, and multimodal placeholder ids (transformers replaces those by <pad> in the input
    # embedding when no media is given; keep the text golden free of that special case).
    avoid = {1, 106, 50} | set(range(505, 512))
    for attempt in range(16):
        prompt = np.concatenate([[2], ctx.token_ids(GEN_PROMPT - 1, f"{variant}-generate-{attempt}")])
        t = torch.from_numpy(prompt)[None]
        with torch.no_grad():
            g = model.generate(input_ids=t, attention_mask=torch.ones_like(t), do_sample=False,
                               max_new_tokens=GEN_NEW, return_dict_in_generate=True, output_logits=True)
        new = g.sequences[0, len(prompt):].numpy()
        if len(new) == GEN_NEW and not (set(new.tolist()) & avoid):
            break
    else:
        raise RuntimeError(f"{variant}: no prompt generated {GEN_NEW} tokens without EOS")
    case = bundle.case(
        f"{variant}-tiny-generate", kind="text-generate", model=rel,
        description=f"{variant} tiny: greedy transformers generate() of {GEN_NEW} new tokens after a "
                    f"{GEN_PROMPT}-token prompt (crosses the sliding window several times)",
        config=_case_config(model, variant, prompt_len=GEN_PROMPT, max_new_tokens=GEN_NEW,
                            do_sample=False, prompt_attempt=attempt))
    case.add("inp_tokens", prompt.astype(np.int32))
    case.add("generate_tokens", new.astype(np.int32))
    case.add("generate_logits", torch.stack(g.logits, 1)[0].numpy())
    ctx.log(f"{variant} generate: {len(set(new.tolist()))} distinct of {len(new)} tokens: {new.tolist()}")
    case.close()


def batch(bundle, ctx, variant, ids, full_logits):
    """Batch of two left-padded prompts of unequal length (runtime-bugs G17): each row's logits
    must equal the single-sequence run."""
    torch = ctx.torch
    model, rel = ctx.tiny_model(variant)
    short = np.concatenate([[2], ctx.token_ids(BATCH_SHORT - 1, f"{variant}-batch")]).astype(np.int64)
    s = len(ids)
    tokens = np.zeros((2, s), dtype=np.int64)
    mask = np.zeros((2, s), dtype=np.int64)
    tokens[0], mask[0] = ids, 1
    tokens[1, s - len(short):], mask[1, s - len(short):] = short, 1
    pos = np.maximum(np.cumsum(mask, axis=1) - 1, 0)
    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(tokens), attention_mask=torch.from_numpy(mask),
                    position_ids=torch.from_numpy(pos), use_cache=False).logits.numpy()
        single = model(input_ids=torch.from_numpy(short)[None]).logits[0].numpy()
    row0, row1 = out[0], out[1, s - len(short):]
    err = max(np.abs(row0 - full_logits).max(), np.abs(row1 - single).max())
    ctx.log(f"{variant} batch of 2 (left padding) vs single runs: max |diff| {err:.2e}")
    if err > 1e-3:
        raise RuntimeError(f"{variant}: batched logits differ from single runs ({err})")
    case = bundle.case(
        f"{variant}-tiny-batch", kind="text-batch", model=rel,
        description=f"{variant} tiny: batch of 2 prompts ({s} and {len(short)} tokens), the short one "
                    f"left-padded with <pad> and masked; logits of the real tokens of each row "
                    f"(equal to single-sequence runs)",
        config=_case_config(model, variant, batch=2, seq_len=s, lengths=[s, len(short)], padding_side="left"))
    case.add("inp_tokens", tokens.astype(np.int32))      # [2, S], batch kept
    case.add("inp_mask", mask.astype(np.int32))          # [2, S], 1 = real token
    case.add("inp_pos", pos.astype(np.int32))            # [2, S], cumsum(mask) - 1, 0 on padding
    case.add("result_output_seq0", row0)                 # [20, V]
    case.add("result_output_seq1", row1)                 # [13, V] rows of the real tokens
    case.close()


BATCH_SHORT = 13
BATCH_VARIANTS = ("e2b", "26b-a4b")


def generate(bundle, ctx):
    for variant in ctx.VARIANTS:
        ids = np.concatenate([[2], ctx.token_ids(SEQ - 1, f"{variant}-prefill")]).astype(np.int64)
        full = prefill(bundle, ctx, variant, ids)
        decode(bundle, ctx, variant, ids, full)
        generate_case(bundle, ctx, variant)
        if variant in BATCH_VARIANTS:
            batch(bundle, ctx, variant, ids, full)
