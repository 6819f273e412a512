#!/usr/bin/env bash
# How fast `reprise catalog copy` and `reprise blobs copy` move a library (issue 13).
#
# Catalog: a SQLite catalog at the newest schema, filled by sqlite3 with ASSETS assets,
# 3 derivatives and 1 job (with its job_stages row) each and ASSETS events (synthetic rows
# of realistic width, JSON included), is copied to a fresh PostgreSQL database (started
# by scripts/pg_server.sh) and back into a new SQLite file. Each line: rows, seconds of
# the copy, rows/s, seconds of the verification (both sides read and checksummed).
#
# Blobs: BLOBS files of BLOB_MIB MiB of random bytes in a directory store are copied to
# radosgw (scripts/s3_server.sh), back to a new directory, then verified (--verify reads
# both sides again). Each line: bytes, seconds, MB/s.
#
#   bench/library_copy.sh [ASSETS=20000] [BLOBS=16] [BLOB_MIB=16]
#
# Public tools only: bash, coreutils, sqlite3, psql, jq. REPRISE_BIN picks the binary
# (default build/release/reprise).
set -euo pipefail
cd "$(dirname "$0")/.."
assets=${1:-20000}
blobs=${2:-16}
blob_mib=${3:-16}
reprise=$(realpath "${REPRISE_BIN:-build/release/reprise}")
[ -x "$reprise" ] || { echo "build reprise first: cmake --build build/release --target reprise"; exit 2; }

work=$(mktemp -d)
cleanup() {
  scripts/pg_server.sh stop "$work/pg" >/dev/null 2>&1 || true
  scripts/s3_server.sh stop "$work/s3" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; binary $reprise"

# ---- Catalog ---------------------------------------------------------------------------
"$reprise" --data "$work/lib" migrate up >/dev/null
sqlite3 "$work/lib/catalog.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $assets)
INSERT INTO assets (id, owner, source, sha256, cid, size_bytes, original_key, original_name,
                    source_uri, status, kind, container, duration_seconds, width, height,
                    refs, created_at, updated_at)
SELECT printf('%064x', i), 'local', 'scan', printf('%064x', i), 'b' || i, 1000000 + i,
       'originals/' || printf('%064x', i), 'clip-' || i || '.mp4', 'file:///media/clip-' || i,
       'ready', 'video', 'mp4', i * 0.25, 1280, 720, '{}', 1700000000000000 + i,
       1700000000000000 + i FROM n;
INSERT INTO derivatives (asset_id, stage, stage_version, recipe, params, state, attempts,
                         metadata, blobs, bytes, is_current, created_at, started_at, finished_at)
SELECT a.id, s.stage, 1, 'r1', '{"width":320}', 'done', 1,
       '{"format":{"duration":"12.5"},"streams":[{"codec":"h264"}]}',
       '[{"key":"derivatives/' || a.id || '/' || s.stage || '","size":2048}]', 2048, 1,
       a.created_at, a.created_at, a.created_at
FROM assets a CROSS JOIN (SELECT 'probe' AS stage UNION ALL SELECT 'thumbnail'
                          UNION ALL SELECT 'waveform') s;
INSERT INTO jobs (asset_id, state, attempts, max_attempts, run_after, created_at, updated_at)
SELECT id, 'done', 1, 5, created_at, created_at, created_at FROM assets;
INSERT INTO job_stages (job_id, asset_id, stage, active)
SELECT j.id, j.asset_id, 'probe', 0 FROM jobs j;
INSERT INTO events (type, owner, asset_id, data, created_at)
SELECT 'asset.ready', 'local', id, '{"stages":["probe","thumbnail","waveform"]}', created_at
FROM assets;
COMMIT;
SQL

scripts/pg_server.sh start "$work/pg" >/dev/null
pg_admin=$(cat "$work/pg/url")
psql -q "$pg_admin" -c "CREATE DATABASE library_copy" >/dev/null
pg_url=${pg_admin%/*}/library_copy

catalog_line() {  # label, json
  jq -r --arg name "$1" '[$name, .rows_copied, .copy_seconds,
    (.rows_copied / .copy_seconds | floor), .verify_seconds, .verified] | @tsv' <<<"$2"
}
printf 'catalog copy\trows\tcopy s\trows/s\tverify s\tverified\n'
catalog_line "sqlite -> postgres" \
  "$("$reprise" catalog copy --from "sqlite:$work/lib/catalog.db" --to "$pg_url" --json 2>/dev/null)"
catalog_line "postgres -> sqlite" \
  "$("$reprise" catalog copy --from "$pg_url" --to "sqlite:$work/back/catalog.db" --json 2>/dev/null)"

# ---- Blobs -----------------------------------------------------------------------------
mkdir -p "$work/blobs/originals"
for i in $(seq 1 "$blobs"); do
  head -c $((blob_mib * 1024 * 1024)) /dev/urandom >"$work/blobs/originals/blob-$i"
done
scripts/s3_server.sh start "$work/s3" >/dev/null
set -a
# shellcheck disable=SC1091
. "$work/s3/env"
set +a
s3_url=$(cat "$work/s3/url")

blob_line() {  # label, json
  jq -r --arg name "$1" '[$name, .copied_bytes, .seconds,
    ((.copied_bytes + .skipped_bytes) / 1000000 / .seconds * 10 | floor / 10), .mismatches] | @tsv' <<<"$2"
}
printf 'blobs copy\tbytes\ts\tMB/s\tmismatches\n'
blob_line "fs -> s3" "$("$reprise" blobs copy --from "fs:$work/blobs" --to "$s3_url" --json 2>/dev/null)"
blob_line "s3 -> fs" "$("$reprise" blobs copy --from "$s3_url" --to "fs:$work/back-blobs" --json 2>/dev/null)"
blob_line "fs -> s3 --verify (all present)" \
  "$("$reprise" blobs copy --from "fs:$work/blobs" --to "$s3_url" --verify --json 2>/dev/null)"
