#!/usr/bin/env python3
"""Produces the expected values of tests/eval/data/*_parity.jsonl by running the OFFICIAL scoring
code (never copied into this repository) on our self-written responses.

Usage (offline, in a scratch folder holding the official files at the pinned commits):
    python3 tools/eval/parity_expected.py --official /tmp/official \
        --cases tests/eval/data/cases --out tests/eval/data

Official files expected under --official:
    mmlu_api.py          TIGER-AI-Lab/MMLU-Pro  f418b116db00b065c2aea046518d8fcf74d39872 evaluate_from_api.py
    simple_evals/{__init__.py (empty), common.py, types.py}
                         openai/simple-evals    ee3b0318d8d1d9d72755a4120879be65f7c07e9e
    matharena/parser.py, matharena/parse_manual.py
                         eth-sri/matharena      e92766038a80eee227589f5ea688004240bca8e0 src/matharena/
    mmmu_evaluate.py     MMMU-Benchmark/MMMU    bb0b95a945998d91dfef37e969e07d49d1139438 mmmu-pro/evaluate.py
MathArena's parser also needs sympy, regex and antlr4-python3-runtime==4.11 (for parse_latex),
as pinned in its pyproject.toml; put them on PYTHONPATH. Third-party modules the official files import but the scorers do not use (openai, anthropic,
datasets, pandas, loguru, ...) are replaced by empty stand-ins.

The thought channel is removed first, exactly as the C++ harness does (thinking.h): the official
scorers see only the final answer.
"""
import argparse
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import types


class _Stub(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Stub(f"{self.__name__}.{name}")

    def __call__(self, *a, **k):
        return _Stub("call")


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    NAMES = ("openai", "anthropic", "google", "tqdm", "datasets", "requests", "ai21", "pandas", "loguru",
             "torch", "transformers", "vllm")

    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in self.NAMES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        m = _Stub(spec.name)
        m.__path__ = []
        if spec.name == "loguru":
            m.logger = types.SimpleNamespace(warning=lambda *a, **k: None, info=lambda *a, **k: None,
                                             error=lambda *a, **k: None)
        return m

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _StubFinder())


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def split_thinking(raw):
    """Mirror of eval/include/gemma4_eval/thinking.h (ours, not official)."""
    OPEN, CLOSE = "<|channel>", "<channel|>"
    rest = raw
    fo, fc = rest.find(OPEN), rest.find(CLOSE)
    if fc != -1 and (fo == -1 or fc < fo):
        rest = rest[fc + len(CLOSE):]
    answer, closed = "", True
    while True:
        o = rest.find(OPEN)
        if o == -1:
            answer += rest
            break
        answer += rest[:o]
        body = rest[o + len(OPEN):]
        c = body.find(CLOSE)
        if c == -1:
            closed = False
            break
        rest = body[c + len(CLOSE):]
    for marker in ("<turn|>", "<eos>"):
        while answer.endswith(marker):
            answer = answer[: -len(marker)]
    return (answer if closed else ""), closed


def mmlu_pro(official, case):
    mod = sys.modules.get("mmlu_api") or load(os.path.join(official, "mmlu_api.py"), "mmlu_api")
    mod.print = lambda *a, **k: None
    text, _ = split_thinking(case["response"])
    # evaluate_from_api.py single_request(): response.replace('**', '') then extract_answer()
    pred = mod.extract_answer(text.replace("**", ""))
    out = {"extracted": pred, "correct": pred is not None and pred == case["gold"]}
    if pred is None:
        out["fallback"] = "random"  # save_res/update_result would draw random.randint here
    return out


def gpqa(official, case):
    sys.path.insert(0, official)
    import simple_evals.common as common  # noqa: E402
    text, _ = split_thinking(case["response"])
    # gpqa_eval.py: re.search(ANSWER_PATTERN_MULTICHOICE, response_text), first match
    m = re.search(common.ANSWER_PATTERN_MULTICHOICE, text)
    pred = m.group(1) if m else None
    return {"extracted": pred, "correct": pred == case["gold"]}


