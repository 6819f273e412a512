#!/usr/bin/env bash
# How close the dry-run time estimate of `reprise backfill` comes to the real run (issue
# 11, item 9). On a fresh library of CLIPS short clips (lavfi testsrc2 + sine, H.264/AAC,
# 1280x720, 2 to 4 s, each one distinct; hls encodes a 360p rendition of each), ingested
# and processed with [pipeline] stages probe, thumbnail and hls, each scenario runs
#   reprise backfill ARGS --dry-run --json   -> estimated_seconds, history source
#   reprise backfill ARGS --yes              -> wall time of the whole command
# and prints one row: estimate, actual, estimate/actual, the work and pacing parts of the
# estimate and whose history it came from (source, samples, "alone" when only runs of
# the stage alone in its pass were used). Scenarios: --delay, --rate, --concurrency 1
# and 2 on hls, and a recipe change (hls preset veryslow) run twice: first on the old
# recipe's history, then on its own. "actual" is the whole command (process start, plan
# scan, health check, worker start and stop included).
#
#   bench/backfill_estimate.sh [CLIPS=8] [CATALOG=sqlite]
#
# CATALOG: `sqlite` (the data directory's catalog), `postgres` (a throwaway server started
# with scripts/pg_server.sh and removed afterwards) or a postgres:// URL of an empty
# database. Public tools only: bash, coreutils, ffmpeg, jq, PostgreSQL's own server
# binaries. REPRISE_BIN picks the binary (default build/release/reprise).
set -euo pipefail
cd "$(dirname "$0")/.."
clips=${1:-8}
catalog=${2:-sqlite}
reprise=$(realpath "${REPRISE_BIN:-build/release/reprise}")
[ -x "$reprise" ] || { echo "build reprise first: cmake --build build/release --target reprise"; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case $catalog in
  sqlite) ;;
  postgres)
    scripts/pg_server.sh start "$work/pg"
    trap 'scripts/pg_server.sh stop "$work/pg"; rm -rf "$work"' EXIT
    export REPRISE_CATALOG_URL
    REPRISE_CATALOG_URL=$(cat "$work/pg/url")
    ;;
  postgres://* | postgresql://*) export REPRISE_CATALOG_URL=$catalog ;;
  *) echo "CATALOG is sqlite, postgres or a postgres:// URL, not $catalog" >&2; exit 2 ;;
esac
echo "catalog: ${REPRISE_CATALOG_URL:-sqlite (the data directory)}"
mkdir -p "$work/in"
for i in $(seq 1 "$clips"); do
  seconds=$((2 + i % 3))
  ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=$seconds" \
    -f lavfi -i "sine=frequency=$((200 + 40 * i)):sample_rate=48000:duration=$seconds" \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$work/in/clip$i.mp4"
done

export REPRISE_PIPELINE_STAGES=probe,thumbnail,hls
r() { "$reprise" --data "$work/data" "$@"; }
r ingest "$work/in" >/dev/null
r process >/dev/null

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %9s %9s %6s %8s %8s  %s\n' SCENARIO ESTIMATE ACTUAL RATIO WORK PACING HISTORY
scenario() {  # name, backfill args...
  local name=$1 plan begin end actual
  shift
  plan=$(r backfill "$@" --dry-run --json)
  begin=$(date +%s.%N)
  r backfill "$@" --yes >/dev/null
  end=$(date +%s.%N)
  actual=$(awk -v a="$begin" -v b="$end" 'BEGIN {print b - a}')
  jq -r --arg name "$name" --argjson actual "$actual" '
    [$name, .estimated_seconds, $actual, .estimated_seconds / $actual, .work_seconds,
     .pacing_seconds,
     ([.stages[] | "\(.stage) \(.history.source) \(.history.samples)" +
       (if .history.alone then " alone" else "" end)] | join(", "))]
    | @tsv' <<<"$plan" |
    awk -F'\t' '{printf "%-44s %8.2fs %8.2fs %6.2f %7.2fs %7.2fs  %s\n", $1, $2, $3, $4, $5, $6, $7}'
}
scenario "thumbnail --all --delay 0.5" thumbnail --all --delay 0.5
scenario "thumbnail --all --rate 2/s" thumbnail --all --rate 2/s
scenario "thumbnail --all --rate 2/s --delay 1" thumbnail --all --rate 2/s --delay 1
scenario "hls --all --concurrency 1" hls --all --concurrency 1
scenario "hls --all --concurrency 2" hls --all --concurrency 2
scenario "hls --all --concurrency 1 --delay 0.5" hls --all --concurrency 1 --delay 0.5
export REPRISE_STAGES_HLS_VIDEO_PRESET=veryslow
scenario "hls veryslow, 1st run (old recipe's runs)" hls --concurrency 2
scenario "hls veryslow --all, 2nd run (its own)" hls --all --concurrency 2
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
