-- :n queued no-op jobs, each on an asset of its own, as the bench's enqueue phase leaves them
INSERT INTO assets (id, owner, source, sha256, cid, size_bytes, original_key, original_name,
  source_uri, status, kind, created_at, updated_at)
SELECT 'floor' || i, 'bench', 'upload', lpad(to_hex(i), 64, '0'), '', 0, 'originals/floor' || i,
  'floor' || i || '.mp4', '', 'ready', 'video', 1, 1 FROM generate_series(1, :n) i;
INSERT INTO jobs (asset_id, priority, state, attempts, max_attempts, run_after, created_at, updated_at)
SELECT 'floor' || i, 0, 'queued', 0, 3, i, i, i FROM generate_series(1, :n) i;
INSERT INTO job_stages (job_id, asset_id, stage, active)
SELECT id, asset_id, 'noop', 1 FROM jobs WHERE asset_id LIKE 'floor%';
VACUUM ANALYZE;
