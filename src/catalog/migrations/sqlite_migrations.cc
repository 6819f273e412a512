// SQLite schema history. Types are spelled the portable way (TEXT, BIGINT, INTEGER,
// DOUBLE PRECISION) so the PostgreSQL list can mirror this one almost word for word;
// booleans are INTEGER 0/1 and JSON documents are TEXT holding compact JSON.
//
// Enum-valued columns (status, kind, state, ...) hold the lower_snake names from
// catalog/types.h and deliberately carry no CHECK list: adding a value to an enum must
// not force SQLite's table rebuild over a million rows. The code validates them on read.

#include "catalog/migrations/migrations.h"

namespace reprise::catalog {
namespace {

// Version 1: assets and their derivative history (used now), jobs and backfills (the
// schema the queue and backfill engine build on).
constexpr std::string_view kInitialUp = R"sql(
CREATE TABLE assets (
  id               TEXT    NOT NULL PRIMARY KEY,
  owner            TEXT    NOT NULL,
  source           TEXT    NOT NULL,
  sha256           TEXT    NOT NULL,
  cid              TEXT    NOT NULL,
  size_bytes       BIGINT  NOT NULL,
  original_key     TEXT    NOT NULL,
  original_name    TEXT    NOT NULL,
  source_uri       TEXT    NOT NULL,
  status           TEXT    NOT NULL,
  kind             TEXT    NOT NULL,
  container        TEXT    NOT NULL DEFAULT '',
  duration_seconds DOUBLE PRECISION,
  width            INTEGER,
  height           INTEGER,
  parent_id        TEXT    REFERENCES assets (id) ON DELETE SET NULL,
  refs             TEXT    NOT NULL DEFAULT '{}',
  created_at       BIGINT  NOT NULL,
  updated_at       BIGINT  NOT NULL
);
-- Listing pages walk (created_at, id); owner-scoped listing is the common case.
CREATE INDEX assets_owner_created ON assets (owner, created_at, id);
CREATE INDEX assets_created ON assets (created_at, id);
CREATE INDEX assets_status ON assets (status);
CREATE INDEX assets_kind ON assets (kind);
CREATE INDEX assets_owner_sha256 ON assets (owner, sha256);
CREATE INDEX assets_parent ON assets (parent_id);

-- One row per attempt of a stage on an asset; rows are never overwritten by a later
-- attempt. is_current marks the result served for (asset_id, stage).
CREATE TABLE derivatives (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  asset_id      TEXT    NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  stage         TEXT    NOT NULL,
  stage_version INTEGER NOT NULL,
  recipe        TEXT    NOT NULL,
  params        TEXT    NOT NULL DEFAULT '{}',
  state         TEXT    NOT NULL,
  skip_reason   TEXT    NOT NULL DEFAULT '',
  error_code    TEXT    NOT NULL DEFAULT '',
  error_message TEXT    NOT NULL DEFAULT '',
  attempts      INTEGER NOT NULL DEFAULT 1,
  metadata      TEXT    NOT NULL DEFAULT '{}',
  blobs         TEXT    NOT NULL DEFAULT '[]',
  bytes         BIGINT  NOT NULL DEFAULT 0,
  is_current    INTEGER NOT NULL DEFAULT 0,
  created_at    BIGINT  NOT NULL,
  started_at    BIGINT,
  finished_at   BIGINT
);
-- The database, not the code, guarantees a single current result per (asset, stage).
CREATE UNIQUE INDEX derivatives_current ON derivatives (asset_id, stage) WHERE is_current = 1;
-- Latest attempt of a recipe (stage status), attempt counting, history by asset.
CREATE INDEX derivatives_history ON derivatives (asset_id, stage, recipe, id);

CREATE TABLE backfills (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  owner       TEXT,
  stages      TEXT    NOT NULL DEFAULT '[]',
  mode        TEXT    NOT NULL,
  filter      TEXT    NOT NULL DEFAULT '{}',
  options     TEXT    NOT NULL DEFAULT '{}',
  state       TEXT    NOT NULL,
  counters    TEXT    NOT NULL DEFAULT '{}',
  created_at  BIGINT  NOT NULL,
  updated_at  BIGINT  NOT NULL,
  started_at  BIGINT,
  finished_at BIGINT
);
CREATE INDEX backfills_state ON backfills (state, id);
CREATE INDEX backfills_owner ON backfills (owner, id);

-- A job's stages live in job_stages (below), not in a JSON column, so uniqueness per
-- (asset, stage) can be enforced by an index.
CREATE TABLE jobs (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  asset_id           TEXT    NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  priority           INTEGER NOT NULL DEFAULT 0,
  state              TEXT    NOT NULL,
  attempts           INTEGER NOT NULL DEFAULT 0,
  max_attempts       INTEGER NOT NULL,
  run_after          BIGINT  NOT NULL,
  lease_owner        TEXT,
  lease_expires_at   BIGINT,
  backfill_id        INTEGER REFERENCES backfills (id) ON DELETE SET NULL,
  last_error_code    TEXT    NOT NULL DEFAULT '',
  last_error_message TEXT    NOT NULL DEFAULT '',
  created_at         BIGINT  NOT NULL,
  updated_at         BIGINT  NOT NULL,
  started_at         BIGINT,
  finished_at        BIGINT
);
-- Claiming: the best queued job whose run_after has come; small because only queued
-- rows are in it.
CREATE INDEX jobs_claim ON jobs (priority DESC, run_after, id) WHERE state = 'queued';
-- Reaping: running jobs by lease expiry.
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_asset ON jobs (asset_id, id);
CREATE INDEX jobs_backfill ON jobs (backfill_id, state);
CREATE INDEX jobs_state ON jobs (state, id);

-- The stages of a job, one row each. `active` is 1 while the job is queued or running;
-- the partial unique index makes a second queued-or-running job for the same
-- (asset, stage) a constraint violation, so enqueue merges instead of duplicating.
CREATE TABLE job_stages (
  job_id   INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  asset_id TEXT    NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  stage    TEXT    NOT NULL,
  active   INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (job_id, stage)
);
CREATE UNIQUE INDEX job_stages_active ON job_stages (asset_id, stage) WHERE active = 1;
CREATE INDEX job_stages_asset ON job_stages (asset_id, stage);

-- A backfill's frozen plan: the (asset, stage) pairs selected when it was created, why,
-- and how each ended, so a run resumes and audits exactly.
CREATE TABLE backfill_items (
  backfill_id   INTEGER NOT NULL REFERENCES backfills (id) ON DELETE CASCADE,
  asset_id      TEXT    NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  stage         TEXT    NOT NULL,
  reason        TEXT    NOT NULL,
  from_recipe   TEXT,
  to_recipe     TEXT    NOT NULL DEFAULT '',
  outcome       TEXT    NOT NULL DEFAULT 'pending',
  skip_reason   TEXT    NOT NULL DEFAULT '',
  error_code    TEXT    NOT NULL DEFAULT '',
  job_id        INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
  updated_at    BIGINT  NOT NULL,
  PRIMARY KEY (backfill_id, asset_id, stage)
);
CREATE INDEX backfill_items_outcome ON backfill_items (backfill_id, outcome, asset_id);
CREATE INDEX backfill_items_asset ON backfill_items (asset_id);
CREATE INDEX backfill_items_job ON backfill_items (job_id);
)sql";

// Children before parents so no foreign key is left dangling while dropping.
constexpr std::string_view kInitialDown = R"sql(
DROP TABLE backfill_items;
DROP TABLE job_stages;
DROP TABLE jobs;
DROP TABLE backfills;
DROP TABLE derivatives;
DROP TABLE assets;
)sql";

