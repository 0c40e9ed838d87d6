#!/usr/bin/env python3
"""LiveCodeBench (livecodebench/code_generation_lite): download and convert, offline-safe.

The official release stores most private tests as base64(zlib(pickle(json_string))). The C++
loader never unpickles; this tool decodes them once, here, with an unpickler that refuses every
global (so no object can be constructed and no code can run: only str/list/dict/number opcodes
load), a cap on the decompressed size, and a check that the result is a JSON list of tests. The
output rows are the official rows with private_test_cases replaced by that plain JSON string.

  livecodebench.py download DEST [--revision REV] [--files test6.jsonl ...]
      fetch the raw release files into DEST/raw (HTTPS from huggingface.co), with
      DEST/raw/SOURCE.json (requested and resolved revision, URL and sha256 of each file)
  livecodebench.py convert RAW_DIR OUT_DIR
      decode every *.jsonl of RAW_DIR into OUT_DIR, with OUT_DIR/SOURCE.json (row counts and
      sha256 of every raw and converted file)
  livecodebench.py --self-test SAMPLE_DIR
      convert SAMPLE_DIR/raw into a temporary folder and compare with SAMPLE_DIR/converted
"""
import argparse
import base64
import binascii
import hashlib
import io
import json
import pathlib
import pickle
import sys
import tempfile
import urllib.request
import zlib

DATASET = "livecodebench/code_generation_lite"
FILES = ["test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl", "test6.jsonl"]
MAX_DECOMPRESSED = 1 << 30  # the largest official private-test blob is well under this


class _NoGlobalsUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing persistent id")


def decode_private_tests(text, where):
    """The private_test_cases field as a plain JSON string (a list of tests)."""
    try:
        tests = json.loads(text)
    except json.JSONDecodeError:
        try:
            packed = base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as e:
            raise ValueError(f"{where}: private_test_cases is neither JSON nor base64 ({e})")
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, MAX_DECOMPRESSED)
        if inflater.unconsumed_tail:
            raise ValueError(f"{where}: private_test_cases decompresses to more than {MAX_DECOMPRESSED} bytes")
        payload = _NoGlobalsUnpickler(io.BytesIO(data)).load()
        if not isinstance(payload, str):
            raise ValueError(f"{where}: private_test_cases unpickles to {type(payload).__name__}, not str")
        text = payload
        tests = json.loads(text)
    if not isinstance(tests, list) or not all(
            isinstance(t, dict) and isinstance(t.get("input"), str) and isinstance(t.get("output"), str)
            and t.get("testtype") in ("stdin", "functional") for t in tests):
        raise ValueError(f"{where}: private_test_cases is not a list of {{input, output, testtype}}")
    return text


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def convert_file(source, target):
    count = 0
    tmp = target.with_suffix(target.suffix + ".part")
    with open(source, encoding="utf-8") as fin, open(tmp, "w", encoding="utf-8") as fout:
        for number, line in enumerate(fin, 1):
            if not line.strip():
                continue
            where = f"{source}:{number}"
            row = json.loads(line)
            if not isinstance(row, dict) or "private_test_cases" not in row:
                raise ValueError(f"{where}: not a row with private_test_cases")
            row["private_test_cases"] = decode_private_tests(row["private_test_cases"], where)
            fout.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(target)  # nothing half-written under the final name
    return count


def convert(raw_dir, out_dir):
    raw_dir, out_dir = pathlib.Path(raw_dir), pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"dataset": DATASET, "files": {}}
    source_manifest = raw_dir / "SOURCE.json"
    if source_manifest.exists():
        manifest["source"] = json.loads(source_manifest.read_text())
    for source in sorted(raw_dir.glob("*.jsonl")):
        rows = convert_file(source, out_dir / source.name)
        manifest["files"][source.name] = {"rows": rows, "raw_sha256": sha256(source),
                                          "converted_sha256": sha256(out_dir / source.name)}
        print(f"livecodebench: {source.name}: {rows} problems", file=sys.stderr)
    (out_dir / "SOURCE.json").write_text(json.dumps(manifest, indent=1) + "\n")


def download(dest, revision, files):
    raw = pathlib.Path(dest) / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    manifest = {"dataset": DATASET, "requested_revision": revision, "files": {}}
    for name in files:
        url = f"https://huggingface.co/datasets/{DATASET}/resolve/{revision}/{name}"
        part = raw / (name + ".part")
        with urllib.request.urlopen(url, timeout=600) as response, open(part, "wb") as out:
            manifest["resolved_revision"] = response.headers.get("X-Repo-Commit", revision)
            while chunk := response.read(1 << 20):
                out.write(chunk)
        part.replace(raw / name)
        manifest["files"][name] = {"url": url, "sha256": sha256(raw / name)}
        print(f"livecodebench: fetched {name}", file=sys.stderr)
    (raw / "SOURCE.json").write_text(json.dumps(manifest, indent=1) + "\n")


def self_test(sample_dir):
    sample_dir = pathlib.Path(sample_dir)
    with tempfile.TemporaryDirectory() as tmp:
        convert(sample_dir / "raw", tmp)
        for expected in sorted((sample_dir / "converted").glob("*.jsonl")):
            got = (pathlib.Path(tmp) / expected.name).read_text(encoding="utf-8")
            if got != expected.read_text(encoding="utf-8"):
                print(f"self-test: {expected.name} differs from the committed conversion", file=sys.stderr)
                return 1
    # A pickle that names a global must be refused, not executed.
    evil = base64.b64encode(zlib.compress(pickle.dumps(pathlib.Path("/")))).decode()
    try:
        decode_private_tests(evil, "self-test")
        print("self-test: a pickle with a global was accepted", file=sys.stderr)
        return 1
    except pickle.UnpicklingError:
        pass
    print("livecodebench converter self-test: ok", file=sys.stderr)
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--self-test":
        return self_test(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("download")
    d.add_argument("dest")
    d.add_argument("--revision", default="main")
    d.add_argument("--files", nargs="+", default=FILES)
    c = sub.add_parser("convert")
    c.add_argument("raw_dir")
    c.add_argument("out_dir")
    args = parser.parse_args()
    if args.command == "download":
        download(args.dest, args.revision, args.files)
    else:
        convert(args.raw_dir, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
