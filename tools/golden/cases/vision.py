"""Vision goldens: image preprocessing at every token budget, and both vision towers stage by stage.

Cases (see tools/golden/cases/README-mm.md for every tensor name):
  image-preprocess           raw RGB images -> resized size, resized pixels, patches, position ids,
                             soft-token count, at budgets 70/140/280/560/1120; aspect-ratio size
                             vectors (pure arithmetic) including extreme shapes
  <variant>-tiny-vision      tiny tower of each variant's checkpoint: patches -> patch embedding ->
                             every layer (all intermediates) -> pooler -> standardize -> soft tokens
  e2b-realwidth-vision       on-device tower at real width (2 layers), documented subset
  31b-realwidth-vision       large tower at real width (2 layers), documented subset
  video-preprocess           frame sampling and per-frame processing at the video budget, and
                             the processor's prompt expansion with mm:ss timestamps
"""
from __future__ import annotations


import numpy as np

from g4golden import mm_inputs, mm_resize
from g4golden.mm_capture import record_vision

BUDGETS = (70, 140, 280, 560, 1120)
PATCH, POOL = 16, 3

# (slug, height, width, builder): moderate source sizes so the committed raw images stay small;
# the huge/extreme sizes are covered by the size vectors below.
IMAGES = [
    ("gradient_224x224", 224, 224, lambda h, w: mm_inputs.image_gradient(h, w)),        # upscales to 768x768 at 280
    ("checker_256x256", 256, 256, lambda h, w: mm_inputs.image_checker(h, w, 8)),      # high contrast
    ("scene_360x480", 360, 480, lambda h, w: mm_inputs.image_scene("scene_360x480", h, w)),  # downscales at 70
    ("noise_300x200", 300, 200, lambda h, w: mm_inputs.image_noise("noise_300x200", h, w)),  # portrait
    ("solid_64x96", 64, 96, lambda h, w: mm_inputs.image_solid(h, w)),                  # tiny, upscales
    ("tall_600x20", 600, 20, lambda h, w: mm_inputs.image_gradient(h, w)),              # 30:1
    ("wide_16x900", 16, 900, lambda h, w: mm_inputs.image_scene("wide_16x900", h, w)),  # 1:56
    ("pixel_1x1", 1, 1, lambda h, w: mm_inputs.image_solid(h, w, (10, 200, 120))),
    ("odd_37x53", 37, 53, lambda h, w: mm_inputs.image_noise("odd_37x53", h, w)),
]
FULL_RESIZED = {("checker_256x256", 70), ("tall_600x20", 70)}
PATCHES_FOR = ("odd_37x53", 70)   # position ids and a few pixel-value rows stored for this (image, budget)

# Extra (h, w) for the size vectors only: the G13 list and the usual camera shapes.
SIZE_ONLY = [(512, 512), (224, 224), (2785, 34), (34, 2785), (50, 10000), (10000, 50), (1, 1),
             (1080, 1920), (1920, 1080), (3000, 4000), (4000, 3000), (48, 48), (47, 47), (100, 7),
             (7, 100), (768, 768), (769, 767), (20, 4000), (4000, 20), (1, 100000)]
# The unit-test vectors of test_image_processing_gemma4.py (patch, max_patches, k, h, w).
HF_TEST_VECTORS = [(16, 256, 1, 256, 256), (16, 256, 1, 512, 512), (10, 200, 1, 50, 10000),
                   (10, 200, 1, 25, 10000), (16, 2304, 6, 2785, 34), (10, 200, 1, 25, 20000),
                   (4, 64, 2, 50, 1000), (5, 100, 3, 100, 100), (5, 20, 3, 5, 100)]

# Tower input: a 96x144 scene (6x9 patches -> 6 soft tokens) padded to 63 patch slots (7 output
# slots, the last one empty), i.e. exactly what the processor's patchify/pad steps produce for an
# image of that size, at a length small enough to store every intermediate.
TOWER_IMAGE = (96, 144)
TOWER_SLOTS = 63
RW_TOWER_IMAGE = (96, 96)   # 6x6 patches -> 4 soft tokens, padded to 45 slots
RW_TOWER_SLOTS = 45

