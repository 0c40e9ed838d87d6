"""Audio goldens (E-series): 16 kHz waveform -> log-mel features -> subsampling convs -> every
Conformer layer (chunked local attention included) -> soft tokens.

Cases (tensor names in tools/golden/cases/README-mm.md):
  audio-features        Gemma4AudioFeatureExtractor on synthetic clips: waveform, features, frame
                        mask; a padded batch of two; the Hann window and mel filter bank; token
                        count vectors (samples -> soft tokens) from the processor's own arithmetic
                        and from the feature mask
  e2b-tiny-audio        tiny tower of models/e2b-tiny on a 3.02 s chirp (48311 samples, not a
                        multiple of 128; 76 soft tokens = 7 attention chunks of 12), every stage
  e4b-tiny-audio        the same clip through models/e4b-tiny (final soft tokens + layer outputs)
  e2b-realwidth-audio   real-width Conformer (1024 hidden, 8x128 heads, 2 layers) on a 1.0 s clip
                        (16037 samples, 25 soft tokens = 3 chunks), documented subset
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from g4golden import mm_inputs
from g4golden.mm_capture import record_audio

SR = 16000
CLIPS = [  # (slug, kind, num_samples)
    ("chirp_0.5s", "chirp", 8000),
    ("tones_1.7s", "tones", 27200),
    ("noise_27301", "noise", 27301),  # not a multiple of 128 (the extractor pads to 27392)
]
BATCH = [("tones_1.7s", "tones", 27200), ("chirp_0.5s", "chirp", 8000)]
TOKEN_COUNT_LENGTHS = [100, 160, 161, 320, 321, 480, 481, 639, 640, 641, 800, 8000, 16000, 16037, 27200,
                       27301, 38560, 48000, 48311, 48800, 98880, 99360, 160000, 479999, 480000, 480001,
                       496000, 640000]
TINY_CLIP = ("chirp_48311", "chirp", 48311)
RW_CLIP = ("chirp_16037", "chirp", 16037)
RW_KEEP = ("attn_norm", "rel_k", "attn_probs", "kqv_out", "attn_out", "lconv_out", "l_out")
TINY_E4B_KEEP = ("l_out",)


def _extractor():
    from transformers import Gemma4AudioFeatureExtractor

    return Gemma4AudioFeatureExtractor()


def _features(fe, waves):
    out = fe(waves if isinstance(waves, list) else [waves], return_tensors="np")
    return out["input_features"], out["input_features_mask"]


def _tokens_from_mask(mask: np.ndarray) -> int:
    """The processor's replace_audio_token: placeholders = valid frames after two [::2] steps."""
    from transformers import Gemma4Processor

    fake = SimpleNamespace(boa_token="<A>", audio_token="#", eoa_token="</A>")
    s = Gemma4Processor.replace_audio_token(fake, {"input_features_mask": [mask]}, 0)
    return s.count("#")


def _tokens_from_length(fe, n: int) -> int:
    from transformers import Gemma4Processor

    fake = SimpleNamespace(feature_extractor=fe, audio_seq_length=750)
    return int(Gemma4Processor._compute_audio_num_tokens(fake, np.zeros(n), SR))


def _features_case(bundle, ctx):
    fe = _extractor()
    case = bundle.case(
        "audio-features", kind="audio_features",
        description="Gemma4AudioFeatureExtractor (16 kHz, frame 320 + 1 unfold, hop 160, FFT 512, periodic Hann, "
                    "magnitude spectrum, 128 HTK mels 0-8000 Hz, log(mel + 1e-3), pad to a multiple of 128 "
                    "samples) on synthetic clips; a padded batch; token-count vectors.",
        config={"clips": [c[0] for c in CLIPS], "batch": [c[0] for c in BATCH], "sampling_rate": SR,
                "frame_length": fe.frame_length, "hop_length": fe.hop_length, "fft_length": fe.fft_length,
                "mel_floor": float(fe.mel_floor), "pad_to_multiple_of": 128, "max_length": 480000,
                "token_count_columns": ["num_samples", "tokens_processor_formula", "tokens_from_feature_mask",
                                        "feature_frames"],
                "features_rule": "features are float32(float64 computation) and are 0 where the mask is 0"})
    case.add("window", fe.window.astype(np.float32))
    case.add("mel_filters", fe.mel_filters.astype(np.float32))   # [257, 128]; float64 in the extractor
    for slug, kind, n in CLIPS:
        w = mm_inputs.waveform(kind, n, SR)
        feats, mask = _features(fe, w)
        case.add(f"{slug}/waveform", w)
        case.add(f"{slug}/features", feats[0])
        case.add(f"{slug}/mask", mask[0])
    waves = [mm_inputs.waveform(kind, n, SR) for _, kind, n in BATCH]
    feats, mask = _features(fe, waves)
    case.add("batch/features", feats)
    case.add("batch/mask", mask)
    rows = []
    for n in TOKEN_COUNT_LENGTHS:
        t_formula = _tokens_from_length(fe, n)
        _, m = _features(fe, np.zeros(n, dtype=np.float32))
        t_mask = _tokens_from_mask(m[0])
        rows.append((n, t_formula, t_mask, m.shape[1]))
    case.add("token_counts", np.asarray(rows, dtype=np.int32))
    case.close()