// Version 2: what the durable queue needs beyond version 1. A running job's cancellation
// is a flag its worker reads at the next heartbeat; quarantine remembers content that
// failed one stage's recipe again and again, keyed by content so every copy of it (any
// owner) is skipped alike.
//
// It also trims the jobs indexes of version 1 that every state change had to rewrite: a
// job moves queued -> running -> succeeded in three transactions, and each index holding
// `state` costs a page or two of WAL per move. jobs_claim (queued) and jobs_lease
// (running) already find the live states; what remains to index is the few finished
// jobs someone asks for (failed, cancelled) and jobs that belong to a backfill. Listing
// succeeded jobs walks the primary key, where nearly every job is one.
constexpr std::string_view kQueueUp = R"sql(
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;

DROP INDEX jobs_state;
CREATE INDEX jobs_ended ON jobs (state, id) WHERE state IN ('failed', 'cancelled');
DROP INDEX jobs_backfill;
CREATE INDEX jobs_backfill ON jobs (backfill_id) WHERE backfill_id IS NOT NULL;

CREATE TABLE quarantine (
  sha256        TEXT    NOT NULL,
  stage         TEXT    NOT NULL,
  recipe        TEXT    NOT NULL,
  failures      INTEGER NOT NULL,
  error_code    TEXT    NOT NULL DEFAULT '',
  error_message TEXT    NOT NULL DEFAULT '',
  created_at    BIGINT  NOT NULL,
  PRIMARY KEY (sha256, stage, recipe)
);
-- Counting the failures of one content over all its copies: the copies by sha256, then
-- derivatives_history per copy.
CREATE INDEX assets_sha256 ON assets (sha256);
)sql";

