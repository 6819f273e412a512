#!/usr/bin/env bash
# Transcription speed (issue 14): the transcript stage's PocketSphinx backend through
# reprise (`reprise process --stage transcript`: one decode pass, 16 kHz mono, chunks cut
# on silence, transcript.json and captions written) against Debian's
# pocketsphinx_continuous (package pocketsphinx) decoding the same WAV with the same
# model (pocketsphinx-en-us) and default decoder settings. The audio is the recorded
# speech of pocketsphinx-testdata (five LibriVox utterances, 25 s) with a second of
# silence after each, REPEATS times over.
#
# Prints, per tool, the median over RUNS runs (run in alternation) of wall and CPU (user
# + system) seconds, the real-time factor (wall / audio seconds; under 1 is faster than
# real time), its inverse (audio seconds per wall second) and the words each recognized;
# for reprise also the stage's own recognize_seconds (time inside PocketSphinx) from its
# metadata. reprise's figures are the whole `process` command (start-up, model load,
# catalog, blob writes); ingest is done before and not timed. The load average is printed
# before and after: the machine is shared.
# Public tools only: bash, GNU time, coreutils, ffmpeg, jq, pocketsphinx_continuous.
#
#   bench/transcript.sh [RUNS=3] [REPEATS=8]
# REPRISE_BIN picks the binary (default build/release/reprise).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
runs=${1:-3}
repeats=${2:-8}
reprise=${REPRISE_BIN:-build/release/reprise}
[ -x "$reprise" ] || { echo "build reprise first (cmake --build build/release --target reprise)"; exit 2; }
testdata=/usr/share/pocketsphinx/test/data/librivox
[ -d "$testdata" ] || { echo "install pocketsphinx-testdata (scripts/install-deps.sh)"; exit 2; }
continuous=$(command -v pocketsphinx_continuous || true)
[ -n "$continuous" ] || echo "no pocketsphinx_continuous (Debian package pocketsphinx): reprise alone"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i anullsrc=r=16000:cl=mono -t 1 \
  -c:a pcm_s16le "$work/pause.wav"
for _ in $(seq 1 "$repeats"); do
  while read -r id; do
    printf "file '%s'\nfile '%s'\n" "$testdata/$id.wav" "$work/pause.wav"
  done < "$testdata/fileids"
done > "$work/list.txt"
ffmpeg -hide_banner -loglevel error -nostdin -y -f concat -safe 0 -i "$work/list.txt" \
  -c:a pcm_s16le -ar 16000 -ac 1 "$work/speech.wav"
audio=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$work/speech.wav")

# Runs a command under GNU time, its output in $work/out; leaves "wall cpu" in $work/m.
timed() {
  /usr/bin/time -o "$work/t" -f '%e %U %S' "$@" > "$work/out" 2>&1 || { cat "$work/out"; exit 1; }
  awk '{print $1, $2 + $3}' "$work/t" > "$work/m"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
ps_wall=(); ps_cpu=(); ours_wall=(); ours_cpu=(); ours_inside=()
for _ in $(seq 1 "$runs"); do
  if [ -n "$continuous" ]; then
    timed "$continuous" -infile "$work/speech.wav" -logfn /dev/null
    read -r wall cpu < "$work/m"; ps_wall+=("$wall"); ps_cpu+=("$cpu")
    ps_words=$(wc -w < "$work/out")
  fi
  rm -rf "$work/data"
  "$reprise" --data "$work/data" ingest "$work/speech.wav" > /dev/null
  timed "$reprise" --data "$work/data" process --stage transcript
  read -r wall cpu < "$work/m"; ours_wall+=("$wall"); ours_cpu+=("$cpu")
  id=$("$reprise" --data "$work/data" assets list --json | jq -r '.[0].id')
  meta=$("$reprise" --data "$work/data" assets show "$id" --json |
    jq -c '.derivatives[] | select(.stage == "transcript") | .latest.metadata')
  [ "$(jq -r .backend <<< "$meta")" = pocketsphinx ] || { echo "no transcript: $meta"; exit 1; }
  ours_inside+=("$(jq -r .recognize_seconds <<< "$meta")")
  ours_words=$(jq -r .words <<< "$meta")
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

row() {  # name, wall, cpu, words
  printf '  %-44s wall %7.2f  cpu %7.2f  RTF %.3f  %5.1fx real time  %d words\n' "$1" "$2" "$3" \
    "$(awk -v w="$2" -v a="$audio" 'BEGIN {print w / a}')" \
    "$(awk -v w="$2" -v a="$audio" 'BEGIN {print a / w}')" "$4"
}
printf '%.1f s of speech (16 kHz mono WAV), %d runs, median seconds\n' "$audio" "$runs"
if [ -n "$continuous" ]; then
  row "pocketsphinx_continuous" "$(median "${ps_wall[@]}")" "$(median "${ps_cpu[@]}")" "$ps_words"
fi
row "reprise process --stage transcript" "$(median "${ours_wall[@]}")" "$(median "${ours_cpu[@]}")" "$ours_words"
printf '  %-44s %7.2f s (RTF %.3f)\n' "  of which inside PocketSphinx" "$(median "${ours_inside[@]}")" \
  "$(awk -v w="$(median "${ours_inside[@]}")" -v a="$audio" 'BEGIN {print w / a}')"
if [ -n "$continuous" ]; then
  printf '  ratio reprise/pocketsphinx_continuous: wall %.2fx  cpu %.2fx\n' \
    "$(awk -v a="$(median "${ours_wall[@]}")" -v b="$(median "${ps_wall[@]}")" 'BEGIN {print a / b}')" \
    "$(awk -v a="$(median "${ours_cpu[@]}")" -v b="$(median "${ps_cpu[@]}")" 'BEGIN {print a / b}')"
fi
