#!/usr/bin/env python3
"""Self-test of the committed golden bundle, using only the reference implementation.

    .venv/bin/python tools/golden/selftest.py [--bundle reference_outputs]

1. Every file of the bundle reads: safetensors files with the `safetensors` package (and their
   tensor names, shapes and dtypes equal the manifest's list), JSON files with `json`, .npy with
   numpy; every file the manifest names exists; the bundle is at most 60 MB.
2. Every committed tiny checkpoint loads with transformers from its folder, as a user would
   (`Gemma4ForConditionalGeneration.from_pretrained(folder)`), its tensors equal the synthetic
   algorithm bit for bit, and it reproduces the committed logits of its text cases (prefill
   logits, cached decode logits, greedy generate() tokens).
3. Every real-width config.json loads, and the model it describes has exactly the tensors
   (names, shapes) listed in the manifest's synthetic_weights.
Exit status 0 when everything passes.
"""
from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
# The machine is shared: OpenMP threads that spin while waiting make a 2-thread torch run ~10x
# slower under load. Passive waiting changes no result.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

MAX_BYTES = 60 * 1000 * 1000
FAILS: list[str] = []


def fail(msg: str) -> None:
    FAILS.append(msg)
    print(f"FAIL {msg}")


def nmse(x: np.ndarray, ref: np.ndarray) -> float:
    x = x.astype(np.float64)
    ref = ref.astype(np.float64)
    den = float((ref ** 2).sum())
    return float(((x - ref) ** 2).sum()) / den if den > 0 else float(((x - ref) ** 2).sum())