constexpr std::string_view kQueueDown = R"sql(
DROP INDEX assets_sha256;
DROP TABLE quarantine;
DROP INDEX jobs_backfill;
CREATE INDEX jobs_backfill ON jobs (backfill_id, state);
DROP INDEX jobs_ended;
CREATE INDEX jobs_state ON jobs (state, id);
ALTER TABLE jobs DROP COLUMN cancel_requested;
)sql";

// Version 3: what the backfill engine needs. A job stage may be forced (a backfill in
// mode "all" rebuilds results that are current). A backfill has one driver at a time,
// held by a lease like a job's, so a crashed driver's backfill is taken over; items are
// dispatched in plan order (rowid) per state, which the new outcome index walks without
// sorting; an item remembers the newest derivative row when it was dispatched, so only
// attempts made for it decide how it ended.
constexpr std::string_view kBackfillUp = R"sql(
ALTER TABLE job_stages ADD COLUMN force INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backfills ADD COLUMN driver TEXT;
ALTER TABLE backfills ADD COLUMN driver_expires_at BIGINT;
ALTER TABLE backfills ADD COLUMN plan TEXT NOT NULL DEFAULT '{}';
ALTER TABLE backfills ADD COLUMN stop_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE backfill_items ADD COLUMN after_derivative INTEGER NOT NULL DEFAULT 0;
DROP INDEX backfill_items_outcome;
CREATE INDEX backfill_items_outcome ON backfill_items (backfill_id, outcome);
)sql";
constexpr std::string_view kBackfillDown = R"sql(
DROP INDEX backfill_items_outcome;
CREATE INDEX backfill_items_outcome ON backfill_items (backfill_id, outcome, asset_id);
ALTER TABLE backfill_items DROP COLUMN after_derivative;
ALTER TABLE backfills DROP COLUMN stop_reason;
ALTER TABLE backfills DROP COLUMN plan;
ALTER TABLE backfills DROP COLUMN driver_expires_at;
ALTER TABLE backfills DROP COLUMN driver;
ALTER TABLE job_stages DROP COLUMN force;
)sql";

// Version 4: derivatives_history covers every column a backfill scan reads, so planning
// over a large library descends the index only, never fetching table rows at random
// (bench/backfill_plan.cc: a million-asset dry run 4.4 s -> 3.5 s on its own). Same key
// order, so every query that used it still does.
constexpr std::string_view kScanIndexUp = R"sql(
DROP INDEX derivatives_history;
CREATE INDEX derivatives_history ON derivatives
  (asset_id, stage, recipe, id, is_current, state, skip_reason, error_code);
)sql";
constexpr std::string_view kScanIndexDown = R"sql(
DROP INDEX derivatives_history;
CREATE INDEX derivatives_history ON derivatives (asset_id, stage, recipe, id);
)sql";

