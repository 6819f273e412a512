#!/usr/bin/env bash
# The README's second command and what CI runs (.ci/run): install what is missing,
# check formatting, build with warnings as errors and ASan/UBSan, run every test, then
# fuzz each parser briefly (scripts/fuzz.sh; REPRISE_FUZZ_SECONDS per target).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== clang-format check"
mapfile -t sources < <(git ls-files --cached --others --exclude-standard \
  'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'fuzz/*.cc')
clang-format --dry-run -Werror "${sources[@]}"

echo "== build (Debug, -Werror, ASan+UBSan)"
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DREPRISE_WERROR=ON \
  -DREPRISE_SANITIZE=ON >/dev/null
cmake --build build/test

echo "== tests"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}
cd build/test
ctest --output-on-failure --timeout 600 -j "$(nproc)"

../../scripts/fuzz.sh
