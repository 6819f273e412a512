#!/usr/bin/env bash
# Waveform alone on a 10 min WAV (issue "waveform"): `reprise process --stage waveform`
# (an 1800x140 PNG plus the audiowaveform JSON and .dat peaks, from one decode) against
# FFmpeg's showwavespic filter drawing a PNG of the same size. Prints the median wall
# and CPU (user + system) seconds of each over RUNS runs and the ratios. reprise's figure
# is the whole `process` command (start-up, catalog, blob writes included); ingest is
# done before and not timed. Page cache warm: the input was just written.
# Public tools only: bash, GNU time, coreutils, ffmpeg.
#
#   bench/waveform.sh [RUNS=3] [SECONDS=600]
# REPRISE_BIN picks the binary (default build/release/reprise).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
runs=${1:-3}
seconds=${2:-600}
reprise=${REPRISE_BIN:-build/release/reprise}
[ -x "$reprise" ] || { echo "build reprise first (scripts/quickstart.sh or cmake --build build/release)"; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wav="$work/in.wav"
echo "making a ${seconds}s 44.1 kHz stereo s16 WAV..." >&2
ffmpeg -hide_banner -loglevel error -nostdin -y \
  -f lavfi -i "anoisesrc=color=pink:sample_rate=44100:amplitude=0.3:duration=$seconds:seed=1" \
  -af "tremolo=f=0.3:d=0.9,pan=stereo|c0=c0|c1=0.6*c0" -c:a pcm_s16le "$work/in.tmp.wav"
mv "$work/in.tmp.wav" "$wav"

# Runs a command under GNU time; leaves "wall cpu" (seconds) in $work/m and fails the
# run when the command fails.
measure() {
  /usr/bin/time -o "$work/t" -f '%e %U %S' "$@" > "$work/out" 2>&1 ||
    { cat "$work/out"; exit 1; }
  awk '{print $1, $2 + $3}' "$work/t" > "$work/m"
}

ffmpeg_wall=(); ffmpeg_cpu=(); ours_wall=(); ours_cpu=()
for run in $(seq 1 "$runs"); do
  measure ffmpeg -hide_banner -loglevel error -nostdin -y -i "$wav" \
    -filter_complex "showwavespic=s=1800x140" -frames:v 1 "$work/showwavespic.png"
  read -r wall cpu < "$work/m"; ffmpeg_wall+=("$wall"); ffmpeg_cpu+=("$cpu")

  rm -rf "$work/data"
  "$reprise" --data "$work/data" ingest "$wav" > /dev/null
  measure "$reprise" --data "$work/data" process --stage waveform
  read -r wall cpu < "$work/m"; ours_wall+=("$wall"); ours_cpu+=("$cpu")
done

png=$(find "$work/data" -name waveform.png | head -1)
[ -n "$png" ] || { echo "reprise wrote no waveform.png"; cat "$work/out"; exit 1; }
size() { ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$1"; }

fw=$(median "${ffmpeg_wall[@]}"); fc=$(median "${ffmpeg_cpu[@]}")
ow=$(median "${ours_wall[@]}"); oc=$(median "${ours_cpu[@]}")
printf '%d s WAV, 44.1 kHz stereo, %d runs (median seconds)\n' "$seconds" "$runs"
printf '  ffmpeg showwavespic (%s PNG):         wall %.3f  cpu %.3f\n' "$(size "$work/showwavespic.png")" "$fw" "$fc"
printf '  reprise process --stage waveform (%s PNG + JSON + .dat): wall %.3f  cpu %.3f\n' "$(size "$png")" "$ow" "$oc"
printf '  ratio ffmpeg/reprise: wall %.2fx  cpu %.2fx\n' \
  "$(awk -v a="$fw" -v b="$ow" 'BEGIN {print a / b}')" "$(awk -v a="$fc" -v b="$oc" 'BEGIN {print a / b}')"
