# Offline: official outcomes (check_correctness, LiveCodeBench 28fef95) for our own programs.
import json, os, sys
sys.path.insert(0, os.environ["LCB_OFFICIAL"])  # a LiveCodeBench checkout at 28fef95
import numpy as np
from lcb_runner.evaluation.compute_code_generation_metrics import evaluate_generations_by_problem

cases = []
def add(name, code, tests, fn_name=None, timeout=6):
    cases.append({"name": name, "code": code,
                  "tests": [{"input": i, "output": o, "testtype": "functional" if fn_name else "stdin"} for i, o in tests],
                  "fn_name": fn_name, "timeout": timeout})

# A. stdin/stdout comparison rules: the program prints exactly `printed`.
compare = [
    ("1\n", "1"), ("1.0\n", "1"), ("1.00", "1.0"), ("0.3333", "0.33333"), ("1e3", "1000"), ("1E+3", "1000"),
    ("-0", "0"), ("+5", "5"), ("  5  \n\n", "5"), ("5\n\n6", "5\n6"), ("a b", "a  b"), ("1 2", "1  2"),
    ("1\t2", "1 2"), ("YES", "yes"), ("nan", "nan"), ("nan", "NaN"), ("inf", "Infinity"), ("1_000", "1000"),
    ("0x10", "16"), ("1\r\n2\r\n", "1\n2"), ("", ""), ("\n", ""), ("", "0"), ("3 ", "3"), ("1 2 3", "1 2"),
    ("\uff11\uff12", "12"), ("1.5e-1", "0.15"), ("sNaN", "1"), ("\u00a05\u00a0", "5"), ("5\x0c", "5"),
    ("1\n2", "1 2"), ("True", "1"), ("-0.0", "0"), ("00012", "12"), ("1.", "1"), (".5", "0.5"),
    ("1,000", "1000"), ("\u0663", "3"), ("1 a", "1 a"), ("1 a", "1.0 a"), ("2.50 7", "2.5 7.0"),
    ("1e400", "1E+400"), ("123456789012345678901", "123456789012345678900"), ("0.1", "1e-1"),
    ("-inf", "-Infinity"), ("Yes\nNo", "Yes\nNo\n"), ("x\n\ny", "x\ny"), ("1 2\n", "1 2\n\n\n"),
    ("\u20035", "5"), ("5\u2028", "5"), ("1\x1c2", "1 2"),
]
for k, (printed, expected) in enumerate(compare):
    add(f"compare {k}: {printed!r} vs {expected!r}", f"import sys\nsys.stdout.write({printed!r})\n", [("", expected)])

# B. functional equality: the method returns `value`, the test expects `expected` (JSON).
functional = [
    ("1", "1"), ("1.0", "1"), ("True", "1"), ("(1, 2)", "[1, 2]"), ("[1, 2]", "[1,2]"),
    ("[[1, 2], (3, 4)]", "[[1, 2], [3, 4]]"), ("'abc'", "\"abc\""), ("None", "null"), ("{'a': 1}", "{\"a\": 1}"),
    ("0.1 + 0.2", "0.3"), ("[1.0, 2.0]", "[1, 2]"), ("'1'", "1"), ("2 ** 70", "1180591620717411303424"),
    ("False", "false"), ("0", "false"), ("[]", "[]"), ("()", "[]"), ("{1: 2}", "{\"1\": 2}"), ("'é'", "\"\\u00e9\""),
    ("(x for x in [1])", "[1]"), ("-0.0", "0"), ("float('nan')", "NaN"), ("1e308 * 10", "Infinity"),
]
for k, (value, expected) in enumerate(functional):
    add(f"functional {k}: {value} vs {expected}",
        f"class Solution:\n    def answer(self, x):\n        return {value}\n", [("0", expected)], fn_name="answer")

