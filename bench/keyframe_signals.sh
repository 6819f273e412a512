#!/usr/bin/env bash
# Keyframe signals cost (issue 14, the semantics stage's signal fallback): milliseconds per
# keyframe for KeyframeAnalyzer::Analyze (decode, colours, brightness, Haar faces,
# Tesseract text) on 640x360 JPEG keyframes like the scenes stage writes (its default
# keyframe_width 640), made first with ffmpeg from lavfi sources (not timed): a test
# pattern, colour bars, a fractal, a plain picture with a caption, and opencv-doc's face
# photo scaled to 640 wide. One analyzer, one thread; the median of ROUNDS per picture.
#
#   bench/keyframe_signals.sh [ROUNDS=5]
# BENCH_BIN picks the binary (default build/release/bench/keyframe_signals_bench).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
bench=$(realpath "${BENCH_BIN:-build/release/bench/keyframe_signals_bench}")
[ -x "$bench" ] || { echo "build it first: cmake --build build/release --target keyframe_signals_bench"; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
picture() {  # name, lavfi graph
  ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i "$2" -frames:v 1 -q:v 3 "$work/$1.jpg"
}
picture testsrc2 "testsrc2=s=640x360"
picture bars "smptebars=s=640x360"
picture mandelbrot "mandelbrot=s=640x360"
picture caption "color=c=0x203050:s=640x360,drawtext=fontfile=$font:text='Evening news at nine':fontsize=32:fontcolor=white:x=(w-text_w)/2:y=h-60"
photo=/usr/share/doc/opencv-doc/examples/data/messi5.jpg
files=("$work"/testsrc2.jpg "$work"/bars.jpg "$work"/mandelbrot.jpg "$work"/caption.jpg)
if [ -f "$photo" ]; then
  ffmpeg -hide_banner -loglevel error -nostdin -y -i "$photo" -vf scale=640:-2 -q:v 3 "$work/photo.jpg"
  files+=("$work/photo.jpg")
fi
"$bench" "$rounds" "${files[@]}"
