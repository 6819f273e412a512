# Shared by the bench/*.sh scripts (sourced, not run): the seeds' way of making the
# metadata and thumbnail derivatives, so every benchmark compares against the same thing,
# and the median of a list of numbers.

# The seeds' pipeline for one file: sha256sum, cp into a content-addressed store, ffprobe
# for metadata, ffmpeg for a 320 px first-frame thumbnail.
seed_style_one() {  # input, store
  local f=$1 store=$2 sum
  mkdir -p "$store/originals" "$store/meta" "$store/thumbs"
  sum=$(sha256sum "$f" | cut -d' ' -f1)
  cp "$f" "$store/originals/$sum"
  ffprobe -v error -show_format -show_streams -of json "$f" >"$store/meta/$sum.json"
  ffmpeg -hide_banner -loglevel error -nostdin -y -i "$f" -frames:v 1 \
    -vf "scale=320:-2" "$store/thumbs/$sum.jpg"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
