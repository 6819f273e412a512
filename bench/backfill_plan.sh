#!/usr/bin/env bash
# Backfill planning over a synthetic library on the SQLite catalog: builds
# backfill_plan_bench in Release and runs every phase RUNS times, each in a fresh process
# (see bench/backfill_plan.cc for the library and what each phase measures). Prints one
# line per run and a table of medians against the targets. Public tools only: bash, cmake,
# the bench program.
#
#   bench/backfill_plan.sh [ASSETS=1000000] [RUNS=3] [DIR]
#
# DIR keeps the catalog (about 1.5 GB for a million assets) so later runs skip the
# filling; without it a temporary directory is used and removed.
set -euo pipefail
cd "$(dirname "$0")/.."
assets=${1:-1000000}
runs=${2:-3}
dir=${3:-}
build=${REPRISE_BUILD_DIR:-build/release}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DREPRISE_TESTS=OFF \
  -DREPRISE_BENCH=ON >/dev/null
cmake --build "$build" --target backfill_plan_bench >/dev/null

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
args=(--assets "$assets" --runs "$runs")
if [[ -n $dir ]]; then args+=(--dir "$dir"); fi
"$build/bench/backfill_plan_bench" "${args[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