// Version 5: a job may leave its asset's status alone while it runs (a backfill started
// with --skip-reset), so the worker that claims it knows not to show `processing`.
constexpr std::string_view kKeepStatusUp = R"sql(
ALTER TABLE jobs ADD COLUMN keep_status INTEGER NOT NULL DEFAULT 0;
)sql";
constexpr std::string_view kKeepStatusDown = R"sql(
ALTER TABLE jobs DROP COLUMN keep_status;
)sql";

// Version 6: API tokens for `reprise serve`. Only the SHA-256 of a token is stored (the
// token itself is shown once, when created); authentication looks a token up by that
// hash. A revoked token keeps its row (revoked_at set) so `tokens list` shows its history.
constexpr std::string_view kApiTokensUp = R"sql(
CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  name         TEXT    NOT NULL,
  owner        TEXT    NOT NULL DEFAULT '',
  admin        INTEGER NOT NULL DEFAULT 0,
  token_sha256 TEXT    NOT NULL UNIQUE,
  created_at   BIGINT  NOT NULL,
  last_used_at BIGINT,
  revoked_at   BIGINT
);
)sql";
constexpr std::string_view kApiTokensDown = R"sql(
DROP TABLE api_tokens;
)sql";

// Version 7: URL imports, downloaded in the background under a lease like a job's; the
// asset is linked once the download is stored (its id derives from the content, unknown
// before). webhooks_received remembers each verified delivery so a replay is a no-op.
// Rows keep their import when the asset or parent goes (SET NULL).
constexpr std::string_view kImportsUp = R"sql(
CREATE TABLE imports (
  id               TEXT    NOT NULL PRIMARY KEY,
  owner            TEXT    NOT NULL,
  source           TEXT    NOT NULL,
  url              TEXT    NOT NULL,
  name             TEXT    NOT NULL DEFAULT '',
  kind             TEXT    NOT NULL DEFAULT '',
  metadata         TEXT    NOT NULL DEFAULT '{}',
  parent_id        TEXT    REFERENCES assets (id) ON DELETE SET NULL,
  state            TEXT    NOT NULL,
  bytes            BIGINT  NOT NULL DEFAULT 0,
  error_code       TEXT    NOT NULL DEFAULT '',
  error_message    TEXT    NOT NULL DEFAULT '',
  asset_id         TEXT    REFERENCES assets (id) ON DELETE SET NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_expires_at BIGINT,
  created_at       BIGINT  NOT NULL,
  updated_at       BIGINT  NOT NULL
);
CREATE INDEX imports_due ON imports (state, created_at, id);
CREATE INDEX imports_owner ON imports (owner, created_at);
CREATE INDEX imports_asset ON imports (asset_id);
CREATE TABLE webhooks_received (
  source      TEXT   NOT NULL,
  webhook_id  TEXT   NOT NULL,
  event       TEXT   NOT NULL DEFAULT '',
  received_at BIGINT NOT NULL,
  PRIMARY KEY (source, webhook_id)
);
)sql";
constexpr std::string_view kImportsDown = R"sql(
DROP TABLE webhooks_received;
DROP INDEX imports_asset;
DROP INDEX imports_owner;
DROP INDEX imports_due;
DROP TABLE imports;
)sql";

// Version 8: the event log and outgoing webhooks. Events are written in the transaction
// of the change they report (an outbox); AUTOINCREMENT keeps ids increasing and never
// reused after pruning, so a client's Last-Event-ID stays a valid cursor. A delivery
// keeps the exact payload it sends (every retry signs the same bytes) and one row per
// attempt, the delivery log.
constexpr std::string_view kEventsUp = R"sql(
CREATE TABLE events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  type        TEXT    NOT NULL,
  owner       TEXT    NOT NULL DEFAULT '',
  asset_id    TEXT,
  job_id      BIGINT,
  backfill_id BIGINT,
  data        TEXT    NOT NULL DEFAULT '{}',
  created_at  BIGINT  NOT NULL
);
-- An owner's stream walks its own events by id; progress throttling finds a backfill's
-- newest event.
CREATE INDEX events_owner ON events (owner, id);
CREATE INDEX events_backfill ON events (backfill_id, type, id) WHERE backfill_id IS NOT NULL;

