#!/usr/bin/env bash
# Fetch and convert LiveCodeBench code_generation_lite (needs internet and python3):
#   tools/fetch_datasets.d/livecodebench.sh [DEST]      default DEST: datasets/livecodebench/data
#   LCB_REVISION=<commit> pins the Hugging Face revision (default below: the newest commit evidenced
#   to hold test6.jsonl, see datasets/livecodebench/README.md; LCB_REVISION=main follows the branch).
#   The served commit is recorded either way.
# DEST/raw/ holds the official files untouched; DEST/test*.jsonl are the converted files the C++
# harness reads (`gemma4-eval run --benchmark livecodebench --data DEST`); SOURCE.json in both
# records revisions and sha256s. See datasets/livecodebench/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/../../datasets/livecodebench/data}
python3 "$here/livecodebench.py" download "$dest" --revision "${LCB_REVISION:-fd01d39fef386440b71bddf621cf0eb2df2b16d0}"
python3 "$here/livecodebench.py" convert "$dest/raw" "$dest"
