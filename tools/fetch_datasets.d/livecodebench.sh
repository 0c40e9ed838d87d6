#!/usr/bin/env bash
# Fetch and convert LiveCodeBench code_generation_lite into DEST/livecodebench/{raw,converted}.
#   tools/fetch_datasets.d/livecodebench.sh DEST            (LCB_REVISION=<commit> to pin)
# The C++ harness then reads DEST/livecodebench/converted (see datasets/livecodebench/README.md).
set -euo pipefail
dest=${1:?usage: livecodebench.sh DEST}
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/livecodebench.py" download "$dest/livecodebench" --revision "${LCB_REVISION:-main}"
python3 "$here/livecodebench.py" convert "$dest/livecodebench/raw" "$dest/livecodebench/converted"