CREATE TABLE webhook_subscriptions (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  owner       TEXT    NOT NULL DEFAULT '',
  url         TEXT    NOT NULL,
  secret      TEXT    NOT NULL,
  events      TEXT    NOT NULL DEFAULT '[]',
  description TEXT    NOT NULL DEFAULT '',
  origin      TEXT    NOT NULL DEFAULT 'api',
  created_at  BIGINT  NOT NULL,
  updated_at  BIGINT  NOT NULL
);
CREATE INDEX webhook_subscriptions_owner ON webhook_subscriptions (owner, id);

CREATE TABLE webhook_deliveries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription_id BIGINT  NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  event_id        BIGINT  NOT NULL,
  event_type      TEXT    NOT NULL,
  payload         TEXT    NOT NULL,
  state           TEXT    NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT  NOT NULL,
  last_status     INTEGER,
  last_error      TEXT    NOT NULL DEFAULT '',
  created_at      BIGINT  NOT NULL,
  updated_at      BIGINT  NOT NULL,
  finished_at     BIGINT
);
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (subscription_id, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);

CREATE TABLE webhook_attempts (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id     BIGINT  NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt         INTEGER NOT NULL,
  status_code     INTEGER,
  error           TEXT    NOT NULL DEFAULT '',
  duration_micros BIGINT  NOT NULL,
  created_at      BIGINT  NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
)sql";
constexpr std::string_view kEventsDown = R"sql(
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
DROP TABLE events;
)sql";

// Version 9: a revision per asset that the database itself raises whenever anything an
// asset's document shows changes: the asset's row, any of its derivatives (recorded,
// finished, made current or not, deleted), or the quarantine of its content (shared by
// every copy with that sha256). Triggers keep it, so no writer (of any process) can
// forget; a reader that sees the same revision twice knows nothing in between changed,
// which is what lets `reprise serve` reuse an answer it already built.
constexpr std::string_view kAssetRevisionUp = R"sql(
ALTER TABLE assets ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER assets_revision AFTER UPDATE ON assets
  WHEN NEW.revision = OLD.revision
BEGIN
  UPDATE assets SET revision = OLD.revision + 1 WHERE id = NEW.id;
END;
CREATE TRIGGER derivatives_insert_revision AFTER INSERT ON derivatives
BEGIN
  UPDATE assets SET revision = revision + 1 WHERE id = NEW.asset_id;
END;
CREATE TRIGGER derivatives_update_revision AFTER UPDATE ON derivatives
BEGIN
  UPDATE assets SET revision = revision + 1 WHERE id IN (OLD.asset_id, NEW.asset_id);
END;
CREATE TRIGGER derivatives_delete_revision AFTER DELETE ON derivatives
BEGIN
  UPDATE assets SET revision = revision + 1 WHERE id = OLD.asset_id;
END;
CREATE TRIGGER quarantine_insert_revision AFTER INSERT ON quarantine
BEGIN
  UPDATE assets SET revision = revision + 1 WHERE sha256 = NEW.sha256;
END;
CREATE TRIGGER quarantine_update_revision AFTER UPDATE ON quarantine
BEGIN
  UPDATE assets SET revision = revision + 1 WHERE sha256 IN (OLD.sha256, NEW.sha256);
END;
CREATE TRIGGER quarantine_delete_revision AFTER DELETE ON quarantine
BEGIN
  UPDATE assets SET revision = revision + 1 WHERE sha256 = OLD.sha256;
END;
)sql";
constexpr std::string_view kAssetRevisionDown = R"sql(
DROP TRIGGER quarantine_delete_revision;
DROP TRIGGER quarantine_update_revision;
DROP TRIGGER quarantine_insert_revision;
DROP TRIGGER derivatives_delete_revision;
DROP TRIGGER derivatives_update_revision;
DROP TRIGGER derivatives_insert_revision;
DROP TRIGGER assets_revision;
ALTER TABLE assets DROP COLUMN revision;
)sql";

