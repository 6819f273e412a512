#!/usr/bin/env bash
# What the PostgreSQL server itself allows a busy worker's FinishJobAndClaim on this
# machine, without reprise: pgbench (4 clients, 2 threads, as the 4 worker processes of
# bench/queue_throughput.sh) replays the statements the catalog sends for one job, on a
# database migrated by reprise and filled with queued no-op jobs. jobs/s = pgbench's tps.
#
#   bench/pg_queue_floor.sh [JOBS=8000] [RUNS=3]
#     finish_claim.sql   the catalog's 5 round trips (BEGIN, end the job, claim the next,
#                        job.finished + NOTIFY, COMMIT), -M extended (parsed and planned on
#                        every call, as unprepared libpq statements are) and -M prepared
#     one_statement.sql  the same work in one statement and one round trip (the ceiling of
#                        that design; not what reprise sends)
#   Runs alternate; each gets a fresh database. Server: REPRISE_BENCH_PG_URL or a
#   throwaway one started with scripts/pg_server.sh. Public tools only (psql, pgbench).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-8000}
runs=${2:-3}
here=bench/pg_queue_floor
build=${REPRISE_BUILD_DIR:-build/release}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DREPRISE_TESTS=OFF \
  -DREPRISE_BENCH=ON >/dev/null
cmake --build "$build" --target queue_throughput_bench >/dev/null

server_dir=""
cleanup() {
  if [ -n "$server_dir" ]; then
    scripts/pg_server.sh stop "$server_dir" >/dev/null 2>&1 || true
    rm -rf "$server_dir"
  fi
}
trap cleanup EXIT
pg_url=${REPRISE_BENCH_PG_URL:-}
if [ -z "$pg_url" ]; then
  server_dir=$(mktemp -d /tmp/reprise-bench-pg.XXXXXX)
  scripts/pg_server.sh start "$server_dir"
  pg_url=$(cat "$server_dir/url")
fi
database=queue_floor_$$

run() {  # label, script, protocol
  psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database"
  local url=${pg_url%/*}/$database
  # reprise's schema (the bench applies the migrations; one job), then the queued jobs.
  "$build/bench/queue_throughput_bench" --catalog "$url" --jobs 1 --workers 1 \
    --phases drain >/dev/null
  psql -q -v n="$jobs" "$url" -f "$here/setup.sql"
  local load tps
  load=$(cut -d' ' -f1 /proc/loadavg)
  tps=$(pgbench -n -M "$3" -c 4 -j 2 -t $((jobs / 4)) -D id=0 -f "$here/$2" "$url" 2>&1 |
    sed -n 's/^tps = \([0-9]*\).*/\1/p')
  printf '%-34s %-9s jobs/s %6s   load %s\n' "$1" "$3" "$tps" "$load"
}
for _ in $(seq 1 "$runs"); do
  run "finish_claim (5 round trips)" finish_claim.sql extended
  run "finish_claim (5 round trips)" finish_claim.sql prepared
  run "one_statement (1 round trip)" one_statement.sql prepared
done
psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $database"
