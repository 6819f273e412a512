#!/usr/bin/env bash
# Backfill planning over a synthetic library on the SQLite or the PostgreSQL catalog:
# builds backfill_plan_bench in Release and runs every phase RUNS times, each in a fresh
# process (see bench/backfill_plan.cc for the library and what each phase measures).
# Prints one line per run and a table of medians against the targets. Public tools only:
# bash, cmake, the bench program, PostgreSQL's own server binaries.
#
#   bench/backfill_plan.sh [ASSETS=1000000] [RUNS=3] [DIR] [CATALOG=sqlite]
#
# CATALOG: `sqlite` (DIR/catalog.db), a postgres:// URL (used as it is: filled when it
# holds no assets), or `postgres`: a throwaway server started with scripts/pg_server.sh
# in DIR/pg and halted afterwards, its data kept for the next run with the same DIR (a
# server without DIR is stopped and removed). DIR keeps the catalog (about 1.5 GB for a
# million assets on SQLite, 2 GB on PostgreSQL) so later runs skip the filling; without
# it a temporary directory is used and removed. PHASES (environment) picks phases by
# name, comma-separated (backfill_plan_bench --help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
assets=${1:-1000000}
runs=${2:-3}
dir=${3:-}
catalog=${4:-sqlite}
build=${REPRISE_BUILD_DIR:-build/release}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DREPRISE_TESTS=OFF \
  -DREPRISE_BENCH=ON >/dev/null
cmake --build "$build" --target backfill_plan_bench >/dev/null

args=(--assets "$assets" --runs "$runs")
if [[ -n $dir ]]; then args+=(--dir "$dir"); fi
if [[ -n ${PHASES:-} ]]; then args+=(--phases "$PHASES"); fi
case $catalog in
  sqlite) ;;
  postgres)
    server=${dir:-$(mktemp -d)}/pg
    if [[ -f $server/datadir && -d $(cat "$server/datadir")/data ]]; then
      scripts/pg_server.sh resume "$server"
    else
      scripts/pg_server.sh start "$server"
    fi
    if [[ -n $dir ]]; then
      trap 'scripts/pg_server.sh halt "$server"' EXIT
    else
      trap 'scripts/pg_server.sh stop "$server"; rm -rf "$(dirname "$server")"' EXIT
    fi
    args+=(--catalog "$(cat "$server/url")")
    echo "catalog: PostgreSQL $(psql -XAtc 'SHOW server_version' "$(cat "$server/url")" 2>/dev/null ||
      echo '(psql not found)') at $(cat "$server/url")"
    ;;
  postgres://* | postgresql://*) args+=(--catalog "$catalog") ;;
  *) echo "CATALOG is sqlite, postgres or a postgres:// URL, not $catalog" >&2; exit 2 ;;
esac

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/backfill_plan_bench" "${args[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