// Version 10: a URL import whose download failed for a passing reason (5xx, 429, a
// timeout, a reset connection, DNS) waits queued until retry_at, with the error it met
// kept in error_code/error_message; a restarted server finds the time in the row.
constexpr std::string_view kImportRetriesUp = R"sql(
ALTER TABLE imports ADD COLUMN retry_at BIGINT;
)sql";
constexpr std::string_view kImportRetriesDown = R"sql(
ALTER TABLE imports DROP COLUMN retry_at;
)sql";

// Version 11: global start rates (catalog/stage_limits.h). rate_starts: one row per
// start of a rate-limited stage ("stage:NAME"); a claim counts the rows of the last
// window and deletes the older ones, so a key keeps at most its rate's worth of rows.
// rate_buckets: a backfill's token bucket ("backfill:ID"), so a driver taking over
// inherits it.
constexpr std::string_view kRateStartsUp = R"sql(
-- One row per start inside the window; the id gives copies a key.
CREATE TABLE rate_starts (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  key        TEXT    NOT NULL,
  started_at INTEGER NOT NULL
);
CREATE INDEX rate_starts_key ON rate_starts (key, started_at);
CREATE TABLE rate_buckets (
  key        TEXT    PRIMARY KEY,
  tokens     REAL    NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql";
constexpr std::string_view kRateStartsDown = R"sql(
DROP TABLE rate_buckets;
DROP TABLE rate_starts;
)sql";

// Version 12: a stage's past runs by stage, newest first (GetStageHistory: the latest
// successful runs of a stage, which a dry run asks for every stage it plans). Without it
// each ask scanned the whole derivatives table for a stage with few or no rows: a dry
// run over every stage of a million-asset library made 16 such scans, most of its time
// (docs/PERFORMANCE.md, backfill planning). Only the rows that query reads are indexed:
// with the whole of a stage indexed, SQLite (without statistics) walked that index for
// other queries naming a stage, such as a rollback's per-asset lookup and the
// quarantine count (SqliteCatalogTest.QueueQueryPlansUseTheIndexes).
constexpr std::string_view kStageHistoryUp =
    "CREATE INDEX derivatives_runs ON derivatives (stage, id)"
    " WHERE state = 'done' AND started_at IS NOT NULL AND finished_at IS NOT NULL;";
constexpr std::string_view kStageHistoryDown = "DROP INDEX derivatives_runs;";

// Version 13: compact frozen plans (catalog/backfill_plan.h). backfill_items, one row
// per (asset, stage) item, becomes backfill_plan, one row per (backfill, asset) with the
// items packed; backfill_holds says which job holds which queued item, and
// backfill_counts keeps the counts per (outcome, detail). Both ways convert the rows:
// the items of an asset are ordered by stage index wherever they are read, so the order
// of json_group_array does not matter.
constexpr std::string_view kCompactPlansUp = R"sql(
CREATE TABLE backfill_plan (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  backfill_id INTEGER NOT NULL REFERENCES backfills (id) ON DELETE CASCADE,
  asset_id    TEXT    NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  pending     INTEGER NOT NULL,
  failed      INTEGER NOT NULL DEFAULT 0,
  items       TEXT    NOT NULL
);
CREATE INDEX backfill_plan_backfill ON backfill_plan (backfill_id, seq);
CREATE INDEX backfill_plan_pending ON backfill_plan (backfill_id, seq) WHERE pending > 0;
CREATE INDEX backfill_plan_failed ON backfill_plan (backfill_id, seq) WHERE failed > 0;
CREATE INDEX backfill_plan_asset ON backfill_plan (asset_id);
CREATE TABLE backfill_holds (
  seq         INTEGER NOT NULL REFERENCES backfill_plan (seq) ON DELETE CASCADE,
  stage       TEXT    NOT NULL,
  backfill_id INTEGER NOT NULL REFERENCES backfills (id) ON DELETE CASCADE,
  job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  PRIMARY KEY (seq, stage)
);
CREATE INDEX backfill_holds_job ON backfill_holds (job_id);
CREATE INDEX backfill_holds_backfill ON backfill_holds (backfill_id, job_id);
CREATE TABLE backfill_counts (
  backfill_id INTEGER NOT NULL REFERENCES backfills (id) ON DELETE CASCADE,
  outcome     TEXT    NOT NULL,
  detail      TEXT    NOT NULL,
  n           INTEGER NOT NULL,
  PRIMARY KEY (backfill_id, outcome, detail)
);
INSERT INTO backfill_plan (backfill_id, asset_id, pending, failed, items)
SELECT backfill_id, asset_id, SUM(outcome = 'pending'), SUM(outcome = 'failed'),
  json_group_array(json(item))