# C. behaviours of the official runner.
two = [("3\n4\n", "7"), ("10\n20\n", "30")]
add("input() twice", "a = int(input())\nb = int(input())\nprint(a + b)\n", two)
add("sys.stdin.read().split()", "import sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b)\n", two)
add("sys.stdin.readline", "import sys\na = int(sys.stdin.readline())\nb = int(sys.stdin.readline())\nprint(a + b)\n", two)
add("iterate over sys.stdin", "import sys\nprint(sum(int(l) for l in sys.stdin if l.strip()))\n", two)
add("open(0).read()", "print(sum(map(int, open(0).read().split())))\n", two)
add("sys.stdin.buffer.read()", "import sys\nprint(sum(map(int, sys.stdin.buffer.read().split())))\n", two)
add("sys.stdin.buffer.readline twice", "import sys\na = int(sys.stdin.buffer.readline())\nb = int(sys.stdin.buffer.readline())\nprint(a + b)\n", two)
add("sys.stdin.readlines()", "import sys\nls = sys.stdin.readlines()\nprint(len(ls))\n", [("3\n4\n", "3"), ("3\n4", "2")])
add("input past EOF", "a = input()\nb = input()\nc = input()\nprint(a)\n", [("1\n2", "1")])
add("exit() after printing", "print(7)\nexit()\nprint(8)\n", [("", "7")])
add("sys.exit(3) after printing", "import sys\nprint(7)\nsys.exit(3)\n", [("", "7")])
add("quit() is disabled", "print(7)\nquit()\n", [("", "7")])
add("os.getcwd() is disabled", "import os\nprint(os.getcwd())\n", [("", "/")])
add("main guard, single quotes", "def main():\n    print(int(input()) * 2)\n\nif __name__ == '__main__':\n    main()\n", [("4\n", "8")])
add("main guard, double quotes and comment", "def main():\n    print(int(input()) * 2)\n# run\nif __name__ == \"__main__\":\n    main()  # go\n", [("4\n", "8")])
add("main guard not last", "def main():\n    print(1)\nif __name__ == '__main__':\n    main()\nx = 1\n", [("", "1")])
add("syntax error", "print(1\n", [("", "1"), ("", "1")])
add("exception in second test", "n = int(input())\nprint(10 // n)\n", [("2\n", "5"), ("0\n", "0")])
add("prelude: gcd without import", "print(gcd(12, 18))\n", [("", "6")])
add("prelude: Counter, heapq, accumulate", "c = Counter('aab')\nh = [3, 1]\nheapify(h)\nprint(c['a'], heappop(h), list(accumulate([1, 2, 3])))\n", [("", "2 1 [1, 3, 6]")])
add("deep recursion", "def d(n):\n    return 0 if n == 0 else 1 + d(n - 1)\nprint(d(20000))\n", [("", "20000")])
add("second test wrong", "print(int(input()) * 2)\n", [("1\n", "2"), ("2\n", "5"), ("3\n", "6")])
add("wrong line count", "print(1)\nprint(2)\n", [("", "1")])
add("infinite loop, 1 s timeout", "while True:\n    pass\n", [("", "1"), ("", "1")], timeout=1)
add("sys.stdout.close()", "import sys\nprint(1)\nsys.stdout.close()\n", [("", "1")])
add("stderr is ignored", "import sys\nprint('noise', file=sys.stderr)\nprint(5)\n", [("", "5")])
add("global in nested function", "x = 0\ndef f():\n    global x\n    x += 1\nf()\nprint(x)\n", [("", "1")])
add("class Solution in a stdin program", "class Solution:\n    pass\nprint(1)\n", [("", "1")])
add("top-level return", "print(1)\nreturn\n", [("", "1")])
add("import resource is blocked", "import resource\nprint(1)\n", [("", "1")])
add("print without newline", "print(3, end='')\n", [("", "3")])
add("print(*map)", "print(*map(int, input().split()))\n", [("1 2 3\n", "1 2 3")])
add("empty program", "", [("", "")])
add("only imports", "import math\n", [("", "")])
add("timeout message is not the output", "import sys\nwhile True:\n    pass\n", [("", "timeout occured: alarm went off")], timeout=1)
add("state does not persist between stdin tests", "try:\n    seen\nexcept NameError:\n    seen = 0\nseen += 1\nprint(seen)\n", [("", "1"), ("", "1")])
add("input().split with trailing spaces", "a, b = input().split()\nprint(int(a) - int(b))\n", [("9  4   \n", "5")])
add("KeyboardInterrupt raised", "raise KeyboardInterrupt\n", [("", "1")])
add("SystemExit from a nested function", "def f():\n    print(2)\n    raise SystemExit\nf()\nprint(3)\n", [("", "2")])