def _tower_run(tower, embedder, feats, mask, detail=True):
    import torch

    x = torch.from_numpy(feats)[None]
    m = torch.from_numpy(mask)[None]
    with torch.no_grad(), record_audio(tower, embedder, detail=detail) as rec:
        out = tower(x, m, return_dict=True)
        soft_all = embedder(out.last_hidden_state)
    valid = out.attention_mask[0]
    soft = soft_all[0][valid]
    rec.put("soft_tokens", soft)
    return rec, soft, x, m


def _tiny_case(bundle, ctx, variant: str, keep=None):
    import torch

    model, rel = ctx.tiny_model(variant)
    fe = _extractor()
    slug, kind, n = TINY_CLIP
    w = mm_inputs.waveform(kind, n, SR)
    feats, mask = _features(fe, w)
    feats, mask = feats[0], mask[0]
    rec, soft, x, m = _tower_run(model.model.audio_tower, model.model.embed_audio, feats, mask)
    with torch.no_grad():
        ref = model.model.get_audio_features(x, m, return_dict=True)
        ref_soft = ref.pooler_output[0][ref.attention_mask[0]]
    if not torch.equal(ref_soft, soft):
        raise RuntimeError(f"{variant}: hooked audio run differs from get_audio_features")
    n_tokens = int(soft.shape[0])
    if n_tokens != _tokens_from_mask(mask):
        raise RuntimeError(f"{variant}: audio token count disagrees with the processor")
    ac = model.config.audio_config
    names = _select(rec, keep)
    case = bundle.case(
        f"{variant}-tiny-audio", kind="audio", model=rel,
        description=f"audio tower of {rel} on a {n / SR:.3f} s chirp ({n} samples, not a multiple of 128; "
                    f"{feats.shape[0]} feature frames, {n_tokens} soft tokens = "
                    f"{(n_tokens + ac.attention_chunk_size - 1) // ac.attention_chunk_size} attention chunks)"
                    + (": every stage." if keep is None else f": subset {', '.join(keep)} + soft tokens."),
        config={"num_samples": n, "feature_frames": int(feats.shape[0]), "soft_tokens": n_tokens,
                "attention_chunk_size": ac.attention_chunk_size,
                "attention_context_left": ac.attention_context_left,
                "per_layer_subset": list(keep) if keep else None,
                "conv0_out_first4": "a_conv0_out_first4 holds time steps 0..3 of a_conv0_out (full map is large)"})
    if keep is None:
        case.add("a_waveform", w)
    case.add("a_features", feats)
    case.add("a_features_mask", mask)
    for nme in names:
        if keep is not None and nme == "a_conv0_out_first4":
            continue
        case.add(nme, rec.tensors[nme])
    case.close()


def _select(rec, keep):
    names = []
    for nme in rec.order:
        base = nme[2:]
        if base.startswith("conv0_"):   # [T/2, 64, 128] maps: megabytes; see a_conv0_out_first4
            continue
        if keep is not None and "-" in base and base.rsplit("-", 1)[0] not in keep:
            continue
        if keep is not None and base.startswith("conv1_") and base != "conv1_out":
            continue
        names.append(nme)
    # The first 4 time steps of the layer-0 conv map (the full [T/2, 64, 128] map is megabytes).
    if "a_conv0_out" in rec.tensors:
        rec.tensors["a_conv0_out_first4"] = np.ascontiguousarray(rec.tensors["a_conv0_out"][:4])
        names.insert(names.index("a_mask1") if "a_mask1" in names else 0, "a_conv0_out_first4")
    return names


def _realwidth_case(bundle, ctx):
    from g4golden import mm_realwidth

    tower, emb, rel = mm_realwidth.build_audio(bundle, ctx, "e2b")
    fe = _extractor()
    slug, kind, n = RW_CLIP
    w = mm_inputs.waveform(kind, n, SR)
    feats, mask = _features(fe, w)
    feats, mask = feats[0], mask[0]
    rec, soft, _, _ = _tower_run(tower, emb, feats, mask, detail=False)
    names = _select(rec, RW_KEEP)
    names = [x for x in names if x not in ("a_mm_norm", "a_soft_tokens_all")]
    case = bundle.case(
        "e2b-realwidth-audio", kind="audio", model=rel,
        description=f"real-width audio tower (1024 hidden, 8x128 heads, conv channels [128, 32], 2 layers) on a "
                    f"{n / SR:.4f} s chirp ({n} samples; {int(soft.shape[0])} soft tokens = 3 attention chunks); "
                    f"per-layer subset: {', '.join(RW_KEEP)}.",
        config={"num_samples": n, "feature_frames": int(feats.shape[0]), "soft_tokens": int(soft.shape[0]),
                "per_layer_subset": list(RW_KEEP)})
    case.add("a_waveform", w)
    case.add("a_features", feats)
    case.add("a_features_mask", mask)
    for nme in names:
        case.add(nme, rec.tensors[nme])
    case.close()


def generate(bundle, ctx):
    _features_case(bundle, ctx)
    _tiny_case(bundle, ctx, "e2b")
    _tiny_case(bundle, ctx, "e4b", keep=TINY_E4B_KEEP)
    _realwidth_case(bundle, ctx)
