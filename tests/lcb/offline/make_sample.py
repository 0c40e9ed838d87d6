# Self-written LiveCodeBench-format problems (never real LCB problems), the official row format
# with private tests encoded as the official release encodes them: base64(zlib(pickle(json))).
import base64, json, pickle, random, sys, zlib, pathlib
out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
rng = random.Random(7)

def encode(tests):
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()

def stdin_tests(pairs):
    return [{"input": i, "output": o, "testtype": "stdin"} for i, o in pairs]

def fn_tests(pairs):
    return [{"input": i, "output": o, "testtype": "functional"} for i, o in pairs]

rows = []
def row(title, qid, date, difficulty, content, public, private, starter="", metadata=None, encode_private=True,
        platform="atcoder", contest="gx001"):
    rows.append({"question_title": title, "question_content": content, "platform": platform, "question_id": qid,
                 "contest_id": contest, "contest_date": date, "starter_code": starter, "difficulty": difficulty,
                 "public_test_cases": json.dumps(public),
                 "private_test_cases": encode(private) if encode_private else json.dumps(private),
                 "metadata": json.dumps(metadata or {})})

# 1. stdin, easy: sum of N integers.
def p1(n):
    xs = [rng.randint(-10**9, 10**9) for _ in range(n)]
    return f"{n}\n{' '.join(map(str, xs))}\n", f"{sum(xs)}\n"
row("Lantern Sum", "gx001_a", "2025-02-01T00:00:00", "easy",
    "You are given N integers A_1, ..., A_N. Print their sum.\n\nInput\n\nN\nA_1 ... A_N\n\nOutput\n\nPrint the sum.\n\nConstraints\n\n1 <= N <= 10^5, |A_i| <= 10^9",
    stdin_tests([p1(3), p1(1)]), stdin_tests([p1(rng.randint(1, 50)) for _ in range(6)]))

# 2. stdin, medium: count lattice paths avoiding blocked cells, modulo 998244353.
def p2():
    h, w = rng.randint(1, 6), rng.randint(1, 6)
    g = [["#" if rng.random() < 0.2 else "." for _ in range(w)] for _ in range(h)]
    g[0][0] = "."; g[h-1][w-1] = "."
    dp = [[0]*w for _ in range(h)]
    for i in range(h):
        for j in range(w):
            if g[i][j] == "#": continue
            if i == 0 and j == 0: dp[i][j] = 1; continue
            dp[i][j] = ((dp[i-1][j] if i else 0) + (dp[i][j-1] if j else 0)) % 998244353
    return f"{h} {w}\n" + "\n".join("".join(r) for r in g) + "\n", f"{dp[h-1][w-1]}\n"
row("Garden Walks", "gx001_b", "2025-03-15T00:00:00", "medium",
    "A garden is an H x W grid; '#' cells are blocked. Count the paths from the top-left to the bottom-right cell moving only right or down, modulo 998244353.",
    stdin_tests([p2(), p2()]), stdin_tests([p2() for _ in range(5)]))

# 3. stdin, float answer: the mean of N integers, printed with 6 decimals (exact decimal compare).
def p3():
    xs = [rng.randint(0, 100) for _ in range(rng.randint(1, 8))]
    return f"{len(xs)}\n{' '.join(map(str, xs))}\n", f"{sum(xs)/len(xs):.6f}\n"
row("Mean Lanterns", "gx002_a", "2025-04-20T00:00:00", "easy",
    "Print the mean of N integers with exactly 6 digits after the decimal point.",
    stdin_tests([p3()]), stdin_tests([p3() for _ in range(4)]), encode_private=False, contest="gx002")

# 4. functional (LeetCode style): number of maximal vowel runs in a string.
def runs(s):
    count, inside = 0, False
    for ch in s:
        v = ch in "aeiou"
        if v and not inside: count += 1
        inside = v
    return count
def p4():
    s = "".join(rng.choice("abeiouxyz") for _ in range(rng.randint(0, 12)))
    return json.dumps(s), json.dumps(runs(s))
row("Count Vowel Runs", "count-vowel-runs", "2025-01-11T00:00:00", "easy",
    "Given a string s of lowercase letters, return the number of maximal runs of consecutive vowels.",
    fn_tests([p4(), p4()]), fn_tests([p4() for _ in range(6)]),
    starter="class Solution:\n    def countVowelRuns(self, s: str) -> int:\n        ",
    metadata={"func_name": "countVowelRuns"}, platform="leetcode", contest="weekly-gx-1")

# 5. functional, two arguments, list result: pairwise sums with an offset.
def p5():
    nums = [rng.randint(-50, 50) for _ in range(rng.randint(1, 6))]
    k = rng.randint(-5, 5)
    return json.dumps(nums) + "\n" + json.dumps(k), json.dumps([a + b + k for a, b in zip(nums, nums[1:])])
row("Neighbour Sums", "neighbour-sums", "2025-02-22T00:00:00", "medium",
    "Given an integer array nums and an integer k, return the array of nums[i] + nums[i+1] + k.",
    fn_tests([p5(), p5()]), fn_tests([p5() for _ in range(5)]),
    starter="class Solution:\n    def neighbourSums(self, nums: List[int], k: int) -> List[int]:\n        ",
    metadata={"func_name": "neighbourSums"}, platform="leetcode", contest="weekly-gx-1")

with open(out / "test6.jsonl", "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows), "problems")
