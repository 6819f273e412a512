#!/usr/bin/env bash
# HTTP read throughput of `reprise serve` (issue 12): wrk on loopback, 64 connections,
# against a server running with its worker pool on and idle. It uploads one small PNG
# first, so paths can name it:
#   {id}    the uploaded asset's id        (/api/v1/assets/{id})
#   {blob}  a signed URL of its original   (/blobs/originals/..?expires=..&sig=..)
# Default paths: /healthz (the router's floor) and {blob}. Each path prints requests/s and
# p50/p99 latency, and its ratio to /healthz. Public tools only: bash, curl, openssl, wrk,
# ffmpeg.
#
#   bench/http_wrk.sh [PATH...]
# REPRISE_BIN picks the binary (default build/release/reprise); DURATION (default 10s),
# CONNECTIONS (64) and THREADS (2, one per core) tune wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
reprise=${REPRISE_BIN:-build/release/reprise}
[ -x "$reprise" ] || { echo "build reprise first (cmake --build build/release --target reprise)"; exit 2; }
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(/healthz '{blob}')

work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
REPRISE_DATA=$work/data "$reprise" serve --listen "127.0.0.1:$port" \
  >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$base/healthz" >/dev/null || { cat "$work/serve.log"; exit 1; }

ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i "color=c=magenta:size=64x64" \
  -frames:v 1 "$work/small.png"
answer=$(curl -fsS -X POST --data-binary @"$work/small.png" -H 'Content-Type: image/png' \
  "$base/api/v1/assets?name=small.png")
id=$(sed -E 's/.*"asset":\{[^}]*"id":"([^"]+)".*/\1/' <<<"$answer")
key=$(sed -E 's/.*"original":\{"key":"([^"]+)".*/\1/' <<<"$answer")
# A signed URL as the server makes it (http/blob_url_signer.h): HMAC-SHA256 under the
# data directory's secret, unpadded base64url.
secret=$(cat "$work/data/url-secret")
expires=$(($(date +%s) + 3600))
sig=$(printf 'reprise-blob-url/v1\n%s\n%s' "$key" "$expires" |
  openssl dgst -sha256 -hmac "$secret" -binary | base64 -w0 | tr '+/' '-_' | tr -d '=')
blob="/blobs/$key?expires=$expires&sig=$sig"
curl -fsS -o /dev/null "$base$blob" || { echo "the signed URL is refused: $blob"; exit 1; }
# The pool processes the upload first; measure once it is idle again (its gauges say so).
for _ in $(seq 600); do
  busy=$(curl -fsS "$base/metrics" | awk '/^reprise_queue_jobs\{/ && /state="(queued|running)"/ {n += $NF} END {print n + 0}')
  [ "$busy" = 0 ] && break
  sleep 0.1
done

# wrk --latency prints "Requests/sec: N" and the 50%/99% latency lines.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }
# A warm-up run: the first 64 connections arrive at once at httplib's short listen
# backlog, and their SYN retries would count as latency of whichever path came first.
wrk -t"$threads" -c"$connections" -d2s "$base/healthz" >/dev/null
# The server's own CPU time per answer (utime + stime from /proc, in clock ticks): a figure
# that holds when other work shares the cores, unlike req/s.
ticks=$(getconf CLK_TCK)
server_cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
floor=
printf '%-58s %12s %9s %9s %11s %9s %s\n' path req/s p50_ms p99_ms cpu_us/req errors vs_healthz
for raw in /healthz "${paths[@]}"; do
  [ "$raw" = /healthz ] && [ -n "$floor" ] && continue
  path=${raw//\{id\}/"$id"}
  path=${path//\{blob\}/"$blob"}
  cpu_before=$(server_cpu)
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$base$path")
  cpu_after=$(server_cpu)
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  cpu_us=$(awk -v c=$((cpu_after - cpu_before)) -v t="$ticks" -v n="$requests" \
    'BEGIN {printf "%.0f", (n > 0 ? c / t * 1e6 / n : 0)}')
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)
  p99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
  errors=$(awk '/Non-2xx or 3xx/ {print $NF} /Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  [ -n "$floor" ] || floor=$rps
  printf '%-58s %12s %9s %9s %11s %9s %s\n' "${raw:0:58}" "$rps" "$p50" "$p99" "$cpu_us" \
    "${errors:-0}" \
    "$(awk -v a="$rps" -v b="$floor" 'BEGIN {printf "%.2f", a / b}')"
done
echo "server: $(grep -E '^(Threads|VmHWM)' /proc/$server/status | tr -s ' \t' ' ' | tr '\n' ' ')"
echo "worker pool: $(grep -o 'serving on .*' "$work/serve.log" | head -1)"
echo "jobs: $(curl -fsS "$base/metrics" | grep '^reprise_jobs_finished_total' | tr '\n' ' ')"
