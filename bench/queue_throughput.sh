#!/usr/bin/env bash
# Queue throughput and dispatch latency on the SQLite catalog (issue 3): builds
# queue_throughput_bench in Release, runs it for worker threads and worker processes,
# claim batches of 1 (what the worker does) and 4, finish and next claim in one
# transaction (the worker's way) or two (--separate-finish), and a paced steady load; each
# configuration RUNS times, printing the median of every figure. Public tools only: bash,
# awk, cmake, the bench program (see bench/queue_throughput.cc for what it measures).
#
#   bench/queue_throughput.sh [JOBS=20000] [RUNS=3] [PACED_RATES="2000 4000"]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-20000}
runs=${2:-3}
paced=${3:-2000 4000}
build=${REPRISE_BUILD_DIR:-build/release}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DREPRISE_TESTS=OFF \
  -DREPRISE_BENCH=ON >/dev/null
cmake --build "$build" --target queue_throughput_bench >/dev/null
bin=$build/bench/queue_throughput_bench

out=$(mktemp)
trap 'rm -f "$out"' EXIT
run() {  # label, then the bench's arguments
  local label=$1
  shift
  for _ in $(seq 1 "$runs"); do
    "$bin" --jobs "$jobs" "$@" | sed "s|^|config=$label |" >>"$out"
  done
}
run threads/b1 --batch 1
run processes/b1 --processes --batch 1
run processes/b1/separate --processes --batch 1 --separate-finish
run threads/b4 --batch 4
run processes/b4 --processes --batch 4
for rate in $paced; do
  run "processes/b1@${rate}/s" --processes --batch 1 --rate "$rate" --phases steady
done

# Median of each figure per (configuration, phase).
awk -v runs="$runs" '
  function field(name,   i, kv) {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
    return "-"
  }
  function median(key, name,   n, i, j, t, v) {
    n = split(values[key, name], v, " ")
    if (n == 0 || v[1] == "-") return "-"
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
      t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
    }
    return v[int((n + 1) / 2)]
  }
  {
    key = field("config") " " field("phase")
    if (!(key in seen)) { seen[key] = 1; order[++count] = key }
    split("jobs_per_s p50_us p99_us max_us errors", names, " ")
    for (i in names) values[key, names[i]] = values[key, names[i]] " " field(names[i])
  }
  function ms(us) { return us == "-" ? "-" : sprintf("%.1f", us / 1000) }
  END {
    printf "%-26s %-8s %8s %9s %9s %9s %6s\n", "workers/claim batch", "phase", "jobs/s",
      "p50 ms", "p99 ms", "max ms", "errors"
    for (k = 1; k <= count; k++) {
      split(order[k], parts, " ")
      printf "%-26s %-8s %8s %9s %9s %9s %6s\n", parts[1], parts[2],
        median(order[k], "jobs_per_s"), ms(median(order[k], "p50_us")),
        ms(median(order[k], "p99_us")), ms(median(order[k], "max_us")),
        median(order[k], "errors")
    }
    printf "(2 workers, %s runs each, median; enqueue = one thread, no workers)\n", runs
  }' "$out"