RW_KEEP = ("Qcur_pos", "Kcur_pos", "kqv_out", "attn_out", "l_out")


def _image_processor():
    from transformers import Gemma4ImageProcessor

    return Gemma4ImageProcessor()


def _processor_description(ip) -> dict:
    import torchvision

    return {"class": type(ip).__name__, "backend": "torchvision (TorchvisionBackend, the default "
            "'fast' processor; Gemma4ImageProcessorPil is the PIL alternative)",
            "torchvision": torchvision.__version__,
            "resample": "bicubic, antialias=True, on uint8 CHW tensors: separable, horizontal pass first, "
            "uint8 between passes, int16 fixed-point weights; written out in tools/golden/g4golden/mm_resize.py "
            "and checked bit exact on every image and budget of this case",
            "rescale": "float32(u8) * float32(1/255); no normalisation", "patch_size": ip.patch_size,
            "pooling_kernel_size": ip.pooling_kernel_size}


def _resize_only(ip, img: np.ndarray, budget: int) -> np.ndarray:
    """The processor's own resize step on a uint8 CHW tensor -> uint8 HWC array."""
    import torch
    from torchvision.transforms.v2 import functional as tvF

    t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
    out = ip.aspect_ratio_preserving_resize(t, PATCH, budget * POOL * POOL, POOL, tvF.InterpolationMode.BICUBIC)
    assert out.dtype == torch.uint8
    return out.numpy().transpose(1, 2, 0).copy()