fn = "answer"
add("functional: two arguments", "class Solution:\n    def answer(self, nums, k):\n        return [x * k for x in nums]\n", [("[1, 2]\n3", "[3, 6]"), ("[]\n5", "[]")], fn_name=fn)
add("functional: module-level function", "def answer(a, b):\n    return a + b\n", [("1\n2", "3")], fn_name=fn)
add("functional: missing method", "class Solution:\n    def other(self):\n        return 1\n", [("1", "1")], fn_name=fn)
add("functional: exit()", "class Solution:\n    def answer(self, x):\n        exit()\n", [("1", "1"), ("2", "2")], fn_name=fn)
add("functional: exception in second test", "class Solution:\n    def answer(self, x):\n        return 10 // x\n", [("2", "5"), ("0", "0")], fn_name=fn)
add("functional: infinite loop at import", "while True:\n    pass\nclass Solution:\n    pass\n", [("1", "1")], fn_name=fn, timeout=1)
add("functional: infinite loop in call", "class Solution:\n    def answer(self, x):\n        while True:\n            pass\n", [("1", "1")], fn_name=fn, timeout=1)
add("functional: printing is ignored", "class Solution:\n    def answer(self, x):\n        print('debug')\n        return x\n", [("4", "4")], fn_name=fn)
add("functional: one Solution instance for all tests", "class Solution:\n    calls = 0\n    def answer(self, x):\n        self.calls += 1\n        return self.calls\n", [("0", "1"), ("0", "2")], fn_name=fn)
add("functional: prelude List annotation", "class Solution:\n    def answer(self, xs: List[int]) -> int:\n        return sum(xs)\n", [("[1, 2, 3]", "6")], fn_name=fn)
add("functional: wrong argument count", "class Solution:\n    def answer(self, x):\n        return x\n", [("1\n2", "1")], fn_name=fn)
add("functional: string argument", "class Solution:\n    def answer(self, s):\n        return s[::-1]\n", [("\"abc\"", "\"cba\"")], fn_name=fn)
add("functional: syntax error", "class Solution:\n    def answer(self, x)\n        return x\n", [("1", "1")], fn_name=fn)
add("functional: exception in __init__", "class Solution:\n    def __init__(self):\n        raise ValueError('no')\n    def answer(self, x):\n        return x\n", [("1", "1")], fn_name=fn)
add("functional: SystemExit at import", "import sys\nsys.exit(0)\n", [("1", "1"), ("1", "1")], fn_name=fn)
add("functional: int vs bool", "class Solution:\n    def answer(self, x):\n        return x > 0\n", [("1", "true"), ("0", "0")], fn_name=fn)

# numpy is imported by the official grader before its guard; these need python3-numpy here.
add("numpy: sum", "import numpy as np\nprint(int(np.array(list(map(int, input().split()))).sum()))\n", [("1 2 3\n", "6")])
cases[-1]["needs"] = "numpy"
add("functional: numpy int result", "import numpy as np\nclass Solution:\n    def answer(self, x):\n        return np.int64(x) * 2\n", [("3", "6")], fn_name=fn)
cases[-1]["needs"] = "numpy"
add("functional: numpy array result", "import numpy as np\nclass Solution:\n    def answer(self, xs):\n        return np.array(xs)\n", [("[1, 2]", "[1, 2]")], fn_name=fn)
cases[-1]["needs"] = "numpy"

def fix(results):
    out = []
    for e in results:
        if isinstance(e, np.ndarray): e = e.item(0)
        if isinstance(e, np.bool_): e = bool(e)
        if isinstance(e, np.integer): e = int(e)
        out.append(e)
    return out

for c in cases:
    sample = {"input_output": json.dumps({"inputs": [t["input"] for t in c["tests"]],
                                          "outputs": [t["output"] for t in c["tests"]], "fn_name": c["fn_name"]})}
    res, meta = evaluate_generations_by_problem(([c["code"]], sample, False, c["timeout"]))
    c["official_results"] = fix(list(res[0]))
    c["official_error_code"] = meta[0].get("error_code")
    c["official_passed"] = bool(np.all(np.array(c["official_results"]) > 0))
    print(c["name"][:60].ljust(60), c["official_results"], file=sys.stderr)
json.dump({"source": "lcb_runner/evaluation/compute_code_generation_metrics.py evaluate_generations_by_problem -> check_correctness (testing_util "
           "run_test inside), LiveCodeBench commit 28fef95, Python " + sys.version.split()[0] +
           "; programs and tests are our own", "cases": cases}, open(sys.argv[1], "w"), indent=1, ensure_ascii=False)
print(len(cases), "execution cases")
