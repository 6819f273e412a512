#!/usr/bin/env bash
# Scene detection cost per media minute (issue 14, "scenes"): the `scenes` stage inside
# reprise's shared decode pass against FFmpeg's own scene detectors on the same file.
#
#   probe    `reprise process --stage probe`: start-up, open, probe, catalog writes (the
#            fixed cost every stage run shares; no decode)
#   scenes   `reprise process --stage scenes`: the same plus the whole video decoded once,
#            frames handed over at their own size (yuv420p: unconverted), each shrunk to
#            96 px and compared, sampled keyframe candidates scaled to 640 px, JPEGs written
# Each reprise run starts from a fresh library into which the video was ingested (not timed).
#   decode   `ffmpeg -threads 1 -i IN -f null -`: decoding alone, for scale
#   scdet    `ffmpeg -threads 1 -i IN -vf scdet=threshold=10 -f null -`
#   select   `ffmpeg -threads 1 -i IN -vf "select='gt(scene,0.3)'" -f null -`
# reprise decodes with one thread per stream (the default: workers get parallelism from
# jobs side by side), so FFmpeg is given one decoder thread too. The ways run in
# alternation, one of each per round, and the median of RUNS rounds is printed: wall and
# CPU (user + system) seconds per media minute, the stage's own cost (scenes - probe),
# the ratios against scdet, and each command's peak RSS (run with two MINUTES values to
# see that reprise's does not grow with the length). Ingest is done before and not
# timed; page cache warm.
# The input is a 1280x720 25 fps H.264 video of MINUTES minutes with a cut every 5 s
# (a 30 s loop of six lavfi sources, made first and not timed).
# Public tools only: bash, GNU time, coreutils, ffmpeg.
#
#   bench/scenes.sh [RUNS=3] [MINUTES=2]
# REPRISE_BIN picks the binary (default build/release/reprise).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
runs=${1:-3}
minutes=${2:-2}
reprise=$(realpath "${REPRISE_BIN:-build/release/reprise}")
[ -x "$reprise" ] || { echo "build reprise first: cmake --build build/release"; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
video="$work/in.mp4"
echo "making a ${minutes} min 1280x720 H.264 video with a cut every 5 s..." >&2
size=1280x720
graph=""
labels=""
i=0
for source in "testsrc2=s=$size:r=25" "smptehdbars=s=$size:r=25" "mandelbrot=s=$size:r=25" \
  "color=c=orange:s=$size:r=25,noise=alls=30:allf=t" \
  "testsrc=s=2560x720:r=25,crop=1280:720:x='t*60':y=0" "cellauto=s=$size:r=25:rule=110"; do
  graph+="$source,trim=duration=5,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v$i];"
  labels+="[v$i]"
  i=$((i + 1))
done
graph+="${labels}concat=n=$i:v=1:a=0"
ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i "$graph" -c:v libx264 \
  -preset veryfast -crf 23 -pix_fmt yuv420p "$work/loop.mp4"
ffmpeg -hide_banner -loglevel error -nostdin -y -stream_loop $((minutes * 2 - 1)) \
  -i "$work/loop.mp4" -c copy "$work/in.tmp.mp4"
mv "$work/in.tmp.mp4" "$video"
media_minutes=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$video" |
  awk '{print $1 / 60}')

# Runs a command under GNU time; appends "wall cpu rss" (seconds, seconds, peak KiB) to
# $work/WAY.
measure() {  # way, command...
  local way=$1
  shift
  /usr/bin/time -o "$work/t" -f '%e %U %S %M' "$@" > "$work/out" 2>&1 ||
    { cat "$work/out"; exit 1; }
  awk '{print $1, $2 + $3, $4}' "$work/t" >> "$work/$way"
}
# A fresh library holding the video (not timed), then `process --stage STAGE` timed.
reprise_stage() {  # stage
  rm -rf "$work/data"
  "$reprise" --data "$work/data" ingest "$video" > /dev/null
  measure "$1" "$reprise" --data "$work/data" process --stage "$1"
}
ffmpeg_null=(ffmpeg -hide_banner -loglevel error -nostdin -threads 1 -i "$video")

