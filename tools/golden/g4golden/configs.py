"""Configs of the tiny checkpoints and of the real-width slices, per variant.

Tiny: every architectural feature of the variant at hidden <= 128, vocab 512, sliding window 8.
Real width: the released widths (hidden, heads, head dims, KV heads, intermediate and expert
widths, window) with reduced depth and vocabulary (gemma4-architecture.md section 9).
"""
from __future__ import annotations

VARIANTS = ("e2b", "e4b", "26b-a4b", "31b")

# Tiny-vocab special ids (the tokenizer helper keeps Gemma 4's real ids below 512 and maps the
# multimodal specials into 505..511).
SPECIAL = {
    "pad": 0, "eos": 1, "bos": 2, "unk": 3, "mask": 4,
    "sot": 105, "eot": 106, "newline": 107, "tool_response": 50,
    "think": 98, "soc": 100, "eoc": 101,
    "boi": 505, "boa": 506, "image": 507, "audio": 508, "eoi": 509, "eoa": 510, "video": 511,
}

S, F = "sliding_attention", "full_attention"

TINY_WINDOW = 8
TINY_VOCAB = 512


def _pattern(period: list[str], repeats: int) -> list[str]:
    return period * repeats


def tiny_text_kwargs(variant: str) -> dict:
    common = dict(
        vocab_size=TINY_VOCAB, vocab_size_per_layer_input=TINY_VOCAB, rms_norm_eps=1e-6,
        sliding_window=TINY_WINDOW, final_logit_softcapping=30.0, max_position_embeddings=4096,
        tie_word_embeddings=True, pad_token_id=0, eos_token_id=1, bos_token_id=2,
        hidden_activation="gelu_pytorch_tanh", attention_bias=False,
        rope_parameters={
            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
            "full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.25,
                               "rope_theta": 1000000.0},
        },
    )
    if variant == "e2b":
        # [S,S,S,S,F] x 2; layers 5..9 share K/V (sliding -> 3, full -> 4) and are double wide.
        return dict(common, hidden_size=64, num_hidden_layers=10, layer_types=_pattern([S, S, S, S, F], 2),
                    num_attention_heads=4, num_key_value_heads=1, head_dim=32, global_head_dim=64,
                    intermediate_size=128, use_double_wide_mlp=True, num_kv_shared_layers=5,
                    hidden_size_per_layer_input=16, use_bidirectional_attention=None)
    if variant == "e4b":
        # [S x5, F] x 2; layers 6..11 share K/V (sliding -> 4, full -> 5).
        return dict(common, hidden_size=96, num_hidden_layers=12, layer_types=_pattern([S] * 5 + [F], 2),
                    num_attention_heads=4, num_key_value_heads=2, head_dim=32, global_head_dim=64,
                    intermediate_size=128, use_double_wide_mlp=False, num_kv_shared_layers=6,
                    hidden_size_per_layer_input=16, use_bidirectional_attention=None)
    if variant == "26b-a4b":
        # [S x5, F] x 2; K=V on full layers with 1 KV head (sliding: 2); dense FFN + 16-expert top-4 MoE.
        return dict(common, hidden_size=64, num_hidden_layers=12, layer_types=_pattern([S] * 5 + [F], 2),
                    num_attention_heads=4, num_key_value_heads=2, head_dim=32, global_head_dim=64,
                    attention_k_eq_v=True, num_global_key_value_heads=1,
                    intermediate_size=48, enable_moe_block=True, num_experts=16, top_k_experts=4,
                    moe_intermediate_size=16, hidden_size_per_layer_input=0, num_kv_shared_layers=0,
                    use_bidirectional_attention="vision")
    if variant == "31b":
        # [S x5, F] x 2; K=V on full layers with 1 KV head (sliding: 4 KV heads for 8 query heads).
        return dict(common, hidden_size=96, num_hidden_layers=12, layer_types=_pattern([S] * 5 + [F], 2),
                    num_attention_heads=8, num_key_value_heads=4, head_dim=16, global_head_dim=32,
                    attention_k_eq_v=True, num_global_key_value_heads=1,
                    intermediate_size=128, hidden_size_per_layer_input=0, num_kv_shared_layers=0,
                    use_bidirectional_attention="vision")
    raise KeyError(variant)


