#!/usr/bin/env bash
# Installs the Debian 12 packages reprise needs to build, run and test. Skips apt-get
# entirely when everything is already installed (fast, and works offline).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  # libraries
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
  libsqlite3-dev libssl-dev libexpected-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev libcpp-httplib-dev
  # the HTTP API: URL import and outgoing webhooks (libcurl), /metrics (prometheus-cpp)
  libcurl4-openssl-dev prometheus-cpp-dev
  # the PostgreSQL catalog (libpqxx 6.4) and the PostgreSQL 15 server its tests start
  libpqxx-dev postgresql
  # the S3 blob store reads S3's XML answers with expat
  libexpat1-dev
  # the API tests replay the seeds' curl examples with the curl command itself
  curl
  # the server test reads its listening socket's backlog with ss
  iproute2
  # audio analysis stages: loudness (EBU R128), tempo, key (FFT), fingerprints
  libebur128-dev libaubio-dev libfftw3-dev libchromaprint-dev
  # the transcript stage: PocketSphinx and Debian's English model; its tests read the
  # recorded speech of pocketsphinx-testdata, its benchmark runs pocketsphinx_continuous
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us pocketsphinx-testdata pocketsphinx
  # tests and tools: the ffmpeg CLI generates sample and test media
  ffmpeg libgtest-dev libgmock-dev libbenchmark-dev clang-format
  # HTTP benchmarks (bench/)
  wrk
  # the S3 blob store's tests: a throwaway Ceph radosgw (scripts/s3_server.sh)
  ceph-mon ceph-osd radosgw ceph-common
  # fuzzing (scripts/fuzz.sh): clang-16 with libFuzzer; llvm-16 for symbolized reports
  clang-16 libclang-rt-16-dev llvm-16
  # interop tests: the reference Standard Webhooks library runs on node (npm packages below)
  nodejs
  # keyframe signals (src/stages/vision): OpenCV with Debian's Haar cascades, Tesseract
  # with its English data; the tests render text with the DejaVu fonts and find a face in
  # opencv-doc's sample photo (messi5.jpg)
  libopencv-dev opencv-data libtesseract-dev tesseract-ocr-eng fonts-dejavu-core opencv-doc
  # the JSON Schema validator of src/ai runs the published JSON-Schema-Test-Suite (tests/ai)
  json-schema-test-suite
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian ships npm as a package of its own; a NodeSource nodejs (as on some images)
# brings npm with it and conflicts with Debian's, so ask for npm only when there is none.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages the interop tests judge reprise with, pinned by their lock files; installed
# once (npm ci) and again only when a lock file changes.
cd "$(dirname "$0")/.."
for lock in tests/interop/*/package-lock.json; do
  dir=$(dirname "$lock")
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$lock" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "Installing npm packages in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done
