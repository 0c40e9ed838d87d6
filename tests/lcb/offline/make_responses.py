# Offline: official verdicts for our own responses to our own sample problems.
import json, os, sys
sys.path.insert(0, os.environ["LCB_OFFICIAL"])  # a LiveCodeBench checkout at 28fef95
import numpy as np, types
sys.modules["datasets"] = types.SimpleNamespace(load_dataset=None)  # only the row class is used
from lcb_runner.benchmarks.code_generation import CodeGenerationProblem
from lcb_runner.utils.extraction_utils import extract_code
from lcb_runner.lm_styles import LMStyle
from lcb_runner.evaluation.compute_code_generation_metrics import evaluate_generations_by_problem

rows = [json.loads(l) for l in open(sys.argv[1])]
problems = {r["question_id"]: CodeGenerationProblem(**r) for r in rows}
F = "```"
def block(code, lang="python"): return f"{F}{lang}\n{code}\n{F}"
responses = [
    ("gx001_a", "Read and add.\n" + block("n = int(input())\nprint(sum(map(int, input().split())))")),
    ("gx001_a", "Off by one:\n" + block("n = int(input())\nprint(sum(map(int, input().split())) + 1)")),
    ("gx001_a", "I am not sure how to solve this."),
    ("gx001_a", "First try:\n" + block("print(0)") + "\nFinal:\n" + block("import sys\nd = sys.stdin.read().split()\nprint(sum(map(int, d[1:])))")),
    ("gx001_b", block("def main():\n    h, w = map(int, input().split())\n    g = [input() for _ in range(h)]\n    M = 998244353\n    dp = [[0] * w for _ in range(h)]\n    for i in range(h):\n        for j in range(w):\n            if g[i][j] == '#':\n                continue\n            if i == 0 and j == 0:\n                dp[i][j] = 1\n                continue\n            dp[i][j] = ((dp[i-1][j] if i else 0) + (dp[i][j-1] if j else 0)) % M\n    print(dp[h-1][w-1])\n\nif __name__ == '__main__':\n    main()")),
    ("gx001_b", block("h, w = map(int, input().split())\ng = [input() for _ in range(h)]\nprint(g[h][w])")),
    ("gx002_a", block("n = int(input())\na = list(map(int, input().split()))\nprint(f'{sum(a) / n:.6f}')")),
    ("gx002_a", block("n = int(input())\na = list(map(int, input().split()))\nprint(round(sum(a) / n, 2))")),
    ("count-vowel-runs", block("class Solution:\n    def countVowelRuns(self, s: str) -> int:\n        runs, inside = 0, False\n        for ch in s:\n            v = ch in 'aeiou'\n            if v and not inside:\n                runs += 1\n            inside = v\n        return runs")),
    ("count-vowel-runs", block("class Solution:\n    def countVowelRuns(self, s: str) -> int:\n        return sum(ch in 'aeiou' for ch in s)")),
    ("neighbour-sums", block("class Solution:\n    def neighbourSums(self, nums: List[int], k: int) -> List[int]:\n        return tuple(a + b + k for a, b in zip(nums, nums[1:]))")),
    ("neighbour-sums", block("class Solution:\n    def neighbourSums(self, nums, k):\n        return [a + b for a, b in zip(nums, nums[1:])]")),
    ("neighbour-sums", block("class Solution:\n    def neighbourSums(self, nums, k):\n        return nums[len(nums)]")),
]
def status(results):
    for e in results:
        if e is True or (not isinstance(e, bool) and e > 0): continue
        if e is False or e == -2: return "wrong_answer"
        return {-3: "time_limit", -4: "runtime_error"}.get(e, "runtime_error")
    return "passed"
out = []
for qid, response in responses:
    code = extract_code(response, LMStyle.OpenAIChat)
    res, meta = evaluate_generations_by_problem(([code], problems[qid].get_evaluation_sample(), False, 6))
    results = [bool(e) if isinstance(e, (np.bool_,)) else e for e in res[0]]
    passed = bool(np.all(np.array(results) > 0))
    out.append({"question_id": qid, "response": response, "official_results": results, "expect_correct": passed,
                "expect_status": status(results), "expect_no_code": sum(F in l for l in response.split("\n")) < 2})
    print(qid, results, passed, file=sys.stderr)
json.dump({"source": "official extract_code + evaluate_generations_by_problem (LiveCodeBench 28fef95) on our own "
           "responses to datasets/livecodebench/sample; rows loaded with the official CodeGenerationProblem",
           "responses": out}, open(sys.argv[2], "w"), indent=1, ensure_ascii=False)
