#!/usr/bin/env bash
# Fetches the official tau2-bench data (airline, retail, telecom) at the pinned revision into
# datasets/tau2/data/, the layout eval/tau2 reads:
#
#   datasets/tau2/data/tau2/domains/<domain>/...   (as in the tau2-bench repository)
#   datasets/tau2/data/tau2/user_simulator/*.md
#   datasets/tau2/data/SOURCE.json                 (revision, URLs, SHA-256 of every file)
#
# Telecom's TOML databases are also converted to JSON (db.json, user_db.json) with Python's
# tomllib, writing dates as Python's str() would (what tau2 hashes and shows to the model), so
# the C++ side needs no TOML parser. Needs curl and python3 (>= 3.11). Nothing is committed: the
# data is MIT-licensed but large, and the harness reads it from here.
#
#   tools/fetch_datasets.d/tau2.sh            # fetch + convert
#   tools/fetch_datasets.d/tau2.sh --verify   # re-hash against SOURCE.json
set -euo pipefail

REVISION="a2c024725189473d2d7cea3a5cfdbcc67478e41f"   # tau2-bench v1.0.1 line, 2026-08-18
BASE="${TAU2_BASE_URL:-https://raw.githubusercontent.com/sierra-research/tau2-bench/${REVISION}/data/tau2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${TAU2_OUT:-${ROOT}/datasets/tau2/data}"   # both overridable for mirrors and tests

FILES=(
  domains/airline/db.json domains/airline/policy.md domains/airline/tasks.json domains/airline/split_tasks.json
  domains/retail/db.json domains/retail/policy.md domains/retail/tasks.json domains/retail/split_tasks.json
  domains/telecom/db.toml domains/telecom/user_db.toml domains/telecom/main_policy.md
  domains/telecom/tech_support_manual.md domains/telecom/tech_support_workflow.md
  domains/telecom/tasks.json domains/telecom/split_tasks.json
  user_simulator/simulation_guidelines.md user_simulator/simulation_guidelines_tools.md
)

if [[ "${1:-}" == "--verify" ]]; then
  python3 - "$OUT" <<'PY'
import hashlib, json, os, sys
out = sys.argv[1]
src = json.load(open(os.path.join(out, "SOURCE.json")))
bad = 0
for rel, want in src["files"].items():
    got = hashlib.sha256(open(os.path.join(out, rel), "rb").read()).hexdigest()
    if got != want:
        print(f"MISMATCH {rel}"); bad += 1
print(f"tau2: {len(src['files'])} files checked, {bad} mismatches")
sys.exit(1 if bad else 0)
PY
  exit $?
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for f in "${FILES[@]}"; do
  mkdir -p "$tmp/tau2/$(dirname "$f")"
  echo "fetching $f"
  curl -fsSL --retry 3 -o "$tmp/tau2/$f" "$BASE/$f"
done

python3 - "$tmp" "$REVISION" "$BASE" <<'PY'
import datetime, hashlib, json, os, sys, tomllib
tmp, revision, base = sys.argv[1:4]
tel = os.path.join(tmp, "tau2", "domains", "telecom")

def plain(v):
    # str() of TOML dates/datetimes, as json.dumps(..., default=str) prints them in tau2.
    if isinstance(v, (datetime.date, datetime.datetime, datetime.time)):
        return str(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v

for name in ("db", "user_db"):
    with open(os.path.join(tel, f"{name}.toml"), "rb") as f:
        data = plain(tomllib.load(f))
    with open(os.path.join(tel, f"{name}.json"), "w") as f:
        json.dump(data, f, indent=1)

files = {}
for dirpath, _, names in os.walk(tmp):
    for n in sorted(names):
        p = os.path.join(dirpath, n)
        files[os.path.relpath(p, tmp)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
source = {"repository": "https://github.com/sierra-research/tau2-bench", "revision": revision, "base_url": base,
          "license": "MIT", "fetched_at": datetime.datetime.now(datetime.timezone.utc).isoformat(), "files": files}
with open(os.path.join(tmp, "SOURCE.json"), "w") as f:
    json.dump(source, f, indent=2, sort_keys=True)
    f.write("\n")
for dom in ("airline", "retail", "telecom"):
    tasks = json.load(open(os.path.join(tmp, "tau2", "domains", dom, "tasks.json")))
    splits = json.load(open(os.path.join(tmp, "tau2", "domains", dom, "split_tasks.json")))
    print(f"{dom}: {len(tasks)} tasks, base split {len(splits.get('base', []))}")
PY

rm -rf "$OUT.new"
mkdir -p "$(dirname "$OUT")"
cp -r "$tmp" "$OUT.new"
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
echo "tau2 data in $OUT (revision $REVISION)"