FROM (SELECT i.rowid AS r, i.backfill_id, i.asset_id, i.outcome,
  json_array((SELECT CAST(s.key AS INTEGER) FROM backfills b, json_each(b.stages) s
              WHERE b.id = i.backfill_id AND s.value ->> '$[0]' = i.stage),
             i.reason, COALESCE(i.from_recipe, ''), i.outcome, i.updated_at,
             COALESCE(i.job_id, 0), i.after_derivative, i.skip_reason, i.error_code) AS item
  FROM backfill_items i ORDER BY i.rowid)
GROUP BY backfill_id, asset_id ORDER BY MIN(r);
INSERT INTO backfill_holds (seq, stage, backfill_id, job_id)
SELECT p.seq, i.stage, i.backfill_id, i.job_id FROM backfill_items i
JOIN backfill_plan p ON p.backfill_id = i.backfill_id AND p.asset_id = i.asset_id
WHERE i.outcome = 'queued' AND i.job_id IS NOT NULL;
INSERT INTO backfill_counts (backfill_id, outcome, detail, n)
SELECT backfill_id, outcome, CASE outcome WHEN 'skipped' THEN skip_reason
  WHEN 'failed' THEN error_code ELSE '' END AS detail, COUNT(*)
FROM backfill_items GROUP BY backfill_id, outcome, detail;
DROP TABLE backfill_items;
)sql";
constexpr std::string_view kCompactPlansDown = R"sql(
CREATE TABLE backfill_items (
  backfill_id   INTEGER NOT NULL REFERENCES backfills (id) ON DELETE CASCADE,
  asset_id      TEXT    NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  stage         TEXT    NOT NULL,
  reason        TEXT    NOT NULL,
  from_recipe   TEXT,
  to_recipe     TEXT    NOT NULL DEFAULT '',
  outcome       TEXT    NOT NULL DEFAULT 'pending',
  skip_reason   TEXT    NOT NULL DEFAULT '',
  error_code    TEXT    NOT NULL DEFAULT '',
  job_id        INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
  updated_at    BIGINT  NOT NULL,
  after_derivative INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (backfill_id, asset_id, stage)
);
CREATE INDEX backfill_items_outcome ON backfill_items (backfill_id, outcome);
CREATE INDEX backfill_items_asset ON backfill_items (asset_id);
CREATE INDEX backfill_items_job ON backfill_items (job_id);
INSERT INTO backfill_items (backfill_id, asset_id, stage, reason, from_recipe, to_recipe,
  outcome, skip_reason, error_code, job_id, updated_at, after_derivative)
SELECT p.backfill_id, p.asset_id, s.value ->> '$[0]', it.value ->> '$[1]',
  NULLIF(it.value ->> '$[2]', ''), s.value ->> '$[1]', it.value ->> '$[3]',
  COALESCE(it.value ->> '$[7]', ''), COALESCE(it.value ->> '$[8]', ''),
  COALESCE(h.job_id, (SELECT j.id FROM jobs j WHERE j.id = it.value ->> '$[5]')),
  it.value ->> '$[4]', COALESCE(it.value ->> '$[6]', 0)
FROM backfill_plan p JOIN backfills b ON b.id = p.backfill_id
CROSS JOIN json_each(p.items) it
JOIN json_each(b.stages) s ON s.key = it.value ->> '$[0]'
LEFT JOIN backfill_holds h ON h.seq = p.seq AND h.stage = s.value ->> '$[0]'
ORDER BY p.seq, it.value ->> '$[0]';
DROP TABLE backfill_counts;
DROP TABLE backfill_holds;
DROP TABLE backfill_plan;
)sql";

