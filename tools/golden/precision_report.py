#!/usr/bin/env python3
"""How much float32 rounding is in the committed tiny goldens: rerun each tiny checkpoint's
prefill case in float64 with the same transformers code and report, per tensor kind, the NMSE
of the committed float32 tensors against the float64 ones, plus the smallest gap between the
k-th and (k+1)-th router probability (a near-tie could flip an expert choice).

    .venv/bin/python tools/golden/precision_report.py [--bundle reference_outputs]

This justifies the float32 tolerance in manifest.json: an independent float32 implementation
differs from the goldens by about twice the NMSE printed here.
"""
from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
# The machine is shared: OpenMP threads that spin while waiting make a 2-thread torch run ~10x
# slower under load. Passive waiting changes no result.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, default=HERE.parent.parent / "reference_outputs")
    ap.add_argument("--realwidth", action="append", default=[], metavar="VARIANT",
                    help="also rerun <VARIANT>-realwidth-prefill in float64 (slow: minutes)")
    args = ap.parse_args()
    import torch
    from safetensors.numpy import load_file
    from transformers import Gemma4ForConditionalGeneration

    from g4golden.capture import capture_text_forward

    torch.set_num_threads(2)
    root = args.bundle.resolve()
    manifest = json.loads((root / "manifest.json").read_text())
    worst_all = 0.0
    wanted = [f"{v}-realwidth-prefill" for v in args.realwidth]
    for name, case in sorted(manifest["cases"].items()):
        if case.get("kind") != "text-prefill" or ("tiny" not in name and name not in wanted):
            continue
        if "tiny" in name:
            model = Gemma4ForConditionalGeneration.from_pretrained(
                str(root / case["model"]), dtype=torch.float64, attn_implementation="eager",
                experts_implementation="eager").eval()
        else:
            from cases.realwidth import build_lazy_model
            from g4golden.context import Context

            torch.set_default_dtype(torch.float64)
            try:
                model, _ = build_lazy_model(Context(None, torch), case["config"]["variant"])
            finally:
                torch.set_default_dtype(torch.float32)
        data = load_file(str(root / case["file"]))
        ids = torch.from_numpy(data["inp_tokens"].astype(np.int64))[None]
        _, recs = capture_text_forward(torch, model, input_ids=ids, attention_mask=torch.ones_like(ids),
                                       use_cache=False)
        per_kind: dict[str, float] = {}
        gaps = []
        for tname, ref64 in recs:
            if tname not in data or data[tname].dtype != np.float32:
                continue
            r = ref64.astype(np.float64)
            den = float((r ** 2).sum())
            e = float(((data[tname].astype(np.float64) - r) ** 2).sum()) / den if den else 0.0
            kind = tname.rsplit("-", 1)[0] if tname[-1].isdigit() else tname
            per_kind[kind] = max(per_kind.get(kind, 0.0), e)
            if kind == "ffn_moe_probs":
                k = data[tname.replace("probs", "topk")].shape[1]
                s = np.sort(r, axis=-1)[:, ::-1]
                gaps.append(float((s[:, k - 1] - s[:, k]).min()))
        worst = max(per_kind.values())
        worst_all = max(worst_all, worst)
        top = sorted(per_kind.items(), key=lambda t: -t[1])[:6]
        print(f"{name}: worst NMSE(f32 golden vs f64) {worst:.1e}; " + ", ".join(f"{k} {v:.1e}" for k, v in top))
        if gaps:
            print(f"    smallest router gap between k-th and (k+1)-th probability: {min(gaps):.2e}")
    print(f"overall worst NMSE {worst_all:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
