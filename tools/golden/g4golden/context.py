"""What the driver hands to every case module (see tools/golden/cases/README.md)."""
from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path

import numpy as np

from . import configs, weights
from .bundle import Bundle, dump_json


def _seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


class Context:
    VARIANTS = configs.VARIANTS
    special = dict(configs.SPECIAL)

    def __init__(self, bundle: Bundle, torch_module):
        self.bundle = bundle
        self.torch = torch_module
        self.module_name: str | None = None  # set by the driver while a module runs
        self._tiny: dict[str, tuple] = {}

    # -- inputs ---------------------------------------------------------------------------------
    def rng(self, name: str) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(_seed(name)))

    def token_ids(self, n: int, name: str, low: int = 108, high: int = 505) -> np.ndarray:
        return self.rng("tokens:" + name).integers(low, high, size=n, dtype=np.int64)

    def log(self, msg: str) -> None:
        print(f"[golden] {msg}", file=sys.stderr, flush=True)

    weight_params = staticmethod(weights.weight_params)

    # -- tiny checkpoints -----------------------------------------------------------------------
    def tiny_config(self, variant: str):
        return configs.tiny_config(variant)

    def tiny_model_rel(self, variant: str) -> str:
        return f"models/{variant}-tiny"

    def tiny_model_dir(self, variant: str) -> Path:
        self.tiny_model(variant)
        return self.bundle.root / self.tiny_model_rel(variant)

    def tiny_model(self, variant: str):
        """(model, rel_dir): the tiny checkpoint written into the bundle, reloaded from its folder."""
        if variant in self._tiny:
            return self._tiny[variant]
        from transformers import Gemma4ForConditionalGeneration, GenerationConfig

        torch = self.torch
        rel = self.tiny_model_rel(variant)
        cfg = self.tiny_config(variant)
        with torch.device("cpu"):
            model = Gemma4ForConditionalGeneration(cfg)
        synthetic = weights.fill_model(model)
        entry = {"variant": variant, "kind": "tiny", "config": f"{rel}/config.json",
                 "weights_file": f"{rel}/model.safetensors", "synthetic_weights": synthetic}
        path = self.bundle.add_model(rel, entry)
        model.save_pretrained(str(path), safe_serialization=True)
        gen = GenerationConfig(bos_token_id=2, eos_token_id=[1, 106, 50], pad_token_id=0, do_sample=True,
                               temperature=1.0, top_k=64, top_p=0.95)
        gen.save_pretrained(str(path))
        files = ["config.json", "generation_config.json", "model.safetensors"]
        files += self._tokenizer_files(path)
        entry["files"] = sorted(files)
        for f in files:
            self.bundle._total_bytes += (path / f).stat().st_size
        del model
        loaded = Gemma4ForConditionalGeneration.from_pretrained(
            str(path), dtype=torch.float32, attn_implementation="eager", experts_implementation="eager")
        loaded.eval()
        self._check_loaded(loaded, synthetic)
        self._tiny[variant] = (loaded, rel)
        return self._tiny[variant]

    def _tokenizer_files(self, path: Path) -> list[str]:
        try:
            mod = importlib.import_module("g4golden.small_tokenizer")
        except ImportError:
            return []
        fn = getattr(mod, "write_tokenizer_files", None)
        if fn is None:
            return []
        return list(fn(path))

    def _check_loaded(self, model, synthetic) -> None:
        sd = model.state_dict()
        for e in synthetic[:: max(1, len(synthetic) // 16)]:
            t = sd[e["name"]].detach().numpy()
            if not weights.check_matches_algorithm(e["name"], t):
                raise RuntimeError(f"reloaded tensor {e['name']} differs from the synthetic algorithm")

    # -- capture --------------------------------------------------------------------------------
    def capture_text(self, model, case, **forward_kwargs):
        from .capture import capture_text_forward

        out, tensors = capture_text_forward(self.torch, model, **forward_kwargs)
        for name, arr in tensors:
            case.add(name, arr)
        return out


__all__ = ["Context", "dump_json"]