// Version 14: full-text search (catalog/search.h). search_entries holds what stages found
// (keyed by their derivative, so entries go with it) and asset names (no derivative;
// they go with the asset); search_fts indexes their text as an external-content FTS5
// table kept in step by the *_fts triggers (which `catalog copy` keeps while writing).
// unicode61 without diacritic removal cuts words as PostgreSQL's search_vector does.
constexpr std::string_view kSearchUp = R"sql(
CREATE TABLE search_entries (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  derivative_id INTEGER REFERENCES derivatives (id) ON DELETE CASCADE,
  asset_id      TEXT    NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  stage         TEXT    NOT NULL DEFAULT '',
  kind          TEXT    NOT NULL,
  scene         INTEGER NOT NULL DEFAULT -1,
  start_s       DOUBLE PRECISION NOT NULL DEFAULT -1,
  end_s         DOUBLE PRECISION NOT NULL DEFAULT -1,
  text          TEXT    NOT NULL
);
CREATE INDEX search_entries_derivative ON search_entries (derivative_id);
CREATE INDEX search_entries_asset ON search_entries (asset_id);
CREATE VIRTUAL TABLE search_fts USING fts5(text, content = 'search_entries',
  content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER search_entries_insert_fts AFTER INSERT ON search_entries
BEGIN
  INSERT INTO search_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER search_entries_delete_fts AFTER DELETE ON search_entries
BEGIN
  INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
END;
CREATE TRIGGER assets_search_name AFTER INSERT ON assets WHEN NEW.original_name <> ''
BEGIN
  INSERT INTO search_entries (asset_id, kind, text) VALUES (NEW.id, 'name', NEW.original_name);
END;
INSERT INTO search_entries (asset_id, kind, text)
SELECT id, 'name', original_name FROM assets WHERE original_name <> '' ORDER BY created_at, id;
)sql";
constexpr std::string_view kSearchDown = R"sql(
DROP TRIGGER assets_search_name;
DROP TRIGGER search_entries_delete_fts;
DROP TRIGGER search_entries_insert_fts;
DROP TABLE search_fts;
DROP TABLE search_entries;
)sql";

// Version 15: requests to external services counted across every process on the
// catalog (catalog/service_permits.h): one row per permit held, swept when its lease ends.
constexpr std::string_view kServicePermitsUp = R"sql(
CREATE TABLE service_permits (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  service     TEXT    NOT NULL,
  holder      TEXT    NOT NULL,
  acquired_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE INDEX service_permits_service ON service_permits (service, expires_at);
)sql";
constexpr std::string_view kServicePermitsDown = "DROP TABLE service_permits;";

constexpr Migration kMigrations[] = {
    {1, "initial", kInitialUp, kInitialDown},
    {2, "queue", kQueueUp, kQueueDown},
    {3, "backfill", kBackfillUp, kBackfillDown},
    {4, "scan index", kScanIndexUp, kScanIndexDown},
    {5, "keep status", kKeepStatusUp, kKeepStatusDown},
    {6, "api tokens", kApiTokensUp, kApiTokensDown},
    {7, "imports", kImportsUp, kImportsDown},
    {8, "events", kEventsUp, kEventsDown},
    {9, "asset revision", kAssetRevisionUp, kAssetRevisionDown},
    {10, "import retries", kImportRetriesUp, kImportRetriesDown},
    {11, "rate starts", kRateStartsUp, kRateStartsDown},
    {12, "stage history", kStageHistoryUp, kStageHistoryDown},
    {13, "compact plans", kCompactPlansUp, kCompactPlansDown},
    {14, "search", kSearchUp, kSearchDown},
    {15, "service permits", kServicePermitsUp, kServicePermitsDown},
};

}  // namespace

std::span<const Migration> SqliteMigrations() { return kMigrations; }

}  // namespace reprise::catalog
