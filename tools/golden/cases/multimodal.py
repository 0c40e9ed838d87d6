"""Multimodal end to end on the tiny checkpoints: processor prompt expansion -> towers -> soft-token
scatter -> decoder -> logits; the bidirectional image-attention mask of the large variants; video.

Cases (tensor names in tools/golden/cases/README-mm.md):
  e2b-tiny-multimodal         text + image + audio, Gemma4Processor output, soft tokens, decoder
                              l_out-N of every layer and every intermediate of layer 0, logits,
                              greedy generate tokens. E-series: causal everywhere (mm_token_type_ids
                              are passed and must NOT make image tokens bidirectional).
  31b-tiny-multimodal         text + image on the large variant (use_bidirectional_attention="vision"):
                              the image block (63 tokens) is far longer than the sliding window (8),
                              so it crosses the window edge; logits with the pinned mask, plus two
                              contrast runs (causal only; block overlay on full layers too) and the
                              exact boolean masks the pinned code built; chunked-prefill evidence;
                              greedy generate tokens.
  26b-a4b-tiny-bidirectional  two images separated by text on 26B-A4B, same contrasts and masks.
  e2b-tiny-video              a 6-frame synthetic video at fps 2: the processor samples 2 frames,
                              resizes them at the video budget (70), expands the prompt with mm:ss
                              timestamps; video soft tokens and logits.
"""
from __future__ import annotations

import numpy as np

from g4golden import mm_inputs
from g4golden.mm_capture import record_audio, record_vision

IMAGE_BUDGET = 70
PROMPT_E = "<|turn>user\nLook at <|image|> and listen to <|audio|> then answer.<turn|>\n<|turn>model\n"
PROMPT_31B = "<|turn>user\nDescribe <|image|> in one line.<turn|>\n<|turn>model\n"
PROMPT_26B = ("<|turn>user\nCompare <|image|> with the second picture <|image|> and say which is "
              "brighter.<turn|>\n<|turn>model\n")
PROMPT_VIDEO = "<|turn>user\nWhat moves in <|video|> here?<turn|>\n<|turn>model\n"
E_FULL_LAYERS = {0}          # every intermediate of layer 0 (sliding); l_out-N of all layers
LARGE_FULL_LAYERS = {0}      # layer 0 is sliding: where the bidirectional overlay acts
# Per-layer tensors kept for the large variants' layer 0 (the attention path, where the mask acts).
LARGE_LAYER_KEEP = ("attn_norm", "Qcur_pos", "Kcur_pos", "Vcur_normed", "kqv_out", "attn_out", "l_out")
GENERATE_NEW = 32            # greedy new tokens (crosses the sliding window of 8 several times)
GENERATE_DESC = ("generate_tokens: transformers generate(max_new_tokens=32, do_sample=False) with the KV cache, "
                 "new tokens only; equal to the argmax of a teacher-forced forward")


def _processor(ctx, variant: str):
    from transformers import (AutoTokenizer, Gemma4AudioFeatureExtractor, Gemma4ImageProcessor, Gemma4Processor,
                              Gemma4VideoProcessor)

    tok = AutoTokenizer.from_pretrained(str(ctx.tiny_model_dir(variant)))
    return Gemma4Processor(feature_extractor=Gemma4AudioFeatureExtractor(), image_processor=Gemma4ImageProcessor(),
                           tokenizer=tok, video_processor=Gemma4VideoProcessor())


def _capture_text(ctx, model, layers, **kwargs):
    from g4golden.capture import capture_text_forward

    out, records = capture_text_forward(ctx.torch, model, layers=layers, **kwargs)
    # Attention probabilities are [Hq, S, S] per layer: the stored boolean masks carry the same
    # information at a fraction of the size.
    # result_output_uncapped is dropped too (result_output is the contract tensor).
    return out, [(n, a) for n, a in records
                 if not n.startswith("kq_soft_max") and n != "result_output_uncapped"]


def _mask_recorder(model):
    """Pre-hook on the language model that keeps the mask dict the multimodal model built."""
    seen = {}

    def hook(_m, _args, kwargs):
        seen["masks"] = kwargs.get("attention_mask")

    h = model.model.language_model.register_forward_pre_hook(hook, with_kwargs=True)
    return seen, h