def tiny_vision_kwargs(variant: str) -> dict:
    if variant in ("e2b", "e4b"):
        return dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                    num_key_value_heads=2, head_dim=16, patch_size=16, pooling_kernel_size=3,
                    position_embedding_size=512, use_clipped_linears=True, standardize=False,
                    rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh")
    return dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=3,
                num_key_value_heads=3, head_dim=16, patch_size=16, pooling_kernel_size=3,
                position_embedding_size=512, use_clipped_linears=False, standardize=True,
                rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh")


def tiny_audio_kwargs(variant: str) -> dict | None:
    if variant not in ("e2b", "e4b"):
        return None
    return dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, hidden_act="silu",
                subsampling_conv_channels=[128, 8], conv_kernel_size=5, residual_weight=0.5,
                attention_chunk_size=12, attention_context_left=13, attention_context_right=0,
                attention_logit_cap=50.0, attention_invalid_logits_value=-1.0e9,
                use_clipped_linears=True, rms_norm_eps=1e-6, gradient_clipping=1e10,
                output_proj_dims=48)


def top_level_kwargs() -> dict:
    return dict(boi_token_id=SPECIAL["boi"], eoi_token_id=SPECIAL["eoi"], image_token_id=SPECIAL["image"],
                video_token_id=SPECIAL["video"], boa_token_id=SPECIAL["boa"], eoa_token_index=SPECIAL["eoa"],
                audio_token_id=SPECIAL["audio"], tie_word_embeddings=True, eos_token_id=[1, 106],
                pad_token_id=0, bos_token_id=2)


def tiny_config(variant: str):
    from transformers import Gemma4AudioConfig, Gemma4Config, Gemma4TextConfig, Gemma4VisionConfig

    audio = tiny_audio_kwargs(variant)
    return Gemma4Config(
        text_config=Gemma4TextConfig(**tiny_text_kwargs(variant)),
        vision_config=Gemma4VisionConfig(**tiny_vision_kwargs(variant)),
        audio_config=Gemma4AudioConfig(**audio) if audio is not None else None,
        **top_level_kwargs(),
    )


# ---------------------------------------------------------------------------------------------
# Real width: released widths, reduced depth and vocabulary.

REALWIDTH_VOCAB = 512


def realwidth_text_kwargs(variant: str) -> dict:
    common = dict(tiny_text_kwargs(variant))
    common.update(vocab_size=REALWIDTH_VOCAB, vocab_size_per_layer_input=REALWIDTH_VOCAB)
    if variant == "e2b":
        # One period [S,S,S,S,F] of K/V-computing layers + one period of KV-shared, double-wide layers.
        return dict(common, hidden_size=1536, num_hidden_layers=10, layer_types=_pattern([S, S, S, S, F], 2),
                    num_attention_heads=8, num_key_value_heads=1, head_dim=256, global_head_dim=512,
                    intermediate_size=6144, use_double_wide_mlp=True, num_kv_shared_layers=5,
                    hidden_size_per_layer_input=256, sliding_window=512, max_position_embeddings=131072)
    if variant == "e4b":
        return dict(common, hidden_size=2560, num_hidden_layers=12, layer_types=_pattern([S] * 5 + [F], 2),
                    num_attention_heads=8, num_key_value_heads=2, head_dim=256, global_head_dim=512,
                    intermediate_size=10240, use_double_wide_mlp=False, num_kv_shared_layers=6,
                    hidden_size_per_layer_input=256, sliding_window=512, max_position_embeddings=131072)
    if variant == "26b-a4b":
        # One period; 32 experts instead of 128 (top-8 and expert width 704 kept).
        return dict(common, hidden_size=2816, num_hidden_layers=6, layer_types=[S] * 5 + [F],
                    num_attention_heads=16, num_key_value_heads=8, head_dim=256, global_head_dim=512,
                    num_global_key_value_heads=2, intermediate_size=2112, num_experts=32, top_k_experts=8,
                    moe_intermediate_size=704, sliding_window=1024, max_position_embeddings=262144)
    if variant == "31b":
        return dict(common, hidden_size=5376, num_hidden_layers=6, layer_types=[S] * 5 + [F],
                    num_attention_heads=32, num_key_value_heads=16, head_dim=256, global_head_dim=512,
                    num_global_key_value_heads=4, intermediate_size=21504, sliding_window=1024,
                    max_position_embeddings=262144)
    raise KeyError(variant)


def realwidth_config(variant: str):
    from transformers import Gemma4Config, Gemma4TextConfig

    return Gemma4Config(text_config=Gemma4TextConfig(**realwidth_text_kwargs(variant)),
                        vision_config=None, audio_config=None, **top_level_kwargs())
