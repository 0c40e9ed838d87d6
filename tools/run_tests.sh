#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. a Release build with warnings as errors, and every test not labelled `long`;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build, and every test labelled neither
#      `long` nor `nosan` (real-width model cases are too slow under ASan).
# Long checks: ctest --test-dir build -L long
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGEMMA4_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" -LE long

# -g1: line tables, all a sanitizer report needs for file:line; full -g costs a third more compile
# time and doubles the objects.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGEMMA4_WERROR=ON -DGEMMA4_SANITIZE=ON \
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" >/dev/null
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE "long|nosan"
