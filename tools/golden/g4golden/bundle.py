"""Writing the golden bundle: reference_outputs/ with manifest.json, per-case tensor files and
any other files a case needs. Output is deterministic, so `generate.py --check` can compare a
fresh run with the committed files byte for byte.

Usage by a case module (tools/golden/cases/*.py, each exposing `generate(bundle)`):

    case = bundle.case("e2b-tiny-prefill", kind="text", description="...",
                       model="models/e2b-tiny", config={...})
    case.add("inp_tokens", ids_int32)          # [S]
    case.add("attn_norm-0", array_float32)     # llama.cpp-style names, tokens-first layout
    case.close()                               # writes cases/e2b-tiny-prefill.safetensors
    bundle.add_file("tokenizer/corpus.json", data_bytes, case=None)
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file

# Recommended tolerances per compute precision. A tensor passes when its NMSE
# (sum((x-ref)^2) / sum(ref^2)) is at most `nmse` AND its cosine similarity is at least `cosine`.
# max_abs / max_rel are reported, not gated (they are dominated by near-zero elements).
DEFAULT_TOLERANCES = {
    # float32: the committed float32 goldens differ from a float64 run of the same code by NMSE up
    # to 7e-11 on some tensors (tools/golden/precision_report.py), so an independent float32
    # implementation lands around 1e-10; 1e-9 leaves headroom and still catches every bug class
    # the cases target (those give NMSE > 1e-4).
    "float32": {"nmse": 1e-9, "cosine": 0.9999999},
    "bfloat16": {"nmse": 1e-4, "cosine": 0.9999},
    "int8": {"nmse": 1e-3, "cosine": 0.999},
    "int4": {"nmse": 2e-2, "cosine": 0.99},
}

_ALLOWED_DTYPES = {np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.uint8)}


def dump_json(obj: Any) -> bytes:
    """The one JSON formatting used for every file in the bundle (stable across runs)."""
    return (json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


class Case:
    def __init__(self, bundle: "Bundle", name: str, entry: dict):
        self._bundle = bundle
        self.name = name
        self.entry = entry
        self._tensors: dict[str, np.ndarray] = {}
        self._order: list[str] = []

    def add(self, name: str, array) -> None:
        if name in self._tensors:
            raise ValueError(f"case {self.name}: tensor {name} added twice")
        arr = np.ascontiguousarray(np.asarray(array))
        if arr.dtype == np.float64 or arr.dtype == np.float16:
            arr = arr.astype(np.float32)
        if arr.dtype == np.bool_:
            arr = arr.astype(np.uint8)
        if arr.dtype not in _ALLOWED_DTYPES:
            raise TypeError(f"case {self.name}: tensor {name} has dtype {arr.dtype}")
        self._tensors[name] = arr
        self._order.append(name)

    def close(self) -> None:
        rel = f"cases/{self.name}.safetensors"
        path = self._bundle.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(self._tensors, str(path))
        self.entry["file"] = rel
        # Listed in the order the forward pass produced them: readers can walk them in that order
        # and stop at the first mismatch.
        self.entry["tensors"] = [
            {"name": n, "shape": list(self._tensors[n].shape), "dtype": str(self._tensors[n].dtype)}
            for n in self._order
        ]
        self._bundle._total_bytes += path.stat().st_size


class Bundle:
    def __init__(self, root: Path, versions: dict):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.manifest: dict[str, Any] = {
            "format_version": 1,
            "versions": versions,
            "tolerances": DEFAULT_TOLERANCES,
            "models": {},
            "cases": {},
            "files": {},
        }
        self._total_bytes = 0

    def case(self, name: str, *, kind: str, description: str, model: str | None = None,
             config: dict | None = None, tolerances: dict | None = None, **extra) -> Case:
        if name in self.manifest["cases"]:
            raise ValueError(f"case {name} defined twice")
        entry: dict[str, Any] = {"kind": kind, "description": description}
        if model is not None:
            entry["model"] = model
        if config is not None:
            entry["config"] = config
        if tolerances is not None:
            entry["tolerances"] = tolerances
        entry.update(extra)
        self.manifest["cases"][name] = entry
        return Case(self, name, entry)

    def add_model(self, rel_dir: str, entry: dict) -> Path:
        """Register a model directory (HF layout) under the bundle; returns its absolute path."""
        self.manifest["models"][rel_dir] = entry
        path = self.root / rel_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    def add_file(self, rel: str, data: bytes, description: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.manifest["files"][rel] = {"description": description, "bytes": len(data)}
        self._total_bytes += len(data)

    def finish(self) -> None:
        (self.root / "manifest.json").write_bytes(dump_json(self.manifest))