def _allowed(mask, s: int) -> np.ndarray:
    """[S, S] uint8, 1 = query row may attend key column (eager float masks: 0 allowed, min masked)."""
    if mask is None:
        raise RuntimeError("the pinned code returned no materialised mask")
    import torch

    m = mask.detach()[0, 0]
    a = m if m.dtype == torch.bool else (m == 0)
    assert a.shape == (s, s), a.shape
    return a.to(torch.uint8).numpy().copy()


def _block_ids(mm_types: np.ndarray) -> np.ndarray:
    from transformers.models.gemma4.modeling_gemma4 import get_block_sequence_ids_for_mask
    import torch

    return get_block_sequence_ids_for_mask(torch.from_numpy(mm_types)[None], torch.device("cpu"))[0].numpy()


def _check_mask_semantics(full: np.ndarray, sliding: np.ndarray, blocks: np.ndarray, window: int) -> None:
    """Asserts the pinned-code composition, so a transformers change cannot slip through unnoticed:
    full = causal; sliding = (kv > q - W) AND (kv <= q OR same vision block)."""
    s = full.shape[0]
    q = np.arange(s)[:, None]
    kv = np.arange(s)[None, :]
    causal = kv <= q
    same = (blocks[:, None] == blocks[None, :]) & (blocks[:, None] >= 0)
    if not np.array_equal(full.astype(bool), causal):
        raise RuntimeError("pinned full-attention mask is not plain causal")
    expect = (kv > q - window) & (causal | same)
    if not np.array_equal(sliding.astype(bool), expect):
        raise RuntimeError("pinned sliding mask is not window AND (causal OR same block)")


def _additive(allowed: np.ndarray):
    import torch

    a = torch.from_numpy(allowed.astype(bool))[None, None]
    z = torch.zeros(a.shape, dtype=torch.float32)
    return torch.where(a, z, torch.full_like(z, torch.finfo(torch.float32).min))


def _greedy(model, enc, n_new: int = GENERATE_NEW):
    """Greedy transformers.generate (KV cache; for the large variants the prefill uses the
    bidirectional mask and the decode steps are causal) -> new tokens, int32. Checked against a
    teacher-forced full forward over prompt + generated tokens."""
    import torch

    with torch.no_grad():
        g = model.generate(**enc, max_new_tokens=n_new, do_sample=False, top_k=None, top_p=None,
                           temperature=None)
    s = enc["input_ids"].shape[1]
    new = g[0, s:]
    # A stop id would end generation early, and a generated multimodal placeholder id would be
    # embedded as <pad> by generate(): neither may occur, or the case would test something else.
    special = {1, 106, 50} | set(range(505, 512))
    if len(new) != n_new or special & set(new.tolist()):
        raise RuntimeError(f"greedy generation hit a stop or multimodal id: {new.tolist()}")
    ids = g[:, :-1]
    mmt = torch.cat([enc["mm_token_type_ids"], torch.zeros(1, ids.shape[1] - s, dtype=torch.long)], 1)
    kw = {k: v for k, v in enc.items() if k not in ("input_ids", "attention_mask", "mm_token_type_ids")}
    with torch.no_grad():
        logits = model(input_ids=ids, mm_token_type_ids=mmt, **kw).logits[0]
    if not torch.equal(logits[s - 1:].argmax(-1), new):
        raise RuntimeError("greedy generate disagrees with the teacher-forced forward")
    return new.numpy().astype(np.int32)


