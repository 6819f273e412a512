#!/usr/bin/env bash
# One asset, probe + thumbnail (issue 3): wall time and peak RSS of `reprise ingest` and
# `reprise process` on one 1280x720 H.264/AAC file of 1 min and one of 10 min, and the
# seeds' way for the same derivatives (sha256sum, cp into a store, ffprobe, ffmpeg for a
# 320 px first-frame thumbnail). Peak RSS must not grow with input length: ingest hashes
# and copies through a 1 MiB buffer, and the thumbnail stage stops decoding after the
# first frame. Each figure is the median of RUNS runs (page cache warm: the inputs were
# just written or read). Public tools only: bash, GNU time, coreutils, ffmpeg.
#
#   bench/probe_thumbnail_rss.sh [RUNS=3]
# REPRISE_BIN picks the binary (default build/release/reprise); BENCH_MEDIA keeps the
# generated inputs in that directory between runs (default: a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
runs=${1:-3}
reprise=${REPRISE_BIN:-build/release/reprise}
[ -x "$reprise" ] || { echo "build reprise first (scripts/quickstart.sh or cmake --build build/release)"; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
media=${BENCH_MEDIA:-$work/media}
mkdir -p "$media"

make_input() {  # seconds -> path of a 1280x720 H.264/AAC file that long
  local seconds=$1 path="$media/in${1}s.mp4"
  if [ ! -s "$path" ]; then
    echo "making ${seconds}s 1280x720 H.264/AAC..." >&2
    ffmpeg -hide_banner -loglevel error -nostdin -y \
      -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=$seconds" \
      -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$seconds" \
      -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 128k -shortest \
      "$path.tmp.mp4"
    mv "$path.tmp.mp4" "$path"
  fi
  echo "$path"
}

# Runs a command under GNU time and leaves "wall_seconds peak_rss_kib" in $work/m (RSS of
# the largest process in the tree, as wait4 reports it); a failing command stops the run.
measure() {
  /usr/bin/time -o "$work/m" -f '%e %M' "$@" >/dev/null
}

export -f seed_style_one

declare -A result
for seconds in 60 600; do
  input=$(make_input "$seconds")
  result[$seconds,mb]=$(du -m "$input" | cut -f1)
  cat "$input" >/dev/null  # warm the page cache for every approach alike
  ingest_s=() ingest_kb=() process_s=() process_kb=() seed_s=() seed_kb=()
  for _ in $(seq 1 "$runs"); do
    rm -rf "$work/data" "$work/seed"
    measure "$reprise" --data "$work/data" ingest "$input"
    read -r s kb <"$work/m" && ingest_s+=("$s") ingest_kb+=("$kb")
    measure "$reprise" --data "$work/data" process
    read -r s kb <"$work/m" && process_s+=("$s") process_kb+=("$kb")
    measure bash -c 'set -euo pipefail; seed_style_one "$1" "$2"' _ "$input" "$work/seed"
    read -r s kb <"$work/m" && seed_s+=("$s") seed_kb+=("$kb")
  done
  for what in ingest_s ingest_kb process_s process_kb seed_s seed_kb; do
    declare -n samples=$what
    result[$seconds,$what]=$(median "${samples[@]}")
    unset -n samples
  done
  if [ -z "$(find "$work/data/blobs" -name '*.jpg' -print -quit)" ]; then
    echo "no thumbnail was written for the ${seconds}s input" >&2
    exit 1
  fi
done

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
printf '%-8s %7s | %-21s | %-21s | %-21s | %s\n' input MB "reprise ingest" "reprise process" \
  "seeds' way" "seeds/reprise wall"
printf '%-8s %7s | %9s %11s | %9s %11s | %9s %11s |\n' "" "" wall "peak RSS" wall "peak RSS" \
  wall "peak RSS"
for seconds in 60 600; do
  ours=$(awk -v a="${result[$seconds,ingest_s]}" -v b="${result[$seconds,process_s]}" \
    'BEGIN {print a + b}')
  printf '%-8s %7s | %8.2fs %7s MiB | %8.2fs %7s MiB | %8.2fs %7s MiB | %sx\n' \
    "$((seconds / 60)) min" "${result[$seconds,mb]}" \
    "${result[$seconds,ingest_s]}" "$(mib "${result[$seconds,ingest_kb]}")" \
    "${result[$seconds,process_s]}" "$(mib "${result[$seconds,process_kb]}")" \
    "${result[$seconds,seed_s]}" "$(mib "${result[$seconds,seed_kb]}")" \
    "$(ratio "${result[$seconds,seed_s]}" "$ours")"
done
printf 'peak RSS 10 min / 1 min: ingest %sx, process %sx (%s runs, median)\n' \
  "$(ratio "${result[600,ingest_kb]}" "${result[60,ingest_kb]}")" \
  "$(ratio "${result[600,process_kb]}" "${result[60,process_kb]}")" "$runs"
