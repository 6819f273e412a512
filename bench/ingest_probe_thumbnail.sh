#!/usr/bin/env bash
# Ingest + probe + thumbnail over a folder of clips: reprise against the seeds' approach
# (per file: sha256sum, cp into a store, ffprobe for metadata, ffmpeg for a 320 px
# first-frame thumbnail). Prints wall seconds of each and the ratio; repeats and reports
# the median. Public tools only: bash, GNU time, coreutils, ffmpeg.
#
#   bench/ingest_probe_thumbnail.sh [CLIPS=20] [SECONDS=10] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
clips=${1:-20}
seconds=${2:-10}
runs=${3:-3}
reprise=${REPRISE_BIN:-build/release/reprise}
[ -x "$reprise" ] || { echo "build reprise first (scripts/quickstart.sh or cmake --build build/release)"; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/clips"
echo "making $clips clips of ${seconds}s 1280x720 H.264/AAC..."
for i in $(seq 1 "$clips"); do
  ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=$seconds" \
    -f lavfi -i "sine=frequency=$((200 + i * 10)):sample_rate=48000:duration=$seconds" \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 128k -shortest \
    "$work/clips/clip$i.mp4"
done
bytes=$(du -sb "$work/clips" | cut -f1)

seed_style() {
  local store=$1
  for f in "$work"/clips/*.mp4; do seed_style_one "$f" "$store"; done
}

reprise_run() {
  local data=$1
  "$reprise" --data "$data" ingest "$work/clips" > /dev/null
  "$reprise" --data "$data" process > /dev/null
}

now() { date +%s.%N; }
seed_times=()
reprise_times=()
for run in $(seq 1 "$runs"); do
  rm -rf "$work/seed" "$work/data"
  t0=$(now); seed_style "$work/seed"; t1=$(now)
  reprise_run "$work/data"; t2=$(now)
  seed_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  reprise_times+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN {print b - a}')")
done
seed=$(median "${seed_times[@]}")
ours=$(median "${reprise_times[@]}")

rm -rf "$work/data"
rss=$( { /usr/bin/time -f '%M' "$reprise" --data "$work/data" ingest "$work/clips" > /dev/null; } 2>&1 | tail -1)
rss_process=$( { /usr/bin/time -f '%M' "$reprise" --data "$work/data" process > /dev/null; } 2>&1 | tail -1)

printf '%d clips, %.1f MB, %d runs (median wall seconds)\n' "$clips" "$(awk -v b="$bytes" 'BEGIN {print b / 1e6}')" "$runs"
printf '  seed-style (sha256sum+cp+ffprobe+ffmpeg per file): %.3f s\n' "$seed"
printf '  reprise ingest + process:                          %.3f s\n' "$ours"
printf '  ratio seed/reprise: %.2fx\n' "$(awk -v a="$seed" -v b="$ours" 'BEGIN {print a / b}')"
printf '  reprise peak RSS: ingest %d KB, process %d KB\n' "$rss" "$rss_process"