def encode_matharena(answer):
    """MathArena's answer as JSON, keeping the value class the C++ port must reproduce: None; an
    int (or sympy Integer) as a number, or {"big_integer": digits} beyond int64; a Python float or
    sympy Float as a number; a non-integer sympy Rational as {"rational": "p/q"}; an AnswerList
    or Python list as {"list": [...]}; anything else (symbols, irrationals, complex, zoo) as
    {"other": str(answer)}."""
    import sympy
    if answer is None:
        return None
    if isinstance(answer, bool):
        return {"other": str(answer)}
    if isinstance(answer, int) or isinstance(answer, sympy.Integer):
        v = int(answer)
        return v if -2**63 <= v < 2**63 else {"big_integer": str(v)}
    if isinstance(answer, (float, sympy.Float)):
        v = float(answer)
        return v if v == v and abs(v) != float("inf") else {"other": str(answer)}
    if isinstance(answer, sympy.Rational):
        return {"rational": f"{answer.p}/{answer.q}"}
    if hasattr(answer, "answers"):
        return {"list": [encode_matharena(x) for x in answer.answers]}
    if isinstance(answer, (list, tuple)):
        return {"list": [encode_matharena(x) for x in answer]}
    return {"other": str(answer)}


def aime(official, case):
    sys.path.insert(0, official)
    parser = sys.modules.get("matharena.parser")
    if parser is None:
        import matharena.parser as parser  # noqa: E402
    import sympy
    text, _ = split_thinking(case["response"])
    # Record whether the answer went through sympy (sympify / parse_latex): for these the parity
    # test checks the port's value class (see encode_matharena) and verdict.
    used_sympy = []
    real_sympify, real_latex = sympy.sympify, parser.latex2sympy_fixed

    def spy_sympify(*a, **k):
        used_sympy.append(1)
        return real_sympify(*a, **k)

    def spy_latex(*a, **k):
        used_sympy.append(1)
        return real_latex(*a, **k)

    sympy.sympify, parser.latex2sympy_fixed = spy_sympify, spy_latex
    try:
        # grader.extract_and_grade(): extract_answer(last_message, strict_parsing=False,
        # parse=True, list_answer=False); typed gold = parse_answer(gold); check_answers(model, gold)
        answer, _ = parser.extract_answer(text, strict_parsing=False, parse=True, list_answer=False)
    finally:
        sympy.sympify, parser.latex2sympy_fixed = real_sympify, real_latex
    gold, _ = parser.parse_answer(str(case["gold"]), list_answer=False)
    correct = bool(parser.check_answers(answer, gold))
    extracted = encode_matharena(answer)
    out = {"extracted": extracted, "correct": correct}
    if used_sympy or (answer is not None and not isinstance(answer, (int, float)) and
                      not (hasattr(answer, "is_Integer") and answer.is_Integer) and
                      not hasattr(answer, "answers")):
        out["official_path"] = "sympy"
    return out


def mmmu_pro(official, case):
    mod = sys.modules.get("mmmu_evaluate") or load(os.path.join(official, "mmmu_evaluate.py"), "mmmu_evaluate")
    import ast
    text, _ = split_thinking(case["response"])
    options = ast.literal_eval(str(case["options"])) if isinstance(case["options"], str) else case["options"]
    index2ans, all_choices = mod.get_multi_choice_info(options)
    sentinel = object()
    # parse_multi_choice_response ends in random.choice(all_choices) when nothing matched; we
    # detect that branch by making the random choice return a sentinel.
    real_choice = mod.random.choice
    mod.random.choice = lambda seq: sentinel
    try:
        pred = mod.parse_multi_choice_response(text, all_choices, index2ans)
    finally:
        mod.random.choice = real_choice
    if pred is sentinel:
        return {"extracted": None, "correct": False, "fallback": "random"}
    return {"extracted": pred, "correct": pred == case["gold"]}


SCORERS = {"mmlu_pro": mmlu_pro, "gpqa": gpqa, "aime": aime, "mmmu_pro": mmmu_pro}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", required=True)
    ap.add_argument("--cases", required=True, help="folder with <benchmark>_cases.jsonl")
    ap.add_argument("--out", required=True)
    ap.add_argument("--benchmarks", default=",".join(SCORERS), help="comma-separated subset")
    args = ap.parse_args()
    for bench, fn in SCORERS.items():
        if bench not in args.benchmarks.split(","):
            continue
        src = os.path.join(args.cases, f"{bench}_cases.jsonl")
        if not os.path.exists(src):
            continue
        rows = [json.loads(l) for l in open(src, encoding="utf-8") if l.strip()]
        with open(os.path.join(args.out, f"{bench}_parity.jsonl"), "w", encoding="utf-8") as f:
            for case in rows:
                case = dict(case)
                case["expected"] = fn(args.official, case)
                f.write(json.dumps(case, ensure_ascii=False) + "\n")
        print(bench, len(rows))