def check_files(root: Path, manifest: dict) -> None:
    from safetensors.numpy import load_file

    files = sorted(p for p in root.rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in files)
    print(f"bundle: {len(files)} files, {total / 1e6:.2f} MB (limit {MAX_BYTES / 1e6:.0f} MB)")
    if total > MAX_BYTES:
        fail(f"bundle is {total} bytes, over {MAX_BYTES}")
    for p in files:
        rel = str(p.relative_to(root))
        try:
            if p.suffix == ".safetensors":
                load_file(str(p))
            elif p.suffix == ".json":
                json.loads(p.read_text(encoding="utf-8"))
            elif p.suffix == ".npy":
                np.load(p, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - report every unreadable file
            fail(f"{rel}: does not read: {e}")
    for name, case in manifest["cases"].items():
        f = case.get("file")
        if f is None:
            continue
        if not (root / f).exists():
            fail(f"case {name}: file {f} missing")
            continue
        data = load_file(str(root / f))
        listed = {t["name"]: t for t in case.get("tensors", [])}
        if set(listed) != set(data):
            fail(f"case {name}: manifest tensors != file tensors ({sorted(set(listed) ^ set(data))[:5]})")
        for tname, t in listed.items():
            if tname in data and (list(data[tname].shape) != t["shape"] or str(data[tname].dtype) != t["dtype"]):
                fail(f"case {name}: {tname} shape/dtype differ from the manifest")
    for rel in manifest.get("files", {}):
        if not (root / rel).exists():
            fail(f"file {rel} listed in the manifest is missing")
    for rel, m in manifest["models"].items():
        for f in m.get("files", []):
            if not (root / rel / f).exists():
                fail(f"model {rel}: {f} missing")


def check_tiny(root: Path, manifest: dict, rel: str, entry: dict) -> None:
    tol = manifest["tolerances"]["float32"]["nmse"]
    import torch
    from safetensors.numpy import load_file
    from transformers import Gemma4ForConditionalGeneration

    from g4golden.synthetic import synthetic_tensor

    folder = root / rel
    model = Gemma4ForConditionalGeneration.from_pretrained(
        str(folder), dtype=torch.float32, attn_implementation="eager", experts_implementation="eager").eval()
    weights = load_file(str(root / entry["weights_file"]))
    bad = 0
    for w in entry["synthetic_weights"]:
        ref = synthetic_tensor(w["name"], tuple(w["shape"]), w["center"], w["scale_log2"])
        got = weights.get(w["name"])
        if got is None or not np.array_equal(got, ref):
            bad += 1
    if set(weights) != {w["name"] for w in entry["synthetic_weights"]}:
        fail(f"{rel}: safetensors keys differ from synthetic_weights")
    if bad:
        fail(f"{rel}: {bad} tensors differ from the synthetic algorithm")
    msgs = [f"{len(weights)} tensors == synthetic algorithm" if not bad else f"{bad} tensors differ"]
    for name, case in sorted(manifest["cases"].items()):
        if case.get("model") != rel or not case.get("file") or case.get("kind") not in (
                "text-prefill", "text-decode", "text-generate", "text-batch"):
            continue
        data = load_file(str(root / case["file"]))
        kind = case.get("kind", "")
        ids = torch.from_numpy(data["inp_tokens"].astype(np.int64))[None]
        with torch.no_grad():
            if kind == "text-prefill":
                logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0].numpy()
                e = nmse(logits, data["result_output"])
                msgs.append(f"{name}: logits NMSE {e:.1e}")
                if e > tol:
                    fail(f"{name}: logits NMSE {e:.2e} > {tol}")
            elif kind == "text-decode":
                p = case["prefill_len"]
                out = model(input_ids=ids[:, :p], attention_mask=torch.ones(1, p, dtype=torch.long), use_cache=True)
                cache, steps = out.past_key_values, []
                for k in range(p, ids.shape[1]):
                    out = model(input_ids=ids[:, k:k + 1], attention_mask=torch.ones(1, k + 1, dtype=torch.long),
                                position_ids=torch.tensor([[k]]), past_key_values=cache, use_cache=True)
                    cache = out.past_key_values
                    steps.append(out.logits[0, -1].numpy())
                e = nmse(np.stack(steps), data["decode_result_output"])
                msgs.append(f"{name}: decode logits NMSE {e:.1e}")
                if e > tol:
                    fail(f"{name}: decode logits NMSE {e:.2e} > {tol}")
            elif kind == "text-batch":
                tokens = torch.from_numpy(data["inp_tokens"].astype(np.int64))
                mask = torch.from_numpy(data["inp_mask"].astype(np.int64))
                pos = torch.from_numpy(data["inp_pos"].astype(np.int64))
                out = model(input_ids=tokens, attention_mask=mask, position_ids=pos).logits.numpy()
                n0, n1 = len(data["result_output_seq0"]), len(data["result_output_seq1"])
                e = max(nmse(out[0, -n0:], data["result_output_seq0"]), nmse(out[1, -n1:], data["result_output_seq1"]))
                msgs.append(f"{name}: batched logits NMSE {e:.1e}")
                if e > tol:
                    fail(f"{name}: batched logits NMSE {e:.2e} > {tol}")
            elif kind == "text-generate":
                n = len(data["generate_tokens"])
                g = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                   max_new_tokens=n)
                new = g[0, ids.shape[1]:].numpy().astype(np.int32)
                same = np.array_equal(new, data["generate_tokens"])
                msgs.append(f"{name}: {n} greedy tokens {'equal' if same else 'DIFFER'}")
                if not same:
                    fail(f"{name}: generate() tokens differ")
    print(f"{rel}: " + "; ".join(msgs))


def check_realwidth(root: Path, rel: str, entry: dict) -> None:
    import torch
    from transformers import Gemma4Config, Gemma4ForConditionalGeneration

    from g4golden.weights import checkpoint_tensors

    cfg = Gemma4Config.from_pretrained(str(root / rel))
    with torch.device("meta"):
        model = Gemma4ForConditionalGeneration(cfg)
    have = {n: list(s) for n, s in checkpoint_tensors(model)}
    if entry.get("components"):  # a slice of the model (e.g. only the vision tower + embedder)
        prefixes = tuple(c + "." for c in entry["components"])
        have = {n: s for n, s in have.items() if n.startswith(prefixes)}
    listed = {w["name"]: w["shape"] for w in entry["synthetic_weights"]}
    if have != listed:
        fail(f"{rel}: config.json describes other tensors than synthetic_weights")
    n = sum(int(np.prod(s)) for s in listed.values())
    print(f"{rel}: config.json loads; {len(listed)} tensors, {n / 1e9:.2f} G parameters match synthetic_weights")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, default=REPO / "reference_outputs")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    root = args.bundle.resolve()
    manifest = json.loads((root / "manifest.json").read_text())
    check_files(root, manifest)
    for rel, entry in sorted(manifest["models"].items()):
        if entry.get("weights_file"):
            check_tiny(root, manifest, rel, entry)
        else:
            check_realwidth(root, rel, entry)
    if FAILS:
        print(f"selftest: {len(FAILS)} failure(s)")
        return 1
    print("selftest: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
