#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang-16 in build/fuzz and runs each for a
# bounded time: REPRISE_FUZZ_SECONDS (default 20) per target. Media seeds are made here
# with the ffmpeg CLI (no media is committed); text seeds come from fuzz/corpus/<target>/.
# Exits non-zero when a target finds a crash, leak, hang (one input over 10 s) or memory
# blow-up; the reproducer is kept under build/fuzz/artifacts/ and, when small, printed as
# base64 so it survives a throwaway CI machine. Replay one with:
#   build/fuzz/fuzz/<target>_fuzzer <reproducer>
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${REPRISE_FUZZ_SECONDS:-20}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "REPRISE_FUZZ_SECONDS must be a positive number of seconds, not '$seconds'" >&2
  exit 2
fi

scripts/install-deps.sh

build=$root/build/fuzz
echo "== fuzz: build (clang-16, libFuzzer + ASan/UBSan) in build/fuzz"
CC=clang-16 CXX=clang++-16 cmake -S . -B "$build" -G Ninja -DREPRISE_FUZZ=ON \
  -DREPRISE_TESTS=OFF -DREPRISE_WERROR=ON >/dev/null
cmake --build "$build" --target fuzzers

work=$(mktemp -d "${TMPDIR:-/tmp}/reprise-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== fuzz: media seeds"
media_seeds=$work/seeds/media_probe
mkdir -p "$media_seeds"
seed() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
video=(-f lavfi -i "testsrc2=size=64x48:rate=10:duration=0.2")
tone=(-f lavfi -i "sine=frequency=440:sample_rate=8000:duration=0.2")
seed "${video[@]}" -frames:v 1 "$media_seeds/still.png"
seed "${video[@]}" "${tone[@]}" -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
  -metadata:s:v:0 rotate=90 -c:a aac -b:a 16k -metadata:s:a:0 language=eng \
  -movflags +faststart "$media_seeds/clip.mp4"
seed "${video[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=0.2" \
  -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 50k -c:a libopus -b:a 16k \
  "$media_seeds/clip.webm"
seed "${tone[@]}" -i "$media_seeds/still.png" -map 0:a -map 1:v -c:a libmp3lame -b:a 32k \
  -c:v copy -disposition:v attached_pic -id3v2_version 3 "$media_seeds/cover.mp3"
seed "${tone[@]}" -c:a pcm_s16le "$media_seeds/tone.wav"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if [ -x /usr/lib/llvm-16/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer
fi

targets=(media_probe blob_key config where webhook_signature byte_range json_schema)

failed=()
for name in "${targets[@]}"; do
  case $name in  # each target's own flags
    media_probe) flags=(-max_len=1048576) ;;
    blob_key) flags=(-max_len=2048) ;;  # past the 1024-byte key limit
    config) flags=(-max_len=8192 "-dict=$root/fuzz/config.dict") ;;
    where) flags=(-max_len=4200 "-dict=$root/fuzz/where.dict") ;;  # past the 4096-byte limit
    webhook_signature) flags=(-max_len=4096 "-dict=$root/fuzz/webhook_signature.dict") ;;
    byte_range) flags=(-max_len=256 "-dict=$root/fuzz/byte_range.dict") ;;
    json_schema) flags=(-max_len=8192) ;;
  esac
  corpus=$work/corpus/$name
  artifacts=$build/artifacts/$name
  log=$build/logs/$name.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  seeds=()
  for dir in "$root/fuzz/corpus/$name" "$work/seeds/$name"; do
    if [ -d "$dir" ]; then seeds+=("$dir"); fi
  done
  echo "== fuzz: $name for ${seconds}s"
  rc=0
  "$build/fuzz/${name}_fuzzer" "$corpus" "${seeds[@]}" "${flags[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
    echo "   ok: ${runs:-?} runs, ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l) inputs"
    continue
  fi
  failed+=("$name")
  echo "!! $name failed (exit $rc); last lines of $log:"
  tail -n 80 "$log"
  reproducer=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | sed 's/^Test unit written to //' || true)
  if [ -n "$reproducer" ] && [ -f "$reproducer" ]; then
    echo "!! reproducer: $reproducer ($(stat -c %s "$reproducer") bytes)"
    echo "!! replay: $build/fuzz/${name}_fuzzer $reproducer"
    if [ "$(stat -c %s "$reproducer")" -le 65536 ]; then
      echo "!! reproducer as base64 (decode with base64 -d):"
      base64 -w 100 "$reproducer"
    fi
  fi
done

# The closing line counts targets: passed means no finding in ${seconds}s.
echo "fuzz: $((${#targets[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz findings in: ${failed[*]} (reproducers under build/fuzz/artifacts/)" >&2
  exit 1
fi
