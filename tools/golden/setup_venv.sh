#!/usr/bin/env bash
# Create the golden-generator virtual environment `.venv` at the repository root from PyPI,
# with the exact versions in tools/golden/requirements.txt. Needs network once; afterwards
# tools/golden/generate.py and selftest.py run fully offline (they set HF_HUB_OFFLINE=1).
#
#   tools/golden/setup_venv.sh            # create .venv (refuses to touch an existing one)
#   tools/golden/setup_venv.sh --force    # delete and recreate .venv
#   PYTHON=python3.11 tools/golden/setup_venv.sh
#
# The C++ build and tests never need this environment.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$repo/.venv"
python="${PYTHON:-python3}"

if [[ -e "$venv" || -L "$venv" ]]; then
  if [[ "${1:-}" != "--force" ]]; then
    echo "setup_venv.sh: $venv already exists (use --force to recreate it)" >&2
    exit 1
  fi
  rm -rf "$venv"
fi

"$python" - <<'PY'
import sys
if sys.version_info[:2] != (3, 11):
    print(f"setup_venv.sh: warning: the bundle was generated with Python 3.11, this is {sys.version.split()[0]}",
          file=sys.stderr)
PY
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --upgrade pip
"$venv/bin/python" -m pip install -r "$repo/tools/golden/requirements.txt"
"$venv/bin/python" -c "import torch, transformers; print('golden venv ready: torch', torch.__version__, 'transformers', transformers.__version__)"