def _chunked_prefill_diffs(model, emb, mm_types, ref, blocks) -> dict:
    """Max |logit difference| between a two-chunk prefill through the KV cache (the decoder input
    embeddings after the soft-token scatter, mm_token_type_ids of the whole prompt) and the
    one-shot prefill, for a cut at the first block's start, inside it and right after it."""
    import torch
    from transformers import DynamicCache

    first = np.where(blocks == 0)[0]
    s = emb.shape[1]
    out = {}
    for label, cut in (("cut_at_block_start", int(first[0])), ("cut_inside_block", int(first[0] + len(first) // 2)),
                       ("cut_after_block", int(first[-1] + 1))):
        cache = DynamicCache(config=model.config)
        with torch.no_grad():
            o1 = model(inputs_embeds=emb[:, :cut], mm_token_type_ids=mm_types, past_key_values=cache,
                       use_cache=True, position_ids=torch.arange(cut)[None])
            o2 = model(inputs_embeds=emb[:, cut:], mm_token_type_ids=mm_types, past_key_values=o1.past_key_values,
                       use_cache=True, position_ids=torch.arange(cut, s)[None])
        got = torch.cat([o1.logits[0], o2.logits[0]])
        out[label] = {"cut": cut, "max_abs_diff": float((got - ref).abs().max())}
    return out


def _add_inputs(case, enc):
    case.add("inp_tokens", enc["input_ids"][0].numpy().astype(np.int32))
    case.add("inp_pos", np.arange(enc["input_ids"].shape[1], dtype=np.int32))
    case.add("mm_token_type_ids", enc["mm_token_type_ids"][0].numpy().astype(np.int32))


def _counts(enc, ctx) -> dict:
    ids = enc["input_ids"][0].numpy()
    sp = ctx.special
    return {k: int((ids == sp[k]).sum()) for k in ("image", "audio", "video", "boi", "eoi", "boa", "eoa")}


def _e_series_case(bundle, ctx, variant: str):
    model, rel = ctx.tiny_model(variant)
    proc = _processor(ctx, variant)
    img = mm_inputs.image_scene("mm_scene_120x160", 120, 160)
    wav = mm_inputs.waveform("tones", 16000, 16000)
    enc = proc(text=[PROMPT_E], images=[[img]], audio=[wav], return_tensors="pt",
               images_kwargs={"max_soft_tokens": IMAGE_BUDGET, "input_data_format": "channels_last"})
    vm = model.model
    with record_vision(vm.vision_tower, vm.embed_vision, soft_only=True) as rv, \
            record_audio(vm.audio_tower, vm.embed_audio) as ra:
        out, records = _capture_text(ctx, model, E_FULL_LAYERS, **enc)
    a_valid = ra.tensors["a_mask2"].astype(bool)
    counts = _counts(enc, ctx)
    case = bundle.case(
        f"{variant}-tiny-multimodal", kind="multimodal", model=rel,
        description="text + image + audio prompt through Gemma4Processor and the full model: soft tokens of both "
                    "towers, decoder intermediates (every tensor for layers "
                    f"{sorted(E_FULL_LAYERS)}, l_out-N for all), logits. Causal attention everywhere "
                    "(E-series: use_bidirectional_attention is None).",
        config={"prompt": PROMPT_E, "image_hw": [120, 160], "image_budget": IMAGE_BUDGET,
                "audio_samples": int(wav.shape[0]), "placeholder_counts": counts,
                "seq_len": int(enc["input_ids"].shape[1]), "full_layers": sorted(E_FULL_LAYERS),
                "generate": GENERATE_DESC,
                "expansion": "<|image|> -> <|image> + <|image|> x N_img + <image|>; "
                             "<|audio|> -> <|audio> + <|audio|> x N_aud + <audio|>",
                "preprocessing": "Gemma4ImageProcessor at the budget above (see image-preprocess)"})
    _add_inputs(case, enc)
    case.add("v_image_u8", img)
    case.add("v_pos_ids", enc["image_position_ids"][0].numpy().astype(np.int32))
    case.add("v_soft_tokens", rv.tensors["v_soft_tokens"])
    case.add("a_waveform", wav)
    case.add("a_features", enc["input_features"][0].numpy())
    case.add("a_features_mask", enc["input_features_mask"][0].numpy())
    case.add("a_soft_tokens", ra.tensors["a_soft_tokens_all"][a_valid])
    if counts["image"] != rv.tensors["v_soft_tokens"].shape[0] or counts["audio"] != int(a_valid.sum()):
        raise RuntimeError("placeholder counts differ from the towers' soft-token counts")
    for n, a in records:
        case.add(n, a)
    case.add("generate_tokens", _greedy(model, enc))
    case.close()


def _large_case(bundle, ctx, variant: str, prompt: str, images: list, name: str, description: str):
    import torch

    model, rel = ctx.tiny_model(variant)
    proc = _processor(ctx, variant)
    enc = proc(text=[prompt], images=[images], return_tensors="pt",
               images_kwargs={"max_soft_tokens": IMAGE_BUDGET, "input_data_format": "channels_last"})
    s = int(enc["input_ids"].shape[1])
    window = model.config.text_config.sliding_window
    seen, h = _mask_recorder(model)
    try:
        with record_vision(model.model.vision_tower, model.model.embed_vision, soft_only=True) as rv:
            out, records = _capture_text(ctx, model, LARGE_FULL_LAYERS, **enc)
    finally:
        h.remove()
    records = [(n, a) for n, a in records if "-" not in n or n.rsplit("-", 1)[0] in LARGE_LAYER_KEEP]
    masks = seen["masks"]
    full = _allowed(masks["full_attention"], s)
    sliding = _allowed(masks["sliding_attention"], s)
    mm_types = enc["mm_token_type_ids"][0].numpy()
    blocks = _block_ids(mm_types)
    _check_mask_semantics(full, sliding, blocks, window)

    # Contrast runs with the same inputs: (a) no bidirectional overlay (what a runtime that ignores
    # mm_token_type_ids computes), (b) the overlay on full layers too (transformers#46711 era).
    q = np.arange(s)[:, None]
    kv = np.arange(s)[None, :]
    same = (blocks[:, None] == blocks[None, :]) & (blocks[:, None] >= 0)
    causal = (kv <= q)
    causal_sliding = causal & (kv > q - window)
    kw = {k: v for k, v in enc.items() if k not in ("attention_mask", "mm_token_type_ids")}
    with torch.no_grad():
        logits_causal = model(**kw, attention_mask={"full_attention": _additive(causal),
                                                    "sliding_attention": _additive(causal_sliding)}).logits[0]
        logits_both = model(**kw, attention_mask={"full_attention": _additive(causal | same),
                                                  "sliding_attention": _additive(sliding)}).logits[0]
    ref = torch.from_numpy(dict(records)["result_output"])
    emb = torch.from_numpy(dict(records)["inp_scaled"])[None]
    chunked = _chunked_prefill_diffs(model, emb, enc["mm_token_type_ids"], ref, blocks)
    if chunked["cut_after_block"]["max_abs_diff"] > 1e-3 or chunked["cut_inside_block"]["max_abs_diff"] < 1e-2:
        raise RuntimeError(f"unexpected chunked-prefill behaviour {chunked}")
    counts = _counts(enc, ctx)
    case = bundle.case(
        name, kind="multimodal", model=rel, description=description,
        config={"prompt": prompt, "image_budget": IMAGE_BUDGET, "placeholder_counts": counts, "seq_len": s,
                "sliding_window": window, "full_layers": sorted(LARGE_FULL_LAYERS), "generate": GENERATE_DESC,
                "per_layer_subset": list(LARGE_LAYER_KEEP),
                "image_blocks": [[int(np.where(blocks == b)[0][0]), int(np.where(blocks == b)[0][-1])]
                                 for b in range(int(blocks.max()) + 1)],
                "mask_semantics": "pinned transformers: full_attention = causal (kv <= q); sliding_attention = "
                                  "(kv > q - W) AND ((kv <= q) OR same_block(q, kv)), same_block = both tokens in "
                                  "the same run of mm_token_type_ids in {1, 2}. The window bounds the past only: "
                                  "inside a block a query sees every later block token, however far.",
                "contrasts": {"result_output_causal": "no bidirectional overlay on any layer",
                              "result_output_block_both": "overlay on full layers too (full = causal OR same block)"},
                "chunked_prefill": dict(chunked, note="HF itself: a prefill chunk boundary inside an image block "
                                        "changes the logits (the earlier chunk cannot see the later block tokens); "
                                        "runtimes must not split a vision block across prefill chunks"),
                "max_abs_diff_vs_causal": float((ref - logits_causal).abs().max()),
                "max_abs_diff_vs_block_both": float((ref - logits_both).abs().max()),
                "preprocessing": "Gemma4ImageProcessor at the budget above (see image-preprocess)"})
    _add_inputs(case, enc)
    for i, img in enumerate(images):
        case.add(f"v_image_u8.{i}", img)
    case.add("v_pos_ids", enc["image_position_ids"].numpy().astype(np.int32))
    case.add("v_soft_tokens", rv.tensors["v_soft_tokens"])
    case.add("mask_full", full)
    case.add("mask_sliding", sliding)
    for n, a in records:
        case.add(n, a)
    case.add("result_output_causal", logits_causal.numpy())
    case.add("result_output_block_both", logits_both.numpy())
    case.add("generate_tokens", _greedy(model, enc))
    case.close()


def _video_case(bundle, ctx, variant: str):
    import torch
    from transformers.video_utils import VideoMetadata

    model, rel = ctx.tiny_model(variant)
    proc = _processor(ctx, variant)
    n_in, fps, n_sample = 6, 2.0, 2
    frames = mm_inputs.video_moving_square(n_in, 64, 112)
    meta = VideoMetadata(total_num_frames=n_in, fps=fps, width=112, height=64)
    enc = proc(text=[PROMPT_VIDEO], videos=[frames], return_tensors="pt",
               videos_kwargs={"num_frames": n_sample, "video_metadata": [meta]})
    vm = model.model
    with record_vision(vm.vision_tower, vm.embed_vision, soft_only=True) as rv:
        out, records = _capture_text(ctx, model, set(), **enc)
    records = [(n, a) for n, a in records if n in ("inp_scaled", "result_output")]
    counts = _counts(enc, ctx)
    text = proc.tokenizer.decode(enc["input_ids"][0])
    # The timestamps of the expanded prompt, as the processor wrote them.
    stamps = [t for t in text.split() if len(t) == 5 and t[2] == ":" and t.replace(":", "").isdigit()]
    pv = enc["pixel_values_videos"]
    u8 = (pv * 255).round().to(torch.uint8)
    # The video processor normalises with mean 0 / std 1 fused into a division by 255, which is not
    # always the same float as the image processor's multiplication by float32(1/255).
    if not torch.equal(u8.float() / 255.0, pv):
        raise RuntimeError("video pixel values are not float32(u8) / 255")
    n_mul_differs = int((u8.float() * np.float32(1 / 255) != pv).sum())
    pos = enc["video_position_ids"][0]
    case = bundle.case(
        f"{variant}-tiny-video", kind="video", model=rel,
        description=f"Gemma4VideoProcessor on a {n_in}-frame 64x112 synthetic video (fps {fps:g}): {n_sample} frames "
                    "sampled, each resized at the video budget (70 soft tokens) and patchified; the prompt "
                    "expansion with mm:ss timestamps; video soft tokens (vision tower + embed_vision), the "
                    "decoder input embeddings and the logits.",
        config={"prompt": PROMPT_VIDEO, "num_frames_in": n_in, "fps": fps, "num_frames_sampled": n_sample,
                "timestamps": stamps, "placeholder_counts": counts, "seq_len": int(enc["input_ids"].shape[1]),
                "frame_resized_hw": [int(pos[:, 1].max() + 1) * 16, int(pos[:, 0].max() + 1) * 16],
                "pixel_values_rule": "pixel_values_videos = float32(u8) / float32(255) (a division: differs "
                                     f"from the image rule u8 * float32(1/255) in {n_mul_differs} of "
                                     f"{pv.numel()} values here)",
                "expansion": "<|video|> -> ' '.join('mm:ss <|image>' + '<|video|>' x N + '<image|>' per frame)"})
    _add_inputs(case, enc)
    case.add("video_u8", frames)
    case.add("video_frame_indices", np.asarray(_sampled_indices(proc, meta, n_sample), dtype=np.int32))
    # Patches 0..7 of the first sampled frame as float: they show the division rule above.
    case.add("video_pixel_values_rows", pv[0, :8].numpy())
    case.add("video_pos_ids", enc["video_position_ids"].numpy().astype(np.int32))
    case.add("v_soft_tokens", rv.tensors["v_soft_tokens"])
    for n, a in records:
        case.add(n, a)
    case.close()


def _sampled_indices(proc, meta, n):
    return [int(i) for i in proc.video_processor.sample_frames(meta, num_frames=n)]


def generate(bundle, ctx):
    _e_series_case(bundle, ctx, "e2b")
    _large_case(bundle, ctx, "31b", PROMPT_31B, [mm_inputs.image_scene("mm_scene_120x160", 120, 160)],
                "31b-tiny-multimodal",
                "text + image prompt on the large variant (bidirectional vision blocks on sliding layers): "
                "soft tokens, decoder intermediates, logits, the exact masks of the pinned code, and contrast "
                "logits without the overlay and with the overlay on full layers too.")
    _large_case(bundle, ctx, "26b-a4b", PROMPT_26B,
                [mm_inputs.image_checker(96, 96, 8), mm_inputs.image_scene("mm_scene_200x100", 200, 100)],
                "26b-a4b-tiny-bidirectional",
                "two images separated by text on 26B-A4B (G12 d): every image block is longer than the sliding "
                "window (8) and crosses its edge; logits with the pinned mask, the masks, and contrast logits.")
    _video_case(bundle, ctx, "e2b")
