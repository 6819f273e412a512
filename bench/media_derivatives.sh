#!/usr/bin/env bash
# The media derivatives of the seeds' pipelines (issue "media derivative stages"), made
# three ways from the same inputs with the same encoders and bit rates:
#
#   seeds    one process per derivative, one asset at a time, as the seeds' scripts do:
#            sha256sum + cp, ffprobe (metadata), ffmpeg x5 (thumbnail, WAV, MP3 192k,
#            showwavespic PNG, audio HLS AAC 320k in 2 s segments)
#   ffmpeg   the best single ffmpeg command writing all five outputs (one audio decode;
#            plus ffprobe for the metadata), assets two at a time in library mode
#   reprise  `reprise ingest --process` (add, then build and wait, one command as a user
#            runs it) with [pipeline] stages probe, thumbnail,
#            audio, waveform and hls (audio HLS: [stages.hls] video = false) -- one demux/decode per
#            asset, the AAC encode on both cores in sample-exact chunks
#
# Modes:
#   bench/media_derivatives.sh single [SECONDS=60] [RUNS=3]   one 1280x720 H.264/AAC file
#   bench/media_derivatives.sh library [CLIPS=40] [SECONDS=30] [RUNS=1]
# Prints the median wall and CPU seconds of each way, peak RSS, and the ratios (of the
# medians, and the median of the per-run ratios, which drift between runs cancels). Inputs
# are made with lavfi first (not timed): testsrc2 video, full-band pink noise with a
# tone as audio (what music costs the AAC encoder). reprise's figure includes ingest
# (hash and copy into its store) and every catalog write.
# Public tools only: bash, GNU time, coreutils, ffmpeg/ffprobe, xargs.
# REPRISE_BIN picks the binary (default build/release/reprise). WAYS picks the ways
# (default "seeds ffmpeg reprise"); the way pg_s3 (issue 13) is the reprise command on a
# PostgreSQL 15 catalog and a Ceph radosgw blob store (scripts/pg_server.sh and
# scripts/s3_server.sh start both first, not timed; each run gets a fresh database and a
# fresh bucket prefix, given as REPRISE_CATALOG_URL, REPRISE_BLOB_URL and
# REPRISE_BLOB_ACCESS_KEY_ID/SECRET_ACCESS_KEY), compared with reprise's SQLite + directory:
#   WAYS="reprise pg_s3" bench/media_derivatives.sh library 40 30
# For pg_s3 it also prints the CPU seconds the servers used during each run (they share the
# cores with reprise).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
mode=${1:-single}
reprise=$(realpath "${REPRISE_BIN:-build/release/reprise}")
[ -x "$reprise" ] || { echo "build reprise first: cmake --build build/release"; exit 2; }
case $mode in
  single) clips=1; seconds=${2:-60}; runs=${3:-3} ;;
  library) clips=${2:-40}; seconds=${3:-30}; runs=${4:-1} ;;
  *) echo "usage: $0 single [SECONDS] [RUNS] | library [CLIPS] [SECONDS] [RUNS]"; exit 2 ;;
esac

read -r -a ways <<< "${WAYS:-seeds ffmpeg reprise}"
work=$(mktemp -d)
servers_up=
stop_servers() {
  if [ -n "$servers_up" ]; then
    scripts/pg_server.sh stop "$work/pg" >/dev/null 2>&1 || true
    scripts/s3_server.sh stop "$work/s3" >/dev/null 2>&1 || true
  fi
}
trap 'stop_servers; rm -rf "$work"' EXIT
if [[ " ${ways[*]} " == *" pg_s3 "* ]]; then
  echo "starting PostgreSQL and radosgw (not timed)..." >&2
  servers_up=1
  scripts/pg_server.sh start "$work/pg" >"$work/pg.log" 2>&1 || { cat "$work/pg.log"; exit 1; }
  REPRISE_S3_MEMSTORE_BYTES=$((4 * 1024 * 1024 * 1024)) scripts/s3_server.sh start "$work/s3" \
    >"$work/s3.log" 2>&1 || { cat "$work/s3.log"; exit 1; }
