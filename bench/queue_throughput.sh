#!/usr/bin/env bash
# Queue throughput and dispatch latency (issue 3 on SQLite, issue 13 on PostgreSQL):
# builds queue_throughput_bench in Release and runs a set of configurations, each RUNS
# times, printing the median of every figure. Public tools only: bash, awk, cmake, psql,
# scripts/pg_server.sh and the bench program (see bench/queue_throughput.cc for what it
# measures).
#
#   bench/queue_throughput.sh [JOBS=20000] [RUNS=3] [PACED_RATES="2000 4000"]
#       SQLite: 2 worker threads or processes, claim batches of 1 and 4, finish and next
#       claim in one transaction or two (--separate-finish), paced steady loads.
#   QUEUE_BENCH_BACKEND=postgres bench/queue_throughput.sh [JOBS] [RUNS] [PACED_RATES="100 200"]
#       PostgreSQL: 4 worker processes woken by LISTEN/NOTIFY (--wake; their fallback poll
#       is 1 s), on the server at REPRISE_BENCH_PG_URL or, unset, on a throwaway one
#       started (and stopped) with scripts/pg_server.sh; each run gets a fresh database.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${QUEUE_BENCH_BACKEND:-sqlite}
jobs=${1:-20000}
runs=${2:-3}
if [ "$backend" = postgres ]; then paced=${3:-100 200}; else paced=${3:-2000 4000}; fi
build=${REPRISE_BUILD_DIR:-build/release}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DREPRISE_TESTS=OFF \
  -DREPRISE_BENCH=ON >/dev/null
cmake --build "$build" --target queue_throughput_bench >/dev/null
bin=$build/bench/queue_throughput_bench

server_dir=""
cleanup() {
  rm -f "$out"
  if [ -n "$server_dir" ]; then
    scripts/pg_server.sh stop "$server_dir" >/dev/null 2>&1 || true
    rm -rf "$server_dir"
  fi
}
out=$(mktemp)
trap cleanup EXIT
pg_url=""
if [ "$backend" = postgres ]; then
  pg_url=${REPRISE_BENCH_PG_URL:-}
  if [ -z "$pg_url" ]; then
    server_dir=$(mktemp -d /tmp/reprise-bench-pg.XXXXXX)
    scripts/pg_server.sh start "$server_dir"
    pg_url=$(cat "$server_dir/url")
  fi
fi
database=""
fresh_database() {  # a fresh database per run on PostgreSQL (CREATE here, DROP after)
  database="queue_bench_$$_$((${database##*_} + 1))"
  psql -q "$pg_url" -c "CREATE DATABASE $database" >/dev/null
}
run() {  # label, then the bench's arguments
  local label=$1
  shift
  local catalog=()
  for _ in $(seq 1 "$runs"); do
    if [ "$backend" = postgres ]; then
      fresh_database
      catalog=(--catalog "${pg_url%/*}/$database")
    fi
    "$bin" --jobs "$jobs" "${catalog[@]}" "$@" | sed "s|^|config=$label |" >>"$out"
    if [ "$backend" = postgres ]; then psql -q "$pg_url" -c "DROP DATABASE $database" >/dev/null; fi
  done
}
if [ "$backend" = postgres ]; then
  workers=4
  wake=(--workers 4 --processes --wake --idle-us 1000000)
  run 4-processes/b1 "${wake[@]}" --batch 1
  run 4-processes/b1/separate "${wake[@]}" --batch 1 --separate-finish
  run 4-processes/b4 "${wake[@]}" --batch 4
  for rate in $paced; do
    run "4-processes/b1@${rate}/s" "${wake[@]}" --batch 1 --rate "$rate" --phases steady
  done
else
  workers=2
  run threads/b1 --batch 1
  run processes/b1 --processes --batch 1
  run processes/b1/separate --processes --batch 1 --separate-finish
  run threads/b4 --batch 4
  run processes/b4 --processes --batch 4
  for rate in $paced; do
    run "processes/b1@${rate}/s" --processes --batch 1 --rate "$rate" --phases steady
  done
fi

# Median of each figure per (configuration, phase).
awk -v runs="$runs" -v workers="$workers" -v backend="$backend" '
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
    printf "(%s, %s workers, %s runs each, median; enqueue = one thread, no workers)\n",
      backend, workers, runs
  }' "$out"
