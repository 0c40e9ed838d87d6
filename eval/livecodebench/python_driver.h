// The Python program that runs one candidate solution against its tests, inside the sandbox.
//
// Why Python at all: LiveCodeBench grades Python programs, and "the same outcome as the official
// grader" includes Python's own semantics -- ast.unparse of the wrapped program, the mocked stdin,
// Decimal parsing of output tokens, `prediction == expected` between arbitrary Python objects.
// So the grading loop itself runs in the candidate's interpreter, exactly as in
// lcb_runner/evaluation/testing_util.py (LiveCodeBench commit 28fef95), and C++ only launches
// it, contains it and reads its verdict. The program below is our own code; each function names
// the official one whose behaviour it reproduces, and every quirk kept on purpose is marked
// "official quirk".
//
// Protocol: `python3 -I -B driver.py BUNDLE.json`, where the bundle is
//   {"code": str, "inputs": [str], "outputs": [str], "fn_name": str|null, "timeout": int,
//    "max_processes": int, "captured_output_limit": int, "drop_to_uid": int|null}
// File descriptor 3 receives "started\n" once the interpreter runs, then one JSON verdict line:
//   {"results": [true|false|int...], "metadata": {...}}          -- run_test returned
//   {"results": null, "crash": "SystemExit(0)"}                  -- run_test raised (official: no result)
//   {"results": null, "limit": "captured_output"}                -- printed more than the limit
// A missing verdict means the process died (signal, rlimit kill); grade.h turns both that and
// "results": null into the official pipeline's output for a run without result.
#pragma once

#include <string_view>