fi
# The environment of a pg_s3 run: a fresh database and a fresh prefix named after it.
pg_s3_env() {  # run
  local pg_url db=bench_$1
  pg_url=$(cat "$work/pg/url")
  psql -q "$pg_url" -c "CREATE DATABASE $db" >/dev/null
  echo "REPRISE_CATALOG_URL=${pg_url%/*}/$db"
  sed "s#^\(s3://[^/?]*\)[^?]*#\1/$db#" "$work/s3/url" | sed 's/^/REPRISE_BLOB_URL=/'
  sed -n 's/^AWS_ACCESS_KEY_ID=/REPRISE_BLOB_ACCESS_KEY_ID=/p; s/^AWS_SECRET_ACCESS_KEY=/REPRISE_BLOB_SECRET_ACCESS_KEY=/p' \
    "$work/s3/env"
}
mkdir -p "$work/in"
echo "making $clips input(s) of ${seconds}s 1280x720 H.264 + AAC 48 kHz stereo..." >&2
for i in $(seq -w 1 "$clips"); do
  ffmpeg -hide_banner -loglevel error -nostdin -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=$seconds" \
    -f lavfi -i "anoisesrc=color=pink:sample_rate=48000:amplitude=0.25:duration=$seconds:seed=$i" \
    -f lavfi -i "sine=frequency=$((200 + 10 * 10#$i)):sample_rate=48000:duration=$seconds" \
    -filter_complex "[1:a][2:a]amix=inputs=2,pan=stereo|c0=c0|c1=0.8*c0[a]" \
    -map 0:v -map "[a]" -c:v libx264 -preset veryfast -g 60 -c:a aac -b:a 192k \
    "$work/in/clip$i.mp4"
done

cat > "$work/reprise.toml" <<'EOF'
[pipeline]
stages = ["probe", "thumbnail", "audio", "waveform", "hls"]

[stages.hls]
video = false
EOF

# The seeds' way for one file: a process per derivative.
seed_one() {  # input, out dir
  local f=$1 out=$2
  mkdir -p "$out/hls"
  sha256sum "$f" > "$out/sha256"
  cp "$f" "$out/original"
  ffprobe -v error -show_format -show_streams -of json "$f" > "$out/meta.json"
  ffmpeg -hide_banner -loglevel error -nostdin -y -i "$f" -frames:v 1 -vf scale=320:-2 "$out/thumb.jpg"
  ffmpeg -hide_banner -loglevel error -nostdin -y -i "$f" -vn -c:a pcm_s16le "$out/audio.wav"
  ffmpeg -hide_banner -loglevel error -nostdin -y -i "$f" -vn -c:a libmp3lame -b:a 192k "$out/audio.mp3"
  ffmpeg -hide_banner -loglevel error -nostdin -y -i "$f" \
    -filter_complex "[0:a:0]showwavespic=s=1800x140" -frames:v 1 "$out/waveform.png"
  ffmpeg -hide_banner -loglevel error -nostdin -y -i "$f" -vn -c:a aac -b:a 320k \
    -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_filename "$out/hls/seg_%05d.ts" \
    "$out/hls/playlist.m3u8"
}

# One ffmpeg command writing the five outputs, plus ffprobe. The file is opened twice:
# the thumbnail from its own input, which ffmpeg stops reading after one frame; taken
# from the same input as the audio, it decodes every video frame to the end (6.3 s
# instead of 1.8 s for 60 s of 720p here). The audio is decoded once for all four.
ffmpeg_one() {  # input, out dir
  local f=$1 out=$2
  mkdir -p "$out/hls"
  ffprobe -v error -show_format -show_streams -of json "$f" > "$out/meta.json"
  ffmpeg -hide_banner -loglevel error -nostdin -y -i "$f" -i "$f" \
    -filter_complex "[0:a:0]asplit=2[wave][rest];[wave]showwavespic=s=1800x140[pic]" \
    -map 1:v:0 -frames:v 1 -vf scale=320:-2 "$out/thumb.jpg" \
    -map "[rest]" -c:a pcm_s16le "$out/audio.wav" \
    -map 0:a:0 -c:a libmp3lame -b:a 192k "$out/audio.mp3" \
    -map "[pic]" -frames:v 1 "$out/waveform.png" \
    -map 0:a:0 -c:a aac -b:a 320k -f hls -hls_time 2 -hls_playlist_type vod \
    -hls_segment_filename "$out/hls/seg_%05d.ts" "$out/hls/playlist.m3u8"
}
export -f seed_one ffmpeg_one

# CPU seconds the pg_s3 way's servers have used so far: the Ceph daemons (monitor, OSD,
# radosgw: their pid files) and PostgreSQL (the postmaster with the backends it reaped, and
# its live children). Each run's share is the difference around it; the servers share the
# same cores as reprise, so their CPU is part of what its wall time waits for.
servers_cpu() {
  local ticks=0 pidfile pm kid
  for pidfile in "$work"/s3/run/*.pid; do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$(cat "$pidfile")/stat")))
  done
  pm=$(head -1 "$(cat "$work/pg/datadir")/data/postmaster.pid")
  ticks=$((ticks + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")))
  for kid in $(pgrep -P "$pm"); do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$kid/stat" 2>/dev/null || echo 0)))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}'
}

# Runs a command under GNU time; leaves "wall cpu peak_kib" in $work/m.
measure() {
  /usr/bin/time -o "$work/t" -f '%e %U %S %M' "$@" > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
  awk '{print $1, $2 + $3, $4}' "$work/t" > "$work/m"
}

declare -A wall cpu rss
servers=""
for run in $(seq 1 "$runs"); do
  for way in "${ways[@]}"; do
    rm -rf "$work/out"; mkdir -p "$work/out"
    case $way in
      seeds)
        measure bash -c 'for f in "$1"/*.mp4; do seed_one "$f" "$2/$(basename "$f" .mp4)"; done' \
          _ "$work/in" "$work/out" ;;
      ffmpeg)
        measure bash -c 'ls "$1"/*.mp4 | xargs -P 2 -I{} bash -c "ffmpeg_one {} $2/\$(basename {} .mp4)"' \
          _ "$work/in" "$work/out" ;;
      reprise)
        measure "$reprise" --data "$work/out/data" --config "$work/reprise.toml" ingest --process \
          "$work/in"
        # What reprise made, checked like the others' (five outputs per asset).
        made=$(find "$work/out/data" -name playlist.m3u8 | wc -l)
        [ "$made" -eq "$clips" ] || { echo "reprise made $made HLS playlists for $clips inputs"; cat "$work/log"; exit 1; } ;;
      pg_s3)
        mapfile -t backend_env < <(pg_s3_env "$run")
        before=$(servers_cpu)
        measure env "${backend_env[@]}" "$reprise" --data "$work/out/pgs3" \
          --config "$work/reprise.toml" ingest --process "$work/in"
        servers+="$(awk -v a="$before" -v b="$(servers_cpu)" 'BEGIN {print b - a}') "
        # Every asset built: as many ready assets as inputs in that catalog.
        ready=$(env "${backend_env[@]}" "$reprise" --data "$work/out/pgs3" --config "$work/reprise.toml" \
          assets list --status ready --json | grep -o '"status": *"ready"' | wc -l)
        [ "$ready" -eq "$clips" ] || { echo "pg_s3: $ready of $clips assets ready"; cat "$work/log"; exit 1; } ;;
    esac
    read -r w c m < "$work/m"
    wall[$way]+="$w "; cpu[$way]+="$c "; rss[$way]+="$m "
  done
done


printf '%s: %d input(s) of %d s 1280x720 H.264/AAC, %d run(s), median seconds; peak RSS of one process\n' \
  "$mode" "$clips" "$seconds" "$runs"
for way in "${ways[@]}"; do
  # shellcheck disable=SC2086
  printf '  %-8s wall %8.2f  cpu %8.2f  peak RSS %6.1f MiB\n' "$way" \
    "$(median ${wall[$way]})" "$(median ${cpu[$way]})" "$(awk -v k="$(median ${rss[$way]})" 'BEGIN {print k / 1024}')"
done
if [ -n "$servers" ]; then
  # shellcheck disable=SC2086
  printf '  pg_s3 servers (radosgw, ceph-osd, ceph-mon, postgres) cpu %8.2f (median; per run: %s)\n' \
    "$(median $servers)" "$servers"
fi
# shellcheck disable=SC2086
ours=$(median ${wall[reprise]})
for way in "${ways[@]}"; do
  [ "$way" = reprise ] && continue
  # The ratio of the medians, and the median of the ratios run by run: the three ways
  # of one run are timed back to back, so the second holds when the machine's speed
  # drifts between runs (it does on a shared VM).
  # shellcheck disable=SC2086
  read -r -a theirs <<< "${wall[$way]}"
  read -r -a mine <<< "${wall[reprise]}"
  ratios=()
  for i in "${!mine[@]}"; do ratios+=("$(awk -v a="${theirs[$i]}" -v b="${mine[$i]}" 'BEGIN {print a / b}')"); done
  printf '  %s / reprise (wall): %.2fx (median of the per-run ratios %.2fx, range %.2f-%.2f)\n' "$way" \
    "$(awk -v a="$(median ${wall[$way]})" -v b="$ours" 'BEGIN {print a / b}')" "$(median "${ratios[@]}")" \
    "$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)" "$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
