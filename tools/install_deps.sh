#!/usr/bin/env bash
# Installs the Debian packages the project builds and tests with. Idempotent; needs root (or sudo).
set -euo pipefail
packages=(
  build-essential cmake ccache pkg-config
  libhwy-dev libeigen3-dev nlohmann-json3-dev libcli11-dev doctest-dev
  libsentencepiece-dev libcpp-httplib-dev libstb-dev libsndfile1-dev
  bubblewrap python3 curl
  python3-numpy  # LiveCodeBench: candidate programs may import numpy, as in the official grader's environment
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  echo "install_deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