for round in $(seq 1 "$runs"); do
  echo "round $round/$runs" >&2
  reprise_stage probe
  reprise_stage scenes
  measure decode "${ffmpeg_null[@]}" -f null -
  measure scdet "${ffmpeg_null[@]}" -vf scdet=threshold=10 -f null -
  measure select "${ffmpeg_null[@]}" -vf "select='gt(scene,0.3)'" -f null -
done

scenes_json=$(find "$work/data" -name scenes.json | head -1)
[ -n "$scenes_json" ] || { echo "reprise wrote no scenes.json"; cat "$work/out"; exit 1; }
found=$(grep -c '"index"' "$scenes_json")

per_minute() { awk -v s="$1" -v m="$media_minutes" 'BEGIN {printf "%.3f", s / m}'; }
column() { awk -v c="$2" '{print $c}' "$work/$1"; }
declare -A wall cpu rss
for way in probe scenes decode scdet select; do
  wall[$way]=$(median $(column "$way" 1))
  cpu[$way]=$(median $(column "$way" 2))
  rss[$way]=$(median $(column "$way" 3))
done
stage_wall=$(awk -v a="${wall[scenes]}" -v b="${wall[probe]}" 'BEGIN {print a - b}')
stage_cpu=$(awk -v a="${cpu[scenes]}" -v b="${cpu[probe]}" 'BEGIN {print a - b}')

printf '%.1f media minutes, 1280x720 25 fps H.264, %d rounds (median), load %s\n' \
  "$(awk -v m="$media_minutes" 'BEGIN {print m}')" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-44s %10s %10s %12s\n' "seconds per media minute" wall cpu "peak RSS MiB"
row() {
  printf '  %-44s %10s %10s %12s\n' "$1" "$(per_minute "$2")" "$(per_minute "$3")" \
    "${4:+$(awk -v k="$4" 'BEGIN {printf "%.0f", k / 1024}')}"
}
row "reprise process --stage probe" "${wall[probe]}" "${cpu[probe]}" "${rss[probe]}"
row "reprise process --stage scenes ($found scenes)" "${wall[scenes]}" "${cpu[scenes]}" \
  "${rss[scenes]}"
row "  decode + scenes (scenes - probe)" "$stage_wall" "$stage_cpu"
row "  scenes beyond decoding (minus ffmpeg decode)" \
  "$(awk -v a="$stage_wall" -v b="${wall[decode]}" 'BEGIN {print a - b}')" \
  "$(awk -v a="$stage_cpu" -v b="${cpu[decode]}" 'BEGIN {print a - b}')"
row "ffmpeg decode only (-threads 1)" "${wall[decode]}" "${cpu[decode]}" "${rss[decode]}"
row "ffmpeg scdet (-threads 1)" "${wall[scdet]}" "${cpu[scdet]}" "${rss[scdet]}"
row "  scdet beyond decoding" \
  "$(awk -v a="${wall[scdet]}" -v b="${wall[decode]}" 'BEGIN {print a - b}')" \
  "$(awk -v a="${cpu[scdet]}" -v b="${cpu[decode]}" 'BEGIN {print a - b}')"
row "ffmpeg select gt(scene,0.3) (-threads 1)" "${wall[select]}" "${cpu[select]}" "${rss[select]}"
printf '  ratio scdet / reprise (decode + scenes): wall %.2fx  cpu %.2fx\n' \
  "$(awk -v a="${wall[scdet]}" -v b="$stage_wall" 'BEGIN {print a / b}')" \
  "$(awk -v a="${cpu[scdet]}" -v b="$stage_cpu" 'BEGIN {print a / b}')"