namespace gemma4::eval::livecodebench {

inline constexpr std::string_view kPythonDriver = R"PY(
import ast, builtins, faulthandler, io, json, os, platform, signal, sys, time
from decimal import Decimal
from types import ModuleType
from unittest.mock import mock_open, patch

# Modules the official grading process has imported before reliability_guard() runs (testing_util
# and compute_code_generation_metrics import them at the top). A candidate importing them later
# gets the cached module; importing numpy for the first time after the guard would fail.
import concurrent.futures, datetime, enum, multiprocessing  # noqa: E401,F401
try:
    import numpy  # noqa: F401
except ImportError:
    pass

# compute_code_generation_metrics.py sets this at import time, so the official worker inherits it.
sys.set_int_max_str_digits(50000)

_os_write, _os_exit, _os_getpid = os.write, os._exit, os.getpid  # kept before reliability_guard
_DRIVER_PID = _os_getpid()
_VERDICT_FD = 3


def _emit(verdict):
    # Forked children of the candidate return into this code too; only the driver reports.
    if _os_getpid() != _DRIVER_PID:
        _os_exit(0)
    data = (json.dumps(verdict, default=repr) + "\n").encode("utf-8", "backslashreplace")
    while data:
        data = data[_os_write(_VERDICT_FD, data):]
    _os_exit(0)


# The prelude every candidate program is prefixed with (testing_util.import_string).
IMPORT_PRELUDE = "".join(
    [f"from {m} import *\n" for m in (
        "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
        "statistics", "itertools", "functools", "operator", "io", "sys", "json", "builtins",
        "typing")]
    + [f"import {m}\n" for m in (
        "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
        "statistics", "itertools", "functools", "operator", "io", "sys", "json")]
    + ["sys.setrecursionlimit(50000)\n"])


class TimeoutException(Exception):
    pass


def _on_alarm(signum, frame):
    print("timeout occured: alarm went off")  # official: printed into the captured stdout
    raise TimeoutException


def _truncate(value, length=300):
    text = value if isinstance(value, str) else str(value)
    if len(text) <= length:
        return text
    return text[: length // 2] + "...(truncated) ..." + text[-length // 2:]


class _CappedStringIO(io.StringIO):
    # Sandbox addition: the official grader lets captured stdout grow without bound. Past the
    # limit we stop the run and report an output-limit failure (such an output could never have
    # matched the expected one, so the pass/fail outcome is unchanged).
    limit = 0

    def write(self, text):
        written = super().write(text)
        if self.tell() > self.limit:
            _emit({"results": None, "limit": "captured_output"})
        return written


class _Capturing(list):
    # testing_util.Capturing: stdout goes to a StringIO whose close() is replaced by a
    # one-argument lambda (official quirk: sys.stdout.close() with no argument raises TypeError).
    def __enter__(self):
        self._stdout = sys.stdout
        sys.stdout = self._stringio = _CappedStringIO()
        self._stringio.close = lambda x: 1
        return self

    def __exit__(self, *args):
        self.append(self._stringio.getvalue())
        del self._stringio
        sys.stdout = self._stdout


class _MockBuffer:
    # testing_util.MockBuffer. Official quirk: readline() always returns the first line.
    def __init__(self, inputs):
        self.inputs = inputs.encode("utf-8")

    def read(self, *args):
        return self.inputs

    def readline(self, *args):
        return self.inputs.split(b"\n")[0] + b"\n"


class _MockStdin:
    # testing_util.MockStdinWithBuffer: read() returns everything every time, readlines() splits
    # on "\n" (keeping a final empty string), readline() reads through a StringIO.
    def __init__(self, inputs):
        self.inputs = inputs
        self._stringio = io.StringIO(inputs)
        self.buffer = _MockBuffer(inputs)

    def read(self, *args):
        return self.inputs

    def readline(self, *args):
        return self._stringio.readline(*args)

    def readlines(self, *args):
        return self.inputs.split("\n")

    def __getattr__(self, name):
        return getattr(self._stringio, name)


def unwrap_main_guard(code):
    # testing_util.clean_if_name: a trailing `if __name__ == '__main__':` block is replaced by
    # its body. Any failure (e.g. a syntax error) leaves the code untouched.
    try:
        tree = ast.parse(code)
        last = tree.body[-1]
        if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
            code = ast.unparse(tree.body[:-1]) + "\n" + ast.unparse(last.body)
    except:  # noqa: E722 -- the official code swallows everything here
        pass
    return code


def wrap_in_function(code):
    # testing_util.make_function: top-level imports stay at module level, every other statement
    # becomes the body of `wrapped_function()`, and the prelude goes in front. If the code does
    # not parse, it is returned unchanged (without the prelude), and fails later.
    try:
        imports, others = [], []
        for statement in ast.parse(code).body:
            (imports if isinstance(statement, (ast.Import, ast.ImportFrom)) else others).append(statement)
        function = ast.FunctionDef(
            name="wrapped_function",
            args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
            body=others, decorator_list=[], lineno=-1)
        return IMPORT_PRELUDE + "\n" + ast.unparse(imports) + "\n" + ast.unparse(function)
    except Exception:
        return code


def call_with_mocked_stdin(method, inputs):
    # testing_util.call_method. The five patches are entered in the order the official
    # decorator stack enters them (bottom first): the three sys.stdin.* patches land on the
    # stdin object of the moment, then sys.stdin itself and builtins.open are replaced.
    if isinstance(inputs, list):
        inputs = "\n".join(inputs)
    line_iterator = iter(inputs.split("\n"))
    patches = [
        patch("sys.stdin.read", lambda *args: inputs),
        patch("sys.stdin.readlines", lambda *args: inputs.split("\n")),
        patch("sys.stdin.readline", lambda *args: next(line_iterator)),
        patch("sys.stdin", _MockStdin(inputs)),
        patch("builtins.open", mock_open(read_data=inputs)),
    ]
    entered = []
    try:
        for p in patches:
            p.__enter__()
            entered.append(p)
        try:
            return method()
        except SystemExit:
            pass  # exit() inside a stdin program just ends it
    finally:
        for p in reversed(entered):
            p.__exit__(None, None, None)


def get_function(compiled, fn_name):
    try:
        assert hasattr(compiled, fn_name)
        return getattr(compiled, fn_name)
    except Exception:
        return None


def compile_code(code, timeout):
    # testing_util.compile_code: exec into a fresh module under the alarm; LeetCode-style code
    # (the text "class Solution" anywhere) is instantiated.
    signal.alarm(timeout)
    try:
        module = ModuleType("tmp_sol", "")
        exec(code, module.__dict__)
        compiled = module.Solution() if "class Solution" in code else module
        assert compiled is not None
    finally:
        signal.alarm(0)
    return compiled


def _decimal_tokens(line):
    try:
        return True, [Decimal(token) for token in line.split()]
    except:  # noqa: E722
        return False, []


def _stripped_lines(text):
    return [line.strip() for line in text.strip().split("\n")]


def _error(code, message, error, inputs, expected):
    return {"error": repr(error), "error_code": code, "error_message": message,
            "inputs": _truncate(inputs), "expected": _truncate(expected)}


def grade_call_based(code, all_inputs, all_outputs, fn_name, timeout):
    code = IMPORT_PRELUDE + "\n\n" + code
    compiled = compile_code(code, timeout)
    if compiled is None:
        return None
    method = get_function(compiled, fn_name)
    if method is None:
        return None
    all_inputs = [[json.loads(line) for line in inputs.split("\n")] for inputs in all_inputs]
    all_outputs = [json.loads(output) for output in all_outputs]
    total_time, results = 0, []
    for arguments, expected in zip(all_inputs, all_outputs):
        signal.alarm(timeout)
        faulthandler.enable()
        try:
            start = time.time()
            prediction = method(*arguments)
            total_time += time.time() - start
            signal.alarm(0)
            if isinstance(prediction, tuple):  # a tuple answers a list-valued test
                prediction = list(prediction)
            verdict = prediction == expected  # Python equality, no float tolerance
            results.append(verdict)
            if not verdict:
                return results, {"output": _truncate(prediction), "inputs": _truncate(arguments),
                                 "expected": _truncate(expected), "error_code": -2,
                                 "error_message": "Wrong Answer"}
        except Exception as e:
            signal.alarm(0)
            if "timeoutexception" in repr(e).lower():
                results.append(-3)
                return results, _error(-3, "Time Limit Exceeded", e, arguments, expected)
            results.append(-4)
            return results, _error(-4, "Runtime Error", e, arguments, expected)
        finally:
            signal.alarm(0)
            faulthandler.disable()
    return results, {"execution time": total_time}


def grade_stdio(code, all_inputs, all_outputs, timeout):
    code = wrap_in_function(unwrap_main_guard(code))
    compiled = compile_code(code, timeout)
    if compiled is None:
        return None
    method = get_function(compiled, "wrapped_function")
    if method is None:
        return None
    results, total_time = [], 0
    for test_input, expected in zip(all_inputs, all_outputs):
        signal.alarm(timeout)
        faulthandler.enable()
        signal.alarm(timeout)
        with _Capturing() as captured:
            try:
                start = time.time()
                call_with_mocked_stdin(method, test_input)
                total_time += time.time() - start
                signal.alarm(0)
            except Exception as e:
                signal.alarm(0)
                if "timeoutexception" in repr(e).lower():
                    results.append(-3)
                    return results, _error(-3, "Time Limit Exceeded", e, test_input, expected)
                results.append(-4)
                return results, _error(-4, "Runtime Error", e, test_input, expected)
            finally:
                signal.alarm(0)
                faulthandler.disable()
        prediction = captured[0]
        got, want = _stripped_lines(prediction), _stripped_lines(expected)
        wrong = {"output": _truncate(prediction), "inputs": _truncate(test_input),
                 "expected": _truncate(expected), "error_code": -2}
        if len(got) != len(want):
            results.append(-2)
            wrong["error_message"] = "Wrong answer: mismatched output length"
            return results, wrong
        for index, (got_line, want_line) in enumerate(zip(got, want)):
            wrong["error_message"] = (f"Wrong answer at output_line_idx={index!r}: "
                                      f"{_truncate(got_line)} != {_truncate(want_line)}")
            if got_line == want_line:
                continue
            # Token-wise exact decimal equality: "1.0" == "1", but "0.3333" != "0.33333".
            ok, got_numbers = _decimal_tokens(got_line)
            if not ok:
                results.append(-2)
                return results, wrong
            ok, want_numbers = _decimal_tokens(want_line)
            if not ok:
                results.append(-2)
                return results, wrong
            if got_numbers == want_numbers:
                continue
            results.append(-2)
            return results, wrong
        results.append(True)
    return results, {"execution time": total_time}


def run_test(inputs, outputs, fn_name, code, timeout):
    # testing_util.run_test after the sample is parsed: any exception while grading becomes a
    # single -4 ("Error during testing"), e.g. a syntax error or a missing function.
    grader = "call" if fn_name is not None else "stdio"
    signal.alarm(timeout)
    try:
        if grader == "call":
            results, metadata = grade_call_based(code, inputs, outputs, fn_name, timeout)
        else:
            results, metadata = grade_stdio(code, inputs, outputs, timeout)
        return results, metadata  # a None from the grader fails to unpack above: one -4
    except Exception as e:
        return [-4], {"error_code": -4, "error_message": f"Error during testing: {e}"}
    finally:
        signal.alarm(0)


def reliability_guard():
    # testing_util.reliability_guard (called, as officially, without a memory limit). Not a
    # sandbox -- the kernel-level one is around this process -- but it changes outcomes (calling
    # os.getcwd() or quit() raises), so it is reproduced exactly.
    faulthandler.disable()
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid",
                 "fork", "forkpty", "killpg", "rename", "renames", "truncate", "replace",
                 "unlink", "fchmod", "fchown", "chmod", "chown", "chroot", "lchflags", "lchmod",
                 "lchown", "getcwd", "chdir"):
        setattr(os, name, None)
    import shutil
    shutil.rmtree = shutil.move = shutil.chown = None
    import subprocess
    subprocess.Popen = None
    builtins.help = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


def _result_entry(value):
    # compute_code_generation_metrics: numpy scalars are unwrapped; keep bools and ints as JSON.
    if hasattr(value, "item") and not isinstance(value, (bool, int)):
        value = value.item(0) if hasattr(value, "shape") else value.item()
    if isinstance(value, (bool, int)):
        return value
    return bool(value)


def main():
    _os_write(_VERDICT_FD, b"started\n")  # tells the harness the sandbox itself came up
    with open(sys.argv[1], encoding="utf-8") as f:
        bundle = json.load(f)
    import resource
    if bundle.get("drop_to_uid") is not None and os.getuid() == 0:
        # Fallback sandbox modes start as root; drop privileges before any candidate code runs.
        uid = bundle["drop_to_uid"]
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    # RLIMIT_NPROC is set here rather than before bubblewrap: the kernel then counts only the
    # tasks of this sandbox's own user namespace, so concurrent sandboxes do not share a budget.
    nproc = bundle["max_processes"]
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    _CappedStringIO.limit = bundle["captured_output_limit"]
    sys.stdin = open(os.devnull)  # what a multiprocessing worker has as stdin
    signal.signal(signal.SIGALRM, _on_alarm)
    reliability_guard()
    try:
        results, metadata = run_test(bundle["inputs"], bundle["outputs"], bundle["fn_name"],
                                     bundle["code"], bundle["timeout"])
    except BaseException as e:  # noqa: B036 -- SystemExit from functional code, etc.
        _emit({"results": None, "crash": repr(e)})
    _emit({"results": [_result_entry(r) for r in results], "metadata": metadata})


main()
)PY";

}  // namespace gemma4::eval::livecodebench
