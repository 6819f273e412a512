#!/usr/bin/env bash
# The README's first command: install what Debian packages are missing, build reprise in
# Release, generate sample media, ingest and process it on the embedded defaults (SQLite
# catalog + local blob directory under ./reprise-data) and show the result.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DREPRISE_TESTS=OFF >/dev/null
cmake --build build/release --target reprise
scripts/make-samples.sh samples

reprise=build/release/reprise
export REPRISE_DATA=${REPRISE_DATA:-./reprise-data}
set -x
$reprise ingest samples || true   # notes.txt is skipped as not_media
$reprise process
$reprise assets list
$reprise stages
set +x
phone=$($reprise assets list --json | grep -o '"id": *"[a-z2-7]*"[^}]*"name": *"phone.mp4"' | head -1 | sed 's/"id": *"\([a-z2-7]*\)".*/\1/')
if [ -n "$phone" ]; then
  set -x
  $reprise assets show "$phone"
  set +x
fi
echo
echo "Done. Data is in $REPRISE_DATA; thumbnails are under $REPRISE_DATA/blobs/assets/."
