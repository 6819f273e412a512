#!/usr/bin/env bash
# Storyboard sprites (issue 14): `reprise process --stage storyboard` (sheets of 160 px
# tiles, 10x10 per sheet, plus storyboard.vtt, from the shared decode pass) against the
# ffmpeg command that makes the same sprites from the same file:
#   ffmpeg -i IN -an -vf fps=1/N,scale=160:-2,tile=10x10 -q:v 5 sheet-%03d.jpg
# with N the interval reprise chose (read from its metadata). ffmpeg runs twice: as a
# user would (its default threads) and with one decoder and filter thread, as reprise's
# pass decodes by default. A decode-only ffmpeg run (-threads 1, -f null) gives the floor
# any method pays. Prints the median wall and CPU (user + system) seconds per media
# minute of each over RUNS runs, A/B in alternation, the ratios and the load average.
# reprise's figure is the whole `process` command (start-up, catalog, blob writes
# included); ingest is done before and not timed. Page cache warm: the input was just
# written. Public tools only: bash, GNU time, coreutils, awk, ffmpeg, ffprobe.
#
#   bench/storyboard.sh [RUNS=3] [SECONDS=300] [SIZE=1280x720]
# REPRISE_BIN picks the binary (default build/release/reprise).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
runs=${1:-3}
seconds=${2:-300}
size=${3:-1280x720}
reprise=${REPRISE_BIN:-build/release/reprise}
[ -x "$reprise" ] || { echo "build reprise first (cmake --build build/release)"; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
video="$work/in.mp4"
echo "making a ${seconds}s ${size} H.264 video at 25 fps..." >&2
ffmpeg -hide_banner -loglevel error -nostdin -y \
  -f lavfi -i "testsrc2=s=$size:r=25:d=$seconds" -f lavfi -i "sine=f=440:d=$seconds" \
  -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p -c:a aac -shortest "$work/in.tmp.mp4"
mv "$work/in.tmp.mp4" "$video"

# Runs a command under GNU time; leaves "wall cpu" (seconds) in $work/m and fails the
# run when the command fails.
measure() {
  /usr/bin/time -o "$work/t" -f '%e %U %S' "$@" > "$work/out" 2>&1 ||
    { cat "$work/out"; exit 1; }
  awk '{print $1, $2 + $3}' "$work/t" > "$work/m"
}

run_reprise() {
  rm -rf "$work/data"
  "$reprise" --data "$work/data" ingest "$video" > /dev/null
  measure "$reprise" --data "$work/data" process --stage storyboard
}

# The interval and layout reprise chose, so ffmpeg makes the same sprites.
run_reprise
id=$("$reprise" --data "$work/data" assets list --json | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
meta=$("$reprise" --data "$work/data" assets show "$id" --json)
interval=$(printf '%s' "$meta" | grep -o '"interval_seconds": *[0-9.]*' | head -1 | grep -o '[0-9.]*$')
[ -n "$interval" ] || { echo "no storyboard metadata:"; printf '%s\n' "$meta"; exit 1; }

sprites() {  # extra ffmpeg options before -i
  rm -rf "$work/ff"; mkdir -p "$work/ff"
  measure ffmpeg -hide_banner -loglevel error -nostdin -y "$@" -i "$video" -an \
    -vf "fps=1/$interval,scale=160:-2,tile=10x10" -q:v 5 "$work/ff/sheet-%03d.jpg"
}

declare -A wall cpu
for run in $(seq 1 "$runs"); do
  run_reprise; read -r w c < "$work/m"; wall[reprise]+="$w "; cpu[reprise]+="$c "
  sprites; read -r w c < "$work/m"; wall[ffmpeg]+="$w "; cpu[ffmpeg]+="$c "
  sprites -threads 1 -filter_threads 1; read -r w c < "$work/m"
  wall[ffmpeg1]+="$w "; cpu[ffmpeg1]+="$c "
  measure ffmpeg -hide_banner -loglevel error -nostdin -threads 1 -i "$video" -map 0:v -f null -
  read -r w c < "$work/m"; wall[decode]+="$w "; cpu[decode]+="$c "
done

ours=$(find "$work/data" -name 'sheet-*.jpg' | wc -l)
theirs=$(find "$work/ff" -name 'sheet-*.jpg' | wc -l)
minutes=$(awk -v s="$seconds" 'BEGIN {print s / 60}')
per_min() { awk -v x="$1" -v m="$minutes" 'BEGIN {printf "%.3f", x / m}'; }
row() {  # label key
  local w c
  w=$(median ${wall[$2]}); c=$(median ${cpu[$2]})
  printf '  %-58s wall %7s  cpu %7s\n' "$1" "$(per_min "$w")" "$(per_min "$c")"
}
printf '%s s %s H.264 25 fps, interval %s s, %d runs, load average %s\n' \
  "$seconds" "$size" "$interval" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'median seconds per media minute\n'
row "reprise process --stage storyboard ($ours sheets + VTT)" reprise
row "ffmpeg fps,scale,tile ($theirs sheets), default threads" ffmpeg
row "ffmpeg fps,scale,tile, -threads 1 -filter_threads 1" ffmpeg1
row "ffmpeg decode only, -threads 1 (floor)" decode
ratio() { awk -v a="$(median ${1})" -v b="$(median ${2})" 'BEGIN {printf "%.2fx", a / b}'; }
printf '  ratio ffmpeg/reprise: wall %s  cpu %s;  ffmpeg -threads 1/reprise: wall %s  cpu %s\n' \
  "$(ratio "${wall[ffmpeg]}" "${wall[reprise]}")" "$(ratio "${cpu[ffmpeg]}" "${cpu[reprise]}")" \
  "$(ratio "${wall[ffmpeg1]}" "${wall[reprise]}")" "$(ratio "${cpu[ffmpeg1]}" "${cpu[reprise]}")"
