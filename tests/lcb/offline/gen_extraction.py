# Offline: expected values of the official extractor on our own tricky responses.
import json, os, random, sys
sys.path.insert(0, os.environ["LCB_OFFICIAL"])  # a LiveCodeBench checkout at 28fef95
from lcb_runner.utils.extraction_utils import extract_code
from lcb_runner.lm_styles import LMStyle

F = "```"
hand = [
    "", "no code at all", F, F + "python", F + "\n" + F, F + "python\n" + F,
    "Here:\n" + F + "python\nprint(1)\n" + F,
    "Here:\n" + F + "python\nprint(1)\n" + F + "\nDone.",
    F + "python\nfirst()\n" + F + "\ntext\n" + F + "python\nsecond()\n" + F,
    F + "python\nfirst()\n" + F + "\ntext\n" + F + "\nexample\n",  # odd: last two fences
    "Solution first:\n" + F + "python\nsolve()\n" + F + "\nExample run:\n" + F + "\n$ python a.py\n3\n" + F,
    F + "python\r\nx = 1\r\n" + F + "\r\n",
    "   " + F + "python\n    indented()\n   " + F,
    F + "python\ns = \"" + F + "\"\nprint(s)\n" + F,
    "````python\ncode()\n````",
    "~~~python\ncode()\n~~~",
    F + "python print(1) " + F,
    F + "python\n\n\n" + F,
    F + "python\nprint('é ü 中文 😀')\n" + F,
    "text " + F + "inline" + F + " more\nline2\nend " + F + " x",
    F + "python\na\n" + F + F + "\nb\n" + F,
    "\n\n" + F + "py\nx=1\n" + F + "\n\n",
    F + "python\nx=1",  # unterminated block
    "<|channel>thought\nthink " + F + "\n<channel|>" + F + "python\nans()\n" + F,
    F + "Python\nX=1\n" + F,
    F + "\nno language\n" + F,
    "a\n" + F + "python\nb\n" + F + "\nc\n" + F + "python\nd\n" + F + "\ne\n" + F + "python\nf\n" + F,
    F + "python\nline with trailing spaces   \n\ttabbed\n" + F,
    F + "python\r\nwindows\r\n" + F,
    "```python\nprint(1)\n```\n```",
    "``\ncode\n``",
    "` ` `\ncode\n` ` `",
    F * 3 + "\nx\n" + F,
    F + "\n" + F + "\n" + F,
    "prefix" + F + "\nbody\n" + F + "suffix",
    F + "python\n# comment ```\nx = 2\n" + F,
    "\r\n" + F + "\r\ncode\r\n" + F + "\r\n",
    F + "python\nclass Solution:\n    def f(self):\n        return 1\n" + F + "\n\nThis runs in O(1).",
]
rng = random.Random(20261129)
pieces = ["text", "", "   ", F, F + "python", F + "py", " " + F, F + " ", "code = 1", "print(x)",
          "\t" + F, "``", "x = '" + F + "'", "# done", "a\rb", "ünïcode"]
generated = []
for _ in range(110):
    n = rng.randint(1, 9)
    lines = [rng.choice(pieces) for _ in range(n)]
    generated.append(rng.choice(["\n", "\n", "\r\n"]).join(lines) + rng.choice(["", "\n", "\n\n"]))
cases = []
for r in hand + generated:
    fence_lines = sum(1 for line in r.split("\n") if F in line)
    cases.append({"response": r, "expected": extract_code(r, LMStyle.OpenAIChat), "fence_lines": fence_lines})
json.dump({"source": "lcb_runner/utils/extraction_utils.py extract_code(response, LMStyle.OpenAIChat), "
           "LiveCodeBench commit 28fef95; inputs are our own", "cases": cases},
          open(sys.argv[1], "w"), indent=1, ensure_ascii=False)
print(len(cases), "extraction cases")
