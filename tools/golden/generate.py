#!/usr/bin/env python3
"""Write the golden bundle `reference_outputs/` from the official transformers implementation.

    .venv/bin/python tools/golden/generate.py                 # regenerate everything
    .venv/bin/python tools/golden/generate.py --only 'text*'  # regenerate some case modules
    .venv/bin/python tools/golden/generate.py --check         # regenerate into a temporary
                                                              # folder, compare byte for byte

Every module tools/golden/cases/*.py (sorted by name) is imported and its
`generate(bundle, ctx)` called (interface: tools/golden/cases/README.md). Runs offline.
"""
from __future__ import annotations

import os

# Offline, before anything imports huggingface_hub / transformers.
os.environ["HF_HUB_OFFLINE"] = "1"
# The machine is shared: OpenMP threads that spin while waiting make a 2-thread torch run ~10x
# slower under load. Passive waiting changes no result.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import fnmatch
import filecmp
import importlib
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

# Files in reference_outputs/ that are written by hand, not by this generator.
HAND_WRITTEN = {"README.md"}


def versions() -> dict:
    import jinja2
    import numpy
    import safetensors
    import tokenizers
    import torch
    import transformers

    v = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "jinja2": jinja2.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": numpy.__version__,
        "safetensors": safetensors.__version__,
    }
    try:
        import sentencepiece

        v["sentencepiece"] = sentencepiece.__version__
    except ImportError:
        pass
    return v


def case_modules(patterns: list[str] | None) -> list[str]:
    names = sorted(p.stem for p in (HERE / "cases").glob("*.py") if not p.stem.startswith("_"))
    if patterns:
        names = [n for n in names if any(fnmatch.fnmatch(n, pat) for pat in patterns)]
    return names


def run_modules(out: Path, modules: list[str]):
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    from g4golden.bundle import Bundle
    from g4golden.context import Context

    bundle = Bundle(out, versions())
    ctx = Context(bundle, torch)
    for name in modules:
        t0 = time.time()
        ctx.module_name = name
        before = {k: set(bundle.manifest[k]) for k in ("cases", "files")}
        mod = importlib.import_module(f"cases.{name}")
        mod.generate(bundle, ctx)
        for k in ("cases", "files"):
            for key in set(bundle.manifest[k]) - before[k]:
                bundle.manifest[k][key].setdefault("module", name)
        ctx.log(f"module {name}: {time.time() - t0:.1f} s")
    return bundle


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - HAND_WRITTEN


def merged_manifest(old: dict, new: dict, modules: list[str]) -> dict:
    """Old manifest with the entries of the re-run modules replaced by the new ones."""
    out = json.loads(json.dumps(old))
    out["versions"] = new["versions"]
    out["tolerances"] = new["tolerances"]
    for k in ("cases", "files"):
        out[k] = {key: e for key, e in out.get(k, {}).items() if e.get("module") not in modules}
        out[k].update(new[k])
    out.setdefault("models", {}).update(new["models"])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "reference_outputs", help="bundle folder")
    ap.add_argument("--only", action="append", metavar="PATTERN",
                    help="fnmatch pattern on case-module names (repeatable)")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and compare with --out byte for byte")
    ap.add_argument("--keep-tmp", action="store_true", help="with --check: keep the temporary folder")
    args = ap.parse_args()

    from g4golden.bundle import dump_json

    modules = case_modules(args.only)
    if not modules:
        print("no case module matches", file=sys.stderr)
        return 2
    out: Path = args.out.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="golden-"))
    try:
        bundle = run_modules(tmp, modules)
        old_manifest_path = out / "manifest.json"
        if args.only and old_manifest_path.exists():
            manifest = merged_manifest(json.loads(old_manifest_path.read_text()), bundle.manifest, modules)
        else:
            manifest = bundle.manifest
        (tmp / "manifest.json").write_bytes(dump_json(manifest))
        new_files = tree(tmp)

        if args.check:
            return check(out, tmp, new_files, full=not args.only)

        out.mkdir(parents=True, exist_ok=True)
        if not args.only:
            for rel in sorted(tree(out) - new_files):
                (out / rel).unlink()
                print(f"removed stale {rel}", file=sys.stderr)
        for rel in sorted(new_files):
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp / rel, dst)
        for d in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            if not any(d.iterdir()):
                d.rmdir()
        total = sum((out / r).stat().st_size for r in tree(out))
        print(f"wrote {len(new_files)} files to {out} (bundle total {total / 1e6:.2f} MB)")
        return 0
    finally:
        if args.check and args.keep_tmp:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def manifest_diff(old: dict, new: dict) -> None:
    """Print which manifest entries differ (the first few)."""
    shown = 0
    for top in sorted(set(old) | set(new)):
        a, b = old.get(top), new.get(top)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key) and shown < 20:
                    ea, eb = a.get(key), b.get(key)
                    fields = sorted(k for k in set(ea or {}) | set(eb or {})
                                    if not isinstance(ea, dict) or not isinstance(eb, dict) or ea.get(k) != eb.get(k))
                    print(f"  manifest {top}[{key}]: " + ("only in one" if ea is None or eb is None else f"fields {fields}"))
                    shown += 1
        elif shown < 20:
            print(f"  manifest {top} differs")
            shown += 1


def check(out: Path, tmp: Path, new_files: set[str], full: bool) -> int:
    bad = 0
    for rel in sorted(new_files):
        ref = out / rel
        if not ref.exists():
            print(f"MISSING in {out.name}: {rel}")
            bad += 1
        elif not filecmp.cmp(ref, tmp / rel, shallow=False):
            print(f"DIFFERS: {rel}")
            if rel == "manifest.json":
                manifest_diff(json.loads(ref.read_text()), json.loads((tmp / rel).read_text()))
            bad += 1
    if full:
        for rel in sorted(tree(out) - new_files):
            print(f"NOT GENERATED (stale): {rel}")
            bad += 1
    n = len(new_files)
    if bad:
        print(f"--check: {bad} of {n} files differ")
        return 1
    print(f"--check: all {n} files identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
