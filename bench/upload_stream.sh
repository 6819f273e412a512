#!/usr/bin/env bash
# A large upload streamed into `reprise serve` (issue 12): a WAV file of SIZE_MIB MiB
# (default 1024: a 44-byte header, then random samples) sent with `curl -T` (streamed,
# never read whole by curl) as POST /api/v1/assets. Reports the upload's throughput
# against `sha256sum` of the same file (the floor of any hash-while-storing ingest: the
# server hashes, writes the blob and probes the stored copy), and the server's peak RSS
# (VmHWM) after the upload, which must not grow with the size. Page cache warm: the
# file was just written and sha256sum reads it first. Each throughput is the median of
# RUNS runs; every run uploads into a fresh data directory. Public tools only: bash,
# coreutils, curl.
#
#   bench/upload_stream.sh [SIZE_MIB=1024] [RUNS=3] [BLOB=fs|s3]
# BLOB=s3 stores the upload in S3 (issue 13): each run starts a fresh Ceph radosgw with
# scripts/s3_server.sh (its in-memory OSD sized for the upload) and points the server at it
# with REPRISE_BLOB_URL and the credentials as REPRISE_BLOB_ACCESS_KEY_ID/SECRET_ACCESS_KEY;
# the blob goes up as a multipart upload, and the peak RSS is still the server's alone.
# REPRISE_BIN picks the binary (default build/release/reprise); BENCH_DIR the folder for
# the input and data (default a temporary directory under /tmp; it needs 2 x SIZE free).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
size_mib=${1:-1024}
runs=${2:-3}
blob=${3:-fs}
case "$blob" in fs | s3) ;; *) echo "BLOB is fs or s3, not $blob" >&2; exit 2 ;; esac
reprise=${REPRISE_BIN:-build/release/reprise}
[ -x "$reprise" ] || { echo "build reprise first (cmake --build build/release --target reprise)"; exit 2; }

work=$(mktemp -d "${BENCH_DIR:-/tmp}/upload-bench.XXXXXX")
server=
stop_server() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
  fi
  if [ "$blob" = s3 ]; then scripts/s3_server.sh stop "$work/s3" >/dev/null 2>&1 || true; fi
}
trap 'stop_server; rm -rf "$work"' EXIT

input=$work/upload.wav
bytes=$((size_mib * 1024 * 1024))
le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $((($1 >> 16) & 255)))\\x$(printf %02x $((($1 >> 24) & 255)))"; }
{
  printf 'RIFF'; le32 $((bytes - 8)); printf 'WAVEfmt '; le32 16
  printf '\x01\x00\x02\x00'; le32 48000; le32 192000; printf '\x04\x00\x10\x00'
  printf 'data'; le32 $((bytes - 44))
  head -c $((bytes - 44)) /dev/urandom
} >"$input"

hash_s=()
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  sha256sum "$input" >/dev/null
  hash_s+=("$(echo "$(date +%s.%N) - $start" | bc)")
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
upload_s=()
peaks=()
for run in $(seq "$runs"); do
  rm -rf "$work/data"
  blob_env=()
  if [ "$blob" = s3 ]; then
    REPRISE_S3_MEMSTORE_BYTES=$(((size_mib + 512) * 1024 * 1024)) \
      scripts/s3_server.sh start "$work/s3" >"$work/s3-start.log" 2>&1 ||
      { cat "$work/s3-start.log"; exit 1; }
    blob_env=("REPRISE_BLOB_URL=$(cat "$work/s3/url")"
      "REPRISE_BLOB_ACCESS_KEY_ID=$(sed -n 's/^AWS_ACCESS_KEY_ID=//p' "$work/s3/env")"
      "REPRISE_BLOB_SECRET_ACCESS_KEY=$(sed -n 's/^AWS_SECRET_ACCESS_KEY=//p' "$work/s3/env")")
  fi
  env "${blob_env[@]}" REPRISE_DATA="$work/data" "$reprise" serve --no-workers \
    --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  before=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
  seconds=$(curl -fsS -o "$work/answer.json" -w '%{time_total}' -X POST -T "$input" \
    -H 'Content-Type: audio/wav' "http://127.0.0.1:$port/api/v1/assets?name=upload.wav")
  grep -q '"created":true' "$work/answer.json" || { cat "$work/answer.json"; exit 1; }
  peaks+=("$(awk '/VmHWM/ {print $2}' /proc/$server/status)")
  upload_s+=("$seconds")
  echo "run $run ($blob): ${seconds}s, server peak RSS ${peaks[-1]} KiB (idle ${before} KiB)" >&2
  stop_server
done

hash=$(median "${hash_s[@]}")
upload=$(median "${upload_s[@]}")
peak=$(printf '%s\n' "${peaks[@]}" | sort -g | tail -1)
mib_s() { awk -v s="$1" -v m="$size_mib" 'BEGIN {printf "%.0f", m / s}'; }
printf '%-34s %10s %10s\n' "" seconds MiB/s
printf '%-34s %10.2f %10s\n' "sha256sum" "$hash" "$(mib_s "$hash")"
printf '%-34s %10.2f %10s\n' "curl -T -> POST /api/v1/assets ($blob)" "$upload" "$(mib_s "$upload")"
awk -v u="$upload" -v h="$hash" 'BEGIN {printf "upload throughput / sha256sum: %.2f (must be >= 0.5)\n", h / u}'
awk -v p="$peak" 'BEGIN {printf "server peak RSS: %.1f MiB (must be < 100)\n", p / 1024}'
