#!/usr/bin/env bash
# Generates a handful of sample media with FFmpeg's lavfi sources (nothing downloaded):
# a video with audio, an audio-only track, a phone video with 90° rotation metadata, an
# image, and one text file that is not media.
set -euo pipefail
out=${1:-samples}
mkdir -p "$out"
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }

ff -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=6" \
   -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=6" \
   -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 128k -shortest "$out/clip.mp4"
ff -f lavfi -i "sine=frequency=220:sample_rate=44100:duration=8" \
   -f lavfi -i "anoisesrc=color=pink:seed=7:amplitude=0.05:duration=8" \
   -filter_complex amix=inputs=2 -c:a libmp3lame -b:a 192k "$out/tone.mp3"
# A phone held upright: pixels stored landscape, display rotated 90° clockwise.
ff -f lavfi -i "smptebars=size=1280x720:rate=30:duration=4" \
   -f lavfi -i "sine=frequency=660:sample_rate=48000:duration=4" \
   -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$out/phone-raw.mp4"
# FFmpeg 5.1 writes a display matrix only when remuxing, and reads the legacy rotate tag
# counter-clockwise: 270 gives the 90-degrees-clockwise matrix phones write.
ff -i "$out/phone-raw.mp4" -c copy -metadata:s:v:0 rotate=270 "$out/phone.mp4"
rm -f "$out/phone-raw.mp4"
ff -f lavfi -i "testsrc2=size=800x600" -frames:v 1 "$out/still.png"
echo "not a media file" > "$out/notes.txt"
echo "Sample media written to $out/"