def _preprocess_case(bundle, ctx):
    import torch
    from transformers.models.gemma4.image_processing_gemma4 import get_aspect_ratio_preserving_size

    ip = _image_processor()
    case = bundle.case(
        "image-preprocess", kind="image_preprocess",
        description="Gemma4ImageProcessor on synthetic RGB images at every token budget: resized size, "
                    "resized uint8 pixels (full for a few; every 8th row/column for all at budgets <= 280, every "
                    "16th above), position ids and pixel-value rows for one image, soft-token counts; plus "
                    "aspect-ratio size vectors.",
        config={"images": [s for s, *_ in IMAGES], "budgets": list(BUDGETS), "patch_size": PATCH,
                "pooling_kernel_size": POOL, "processor": _processor_description(ip),
                "full_resized": sorted(f"{s}/b{b}" for s, b in FULL_RESIZED),
                "patches_for": f"{PATCHES_FOR[0]}/b{PATCHES_FOR[1]}",
                "pixel_values_rule": "pixel_values = float32(patches_u8) * float32(1/255) (bit exact)",
                "aspect_vectors_columns": ["patch", "max_patches", "pooling_k", "h", "w", "target_h", "target_w"]})
    sizes = np.zeros((len(IMAGES), len(BUDGETS), 2), dtype=np.int32)
    soft = np.zeros((len(IMAGES), len(BUDGETS)), dtype=np.int32)
    for i, (slug, h, w, build) in enumerate(IMAGES):
        img = build(h, w)
        assert img.shape == (h, w, 3) and img.dtype == np.uint8
        case.add(f"{slug}/raw_u8", img)
        for j, b in enumerate(BUDGETS):
            out = ip(images=[img], max_soft_tokens=b, return_tensors="pt", input_data_format="channels_last")
            pv = out["pixel_values"][0]
            pos = out["image_position_ids"][0]
            n_soft = int(out["num_soft_tokens_per_image"][0])
            resized = _resize_only(ip, img, b)
            th, tw = resized.shape[:2]
            # The written-out algorithm of g4golden/mm_resize.py reproduces the resize bit for bit.
            if (th, tw) != (h, w) and not np.array_equal(mm_resize.resize_uint8_bicubic_aa(img, th, tw), resized):
                raise RuntimeError(f"{slug}@{b}: mm_resize.py no longer matches the processor's resize")
            # The processor's pixel values are exactly the patchified resized uint8 image / 255.
            valid = th // PATCH * (tw // PATCH)
            patches_u8 = torch.from_numpy(resized.transpose(2, 0, 1).copy()).reshape(
                3, th // PATCH, PATCH, tw // PATCH, PATCH).permute(1, 3, 2, 4, 0).reshape(valid, -1)
            ref = patches_u8.to(torch.float32) * np.float32(1.0 / 255.0)
            if not torch.equal(ref, pv[:valid]) or bool(pv[valid:].abs().sum() != 0):
                raise RuntimeError(f"{slug}@{b}: pixel_values are not float32(u8)/255 of the resized image")
            assert (th, tw) == get_aspect_ratio_preserving_size(h, w, PATCH, b * POOL * POOL, POOL)
            assert n_soft == valid // (POOL * POOL)
            sizes[i, j] = (th, tw)
            soft[i, j] = n_soft
            if (slug, b) in FULL_RESIZED:
                case.add(f"{slug}/b{b}/resized_u8", resized)
            st = 8 if b <= 280 else 16   # every st-th row and column, starting at 0
            case.add(f"{slug}/b{b}/resized_u8_s{st}", np.ascontiguousarray(resized[::st, ::st]))
            if (slug, b) == PATCHES_FOR:
                # Rows valid-3 .. valid+2 as float: the last real patches and the first padding rows.
                case.add(f"{slug}/b{b}/pixel_values_rows", pv[valid - 3: valid + 3].numpy())
                case.add(f"{slug}/b{b}/pos_ids", pos.numpy().astype(np.int32))
    case.add("resized_hw", sizes)
    case.add("num_soft_tokens", soft)

    vec = []
    for (p, mp, k, h, w) in HF_TEST_VECTORS:
        th, tw = get_aspect_ratio_preserving_size(h, w, p, mp, k)
        vec.append((p, mp, k, h, w, th, tw))
    for b in BUDGETS:
        for (h, w) in SIZE_ONLY + [(h, w) for _, h, w, _ in IMAGES]:
            th, tw = get_aspect_ratio_preserving_size(h, w, PATCH, b * POOL * POOL, POOL)
            vec.append((PATCH, b * POOL * POOL, POOL, h, w, th, tw))
    case.add("aspect_vectors", np.asarray(vec, dtype=np.int32))
    case.close()


def _tower_input(h: int, w: int, slots: int, name: str):
    """pixel_values [1, slots, 768] and position ids [1, slots, 2] built with the processor's own
    patchify and pad helpers, for an image already at a size divisible by 48."""
    import torch
    from transformers.models.gemma4.image_processing_gemma4 import convert_image_to_patches, pad_along_first_dim

    img = mm_inputs.image_scene(name, h, w)
    chw = torch.from_numpy(img.transpose(2, 0, 1).copy())
    pv = chw * (1.0 / 255.0)
    patches = convert_image_to_patches(pv, PATCH)
    ph, pw = h // PATCH, w // PATCH
    grid = torch.meshgrid(torch.arange(pw), torch.arange(ph), indexing="xy")
    pos = torch.stack(grid, dim=-1).reshape(ph * pw, 2)
    patches, pos = pad_along_first_dim(patches, pos, slots)
    u8 = torch.round(patches * 255).to(torch.uint8)
    assert torch.equal(u8.to(torch.float32) * np.float32(1.0 / 255.0), patches)
    return img, patches[None], pos[None], u8


def _run_tower(tower, embedder, pv, pos):
    import torch

    with torch.no_grad(), record_vision(tower, embedder) as rec:
        out = tower(pixel_values=pv, pixel_position_ids=pos)
        soft = embedder(out.last_hidden_state)
    return rec, soft


def _stage_stats(rec) -> dict:
    stats = {}
    for n in ("v_inp", "v_pooled", "v_out", "v_soft_tokens"):
        if n in rec.tensors:
            stats[n] = float(np.max(np.abs(rec.tensors[n])))
    stats["fp16_needs_upcast_at_pooler"] = bool(stats.get("v_pooled", 0.0) > 65504.0)
    return stats


def _tiny_tower_case(bundle, ctx, variant: str):
    import torch

    model, rel = ctx.tiny_model(variant)
    vm = model.model
    img, pv, pos, u8 = _tower_input(*TOWER_IMAGE, TOWER_SLOTS, "tower_96x144")
    rec, soft = _run_tower(vm.vision_tower, vm.embed_vision, pv, pos)
    # Cross-check with the model's own entry point (get_image_features = tower + embed_vision + split).
    with torch.no_grad():
        ref = vm.get_image_features(pv, pos, return_dict=True).pooler_output[0]
    if not torch.equal(ref, soft):
        raise RuntimeError(f"{variant}: hooked tower run differs from get_image_features")
    vc = model.config.vision_config
    case = bundle.case(
        f"{variant}-tiny-vision", kind="vision", model=rel,
        description=f"{'on-device (clipped linears)' if vc.use_clipped_linears else 'large (standardize)'} "
                    f"vision tower of {rel}: every intermediate for a 96x144 image (6x9 patches, 6 soft tokens) "
                    f"padded to {TOWER_SLOTS} patch slots.",
        config={"image_hw": list(TOWER_IMAGE), "patch_slots": TOWER_SLOTS, "valid_patches": 54,
                "soft_tokens": 6, "use_clipped_linears": vc.use_clipped_linears, "standardize": vc.standardize,
                "pixel_values_rule": "pixel_values = float32(v_pixel_patches_u8) * float32(1/255)",
                "stage_max_abs": _stage_stats(rec)})
    case.add("v_image_u8", img)
    case.add("v_pixel_patches_u8", u8.numpy())
    case.add("v_pos_ids", pos[0].numpy().astype(np.int32))
    for n in rec.order:
        case.add(n, rec.tensors[n])
    case.close()


def _realwidth_tower_case(bundle, ctx, variant: str):
    from g4golden import mm_realwidth

    tower, emb, rel = mm_realwidth.build_vision(bundle, ctx, variant)
    img, pv, pos, u8 = _tower_input(*RW_TOWER_IMAGE, RW_TOWER_SLOTS, "tower_96x96")
    rec, soft = _run_tower(tower, emb, pv, pos)
    keep = []
    for n in rec.order:
        base = n[2:].rsplit("-", 1)[0]
        if "-" in n[2:] and base not in RW_KEEP:
            continue
        if base in ("patch_proj", "pos_embd"):
            continue
        keep.append(n)
    vc = tower.config
    case = bundle.case(
        f"{variant}-realwidth-vision", kind="vision", model=rel,
        description=f"real-width {'on-device' if vc.use_clipped_linears else 'large'} vision tower "
                    f"({vc.hidden_size} hidden, {vc.num_attention_heads}x{vc.head_dim} heads, MLP "
                    f"{vc.intermediate_size}, {vc.num_hidden_layers} layers) on a 96x96 image (6x6 patches, "
                    f"4 soft tokens) padded to {RW_TOWER_SLOTS} slots; per-layer subset: {', '.join(RW_KEEP)}.",
        config={"image_hw": list(RW_TOWER_IMAGE), "patch_slots": RW_TOWER_SLOTS, "valid_patches": 36,
                "soft_tokens": 4, "per_layer_subset": list(RW_KEEP),
                "pixel_values_rule": "pixel_values = float32(v_pixel_patches_u8) * float32(1/255)",
                "stage_max_abs": _stage_stats(rec)})
    case.add("v_pixel_patches_u8", u8.numpy())
    case.add("v_pos_ids", pos[0].numpy().astype(np.int32))
    for n in keep:
        case.add(n, rec.tensors[n])
    case.close()
    del tower, emb


def generate(bundle, ctx):
    _preprocess_case(bundle, ctx)
    for variant in ctx.VARIANTS:
        _tiny_tower_case(bundle, ctx, variant)
    for variant in ("e2b", "31b"):
        _realwidth_tower_case(bundle, ctx, variant)
