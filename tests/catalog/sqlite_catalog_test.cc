// The SQLite backend: what only SQLite has (migration bookkeeping, file errors, pragmas,
// query plans, the schema the queue and backfill issues build on). The contract suite
// runs on it from catalog_contract_test.cc.

#include "catalog/sqlite/sqlite_catalog.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/migrations/migrations.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/sqlite/sqlite_handles.h"
#include "catalog/sqlite/sqlite_migrator.h"
#include "catalog/sqlite/sqlite_queries.h"
#include "catalog/where.h"
#include "tests/catalog/catalog_contract.h"
#include "tests/catalog/plan_migration_fixture.h"
#include "tests/support/test_support.h"

namespace reprise::catalog {
namespace {

// A raw connection for looking under the catalog's hood.
SqlitePtr RawOpen(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  SqlitePtr db(raw);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errstr(rc);
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_extended_result_codes(db.get(), 1);
  return db;
}

int RawExec(sqlite3* db, const std::string& sql) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
}

// All rows of a query, each row's columns joined by '|'.
std::vector<std::string> RawRows(sqlite3* db, const std::string& sql,
                                 const std::vector<SqlValue>& binds = {}) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr);
  StmtPtr stmt(raw);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db) << " in " << sql;
  std::vector<std::string> rows;
  if (rc != SQLITE_OK) return rows;
  Statement statement(db, stmt.get(), nullptr, nullptr);
  statement.BindAll(binds);
  while (true) {
    auto row = statement.Step();
    EXPECT_TRUE(row) << row.error().ToString();
    if (!row || !*row) break;
    std::string line;
    for (int c = 0; c < sqlite3_column_count(stmt.get()); ++c) {
      if (c > 0) line += "|";
      line += statement.Text(c);
    }
    rows.push_back(line);
  }
  return rows;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

class SqliteCatalogTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.Join("catalog.db"); }
  reprise::testing::TempDir dir_;
  FakeClock clock_;
};

TEST_F(SqliteCatalogTest, MigrationsAreRecordedAndReopeningIsANoOp) {
  {
    auto catalog = Ok(SqliteCatalog::Open(path(), clock_));
    EXPECT_EQ(catalog->Describe(), "sqlite:" + path());
    EXPECT_EQ(Ok(catalog->SchemaVersion()), static_cast<int>(SqliteMigrations().size()));
  }
  auto db = RawOpen(path());
  std::vector<std::string> expected;
  for (const auto& m : SqliteMigrations()) {
    expected.push_back(std::to_string(m.version) + "|" + std::string(m.name) + "|" +
                       std::to_string(clock_.NowMicros()));
  }
  const std::string query = "SELECT version, name, applied_at FROM schema_migrations";
  EXPECT_EQ(RawRows(db.get(), query), expected);

  clock_.Advance(3'600'000'000);
  { auto again = Ok(SqliteCatalog::Open(path(), clock_)); }
  EXPECT_EQ(RawRows(db.get(), query), expected) << "reopening re-applied or re-recorded";
}

TEST_F(SqliteCatalogTest, PragmasAreSet) {
  { auto catalog = Ok(SqliteCatalog::Open(path(), clock_)); }
  auto db = RawOpen(path());
  // journal_mode is stored in the file; the others are per connection and shown by the
  // contract tests (foreign keys) and the concurrency tests (busy timeout).
  EXPECT_EQ(RawRows(db.get(), "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
}

TEST_F(SqliteCatalogTest, NewerSchemaIsRefused) {
  { auto catalog = Ok(SqliteCatalog::Open(path(), clock_)); }
  auto db = RawOpen(path());
  ASSERT_EQ(RawExec(db.get(),
                    "INSERT INTO schema_migrations (version, name, applied_at)"
                    " VALUES (99, 'from_the_future', 0)"),
            SQLITE_OK);
  auto refused = SqliteCatalog::Open(path(), clock_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_NE(refused.error().message.find("99"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("newer"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find(path()), std::string::npos) << refused.error().message;
}

TEST_F(SqliteCatalogTest, DivergedMigrationHistoryIsRefused) {
  { auto catalog = Ok(SqliteCatalog::Open(path(), clock_)); }
  auto db = RawOpen(path());
  ASSERT_EQ(RawExec(db.get(), "UPDATE schema_migrations SET name = 'other' WHERE version = 1"),
            SQLITE_OK);
  auto refused = SqliteCatalog::Open(path(), clock_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_NE(refused.error().message.find("other"), std::string::npos);
}

TEST_F(SqliteCatalogTest, EveryMigrationRevertsAndReappliesCleanly) {
  auto connection = Ok(SqliteConnection::Open(path()));
  const auto migrations = SqliteMigrations();
  const int latest = static_cast<int>(migrations.size());
  const std::string tables =
      "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE "
      "'sqlite_%' ORDER BY name";
  auto db = RawOpen(path());

  Ok(MigrateSqlite(*connection, migrations, latest, clock_));
  const std::vector<std::string> full_schema = RawRows(db.get(), tables);
  for (int target = latest - 1; target >= 0; --target) {
    Ok(MigrateSqlite(*connection, migrations, target, clock_));
    EXPECT_EQ(Ok(AppliedSchemaVersion(*connection)), target);
  }
  EXPECT_EQ(RawRows(db.get(), tables), std::vector<std::string>{"schema_migrations"});
  Ok(MigrateSqlite(*connection, migrations, latest, clock_));
  EXPECT_EQ(RawRows(db.get(), tables), full_schema);

  auto beyond = MigrateSqlite(*connection, migrations, latest + 1, clock_);
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SqliteCatalogTest, FailingMigrationLeavesThePreviousVersion) {
  const Migration list[] = {
      {1, "first", "CREATE TABLE one (x INTEGER)", "DROP TABLE one"},
      {2, "broken", "CREATE TABLE two (x INTEGER); THIS IS NOT SQL", "DROP TABLE two"},
  };
  auto connection = Ok(SqliteConnection::Open(path()));
  auto result = MigrateSqlite(*connection, list, 2, clock_);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("migration 2 (broken)"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(Ok(AppliedSchemaVersion(*connection)), 1);
  auto db = RawOpen(path());
  EXPECT_EQ(RawRows(db.get(), "SELECT name FROM sqlite_master WHERE name IN ('one', 'two')"),
            std::vector<std::string>{"one"});
}

TEST_F(SqliteCatalogTest, UnusablePathsGiveAClearIoError) {
  reprise::testing::WriteFile(dir_.Join("plain-file"), "not a directory");
  for (const std::string& bad :
       {dir_.Join("plain-file/catalog.db"), dir_.path(), dir_.Join("missing-dir/catalog.db"),
        std::string("/proc/reprise-catalog.db")}) {  // /proc refuses new files even to root
    auto result = SqliteCatalog::Open(bad, clock_);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().code, ErrorCode::kIo) << result.error().ToString();
    EXPECT_NE(result.error().message.find(bad), std::string::npos) << result.error().message;
    EXPECT_EQ(result.error().origin.rfind("sqlite:", 0), 0u) << result.error().origin;
  }
  reprise::testing::WriteFile(dir_.Join("not-a-db"), std::string(8192, 'x'));
  auto garbage = SqliteCatalog::Open(dir_.Join("not-a-db"), clock_);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, ErrorCode::kIo) << garbage.error().ToString();
}

TEST_F(SqliteCatalogTest, ReadOnlyFileGivesAClearIoError) {
  { auto catalog = Ok(SqliteCatalog::Open(path(), clock_)); }
  ASSERT_EQ(::chmod(path().c_str(), 0444), 0);
  std::string folder = path().substr(0, path().rfind('/'));
  ASSERT_EQ(::chmod(folder.c_str(), 0755), 0);
  // Root writes to read-only files anyway, so when running as root (CI) the open is tried
  // in a child that has dropped to an unprivileged user; its verdict is the exit code.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto result = SqliteCatalog::Open(path(), clock_);
    if (result) ::_exit(1);
    bool clear = result.error().code == ErrorCode::kIo &&
                 result.error().message.find("read-only") != std::string::npos;
    if (!clear) std::fprintf(stderr, "unexpected: %s\n", result.error().ToString().c_str());
    ::_exit(clear ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: opened a read-only catalog; 2: unclear error; 3: "
                                       "could not drop privileges";
}

TEST_F(SqliteCatalogTest, ForeignKeysCascadeFromAssets) {
  auto catalog = Ok(SqliteCatalog::Open(path(), clock_));
  NewAsset asset;
  asset.id = "a1";
  asset.owner = "alice";
  asset.sha256_hex = "x";
  Ok(catalog->InsertAsset(asset));
  Ok(catalog->CompleteDerivative(Ok(catalog->StartDerivative("a1", "probe", 1, "p", {})),
                                 DerivativeOutcome{}));
  auto db = RawOpen(path());
  ASSERT_EQ(RawExec(db.get(), "PRAGMA foreign_keys = ON"), SQLITE_OK);
  EXPECT_EQ(RawExec(db.get(),
                    "INSERT INTO derivatives (asset_id, stage, stage_version, recipe, state,"
                    " created_at) VALUES ('ghost', 'probe', 1, 'p', 'done', 0)"),
            SQLITE_CONSTRAINT_FOREIGNKEY);
  ASSERT_EQ(RawExec(db.get(), "DELETE FROM assets WHERE id = 'a1'"), SQLITE_OK);
  EXPECT_EQ(RawRows(db.get(), "SELECT COUNT(*) FROM derivatives"), std::vector<std::string>{"0"});
}

TEST_F(SqliteCatalogTest, OnlyOneCurrentRowPerAssetAndStageEvenForRawWrites) {
  auto catalog = Ok(SqliteCatalog::Open(path(), clock_));
  NewAsset asset;
  asset.id = "a1";
  Ok(catalog->InsertAsset(asset));
  Ok(catalog->CompleteDerivative(Ok(catalog->StartDerivative("a1", "probe", 1, "p", {})),
                                 DerivativeOutcome{}));
  auto db = RawOpen(path());
  EXPECT_EQ(RawExec(db.get(),
                    "INSERT INTO derivatives (asset_id, stage, stage_version, recipe, state,"
                    " is_current, created_at) VALUES ('a1', 'probe', 1, 'q', 'done', 1, 0)"),
            SQLITE_CONSTRAINT_UNIQUE);
}

TEST_F(SqliteCatalogTest, JobStagesAllowOneActiveJobPerAssetAndStage) {
  auto catalog = Ok(SqliteCatalog::Open(path(), clock_));
  NewAsset asset;
  asset.id = "a1";
  Ok(catalog->InsertAsset(asset));
  auto db = RawOpen(path());
  ASSERT_EQ(RawExec(db.get(),
                    "INSERT INTO jobs (id, asset_id, state, max_attempts, run_after, created_at,"
                    " updated_at) VALUES (1, 'a1', 'queued', 3, 0, 0, 0),"
                    " (2, 'a1', 'queued', 3, 0, 0, 0), (3, 'a1', 'succeeded', 3, 0, 0, 0)"),
            SQLITE_OK);
  ASSERT_EQ(RawExec(db.get(),
                    "INSERT INTO job_stages (job_id, asset_id, stage, active)"
                    " VALUES (1, 'a1', 'probe', 1), (1, 'a1', 'thumbnail', 1)"),
            SQLITE_OK);
  EXPECT_EQ(RawExec(db.get(),
                    "INSERT INTO job_stages (job_id, asset_id, stage, active)"
                    " VALUES (2, 'a1', 'probe', 1)"),
            SQLITE_CONSTRAINT_UNIQUE);
  EXPECT_EQ(RawExec(db.get(),
                    "INSERT INTO job_stages (job_id, asset_id, stage, active)"
                    " VALUES (3, 'a1', 'probe', 0), (2, 'a1', 'waveform', 1)"),
            SQLITE_OK);
}

TEST_F(SqliteCatalogTest, WriterWaitsForAnotherProcessesTransaction) {
  auto catalog = Ok(SqliteCatalog::Open(path(), clock_));
  auto db = RawOpen(path());
  ASSERT_EQ(RawExec(db.get(), "BEGIN IMMEDIATE"), SQLITE_OK);
  std::thread release([&db] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(RawExec(db.get(), "COMMIT"), SQLITE_OK);
  });
  NewAsset asset;
  asset.id = "a1";
  auto inserted = catalog->InsertAsset(asset);  // blocks until the other side commits
  release.join();
  ASSERT_TRUE(inserted) << inserted.error().ToString();
  EXPECT_TRUE(inserted->created);
}

TEST_F(SqliteCatalogTest, QueryPlansUseTheIndexes) {
  { auto catalog = Ok(SqliteCatalog::Open(path(), clock_)); }
  auto db = RawOpen(path());
  ASSERT_EQ(RawExec(db.get(), "ANALYZE"), SQLITE_OK);

  AssetFilter alice;
  alice.owner = "alice";
  for (const AssetFilter& filter : {AssetFilter{}, alice}) {
    SqlQuery counts = StageStatusCountsQuery({"probe", "r1"}, filter);
    std::string plan = Join(RawRows(db.get(), "EXPLAIN QUERY PLAN " + counts.sql, counts.binds));
    EXPECT_NE(plan.find("derivatives_history"), std::string::npos) << plan;
    EXPECT_NE(plan.find("derivatives_current"), std::string::npos) << plan;
    for (const char* full_scan : {"SCAN d\n", "SCAN d ", "SCAN c\n", "SCAN c ", "TEMP B-TREE"}) {
      EXPECT_EQ(plan.find(full_scan), std::string::npos) << full_scan << " in\n" << plan;
    }
  }

  SqlQuery page = Ok(ListAssetsQuery(alice, EncodeAssetCursor(5, "x"), 10));
  std::string plan = Join(RawRows(db.get(), "EXPLAIN QUERY PLAN " + page.sql, page.binds));
  EXPECT_NE(plan.find("assets_owner_created"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;

  SqlQuery everyone = Ok(ListAssetsQuery({}, EncodeAssetCursor(5, "x"), 10));
  plan = Join(RawRows(db.get(), "EXPLAIN QUERY PLAN " + everyone.sql, everyone.binds));
  EXPECT_NE(plan.find("assets_created"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

// --where's subqueries over current results (has(), probe fields) each descend the
// partial index of current rows instead of scanning derivatives, and tags the search
// entries of the asset (what they select is
// where_oracle_test.cc's).
TEST_F(SqliteCatalogTest, WhereSubqueriesProbeTheIndexOfCurrentResults) {
  { auto catalog = Ok(SqliteCatalog::Open(path(), clock_)); }
  auto db = RawOpen(path());
  AssetFilter filter;
  filter.where = ParseWhere("has(thumbnail) or video_codec = \"h264\" or tag = \"dog\"").value();
  SqlQuery query = CountAssetsQuery(filter);
  std::string plan = Join(RawRows(db.get(), "EXPLAIN QUERY PLAN " + query.sql, query.binds));
  for (const char* alias : {"wh", "wp"}) {
    EXPECT_NE(plan.find(std::string("SEARCH ") + alias + " USING INDEX derivatives_current"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find(std::string("SCAN ") + alias), std::string::npos) << plan;
  }
  // A tag is a search entry of the asset, then its derivative by id.
  EXPECT_NE(plan.find("SEARCH wt USING INDEX search_entries_asset"), std::string::npos) << plan;
  EXPECT_NE(plan.find("SEARCH wd USING INTEGER PRIMARY KEY"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN wt"), std::string::npos) << plan;
}

TEST_F(SqliteCatalogTest, QueueQueryPlansUseTheIndexes) {
  { auto catalog = Ok(SqliteCatalog::Open(path(), clock_)); }
  auto db = RawOpen(path());
  auto plan_of = [&db](const SqlQuery& query) {
    return Join(RawRows(db.get(), "EXPLAIN QUERY PLAN " + query.sql, query.binds));
  };

  // Claims walk the claim order and stop: no sort, whatever the filters.
  ClaimRequest plain;
  plain.worker_id = "w";
  ClaimRequest filtered = plain;
  filtered.min_priority = kLivePriority;
  filtered.stages = {"probe", "thumbnail"};
  for (const auto& request : {plain, filtered}) {
    std::string plan = plan_of(ClaimJobsQuery(request, 5, 4));
    EXPECT_NE(plan.find("USING INDEX jobs_claim"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  }

  // Failed jobs are found through their partial index, pages of it without sorting.
  JobFilter failed;
  failed.state = JobState::kFailed;
  std::string plan = plan_of(Ok(ListJobsQuery(failed, EncodeJobCursor(9), 10)));
  EXPECT_NE(plan.find("jobs_ended"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  plan = plan_of(Ok(ListJobsQuery({}, "", 10)));
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;

  // Quarantine counting: the copies by content, then each copy's history.
  plan = plan_of({std::string(kQuarantineFailuresSql),
                  {std::string("thumbnail"), std::string("r1"), std::string("sha")}});
  EXPECT_NE(plan.find("assets_sha256"), std::string::npos) << plan;
  EXPECT_NE(plan.find("derivatives_history"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;

  // Stage status probes the quarantine by key, once per asset.
  plan = plan_of(StageStatusCountsQuery({"probe", "r1"}, {}));
  EXPECT_NE(plan.find("SEARCH q USING COVERING INDEX sqlite_autoindex_quarantine"),
            std::string::npos)
      << plan;
}

TEST_F(SqliteCatalogTest, UpgradingAVersionOneFileKeepsItsJobs) {
  {
    auto connection = Ok(SqliteConnection::Open(path()));
    Ok(MigrateSqlite(*connection, SqliteMigrations(), 1, clock_));
  }
  auto db = RawOpen(path());
  ASSERT_EQ(RawExec(db.get(),
                    "INSERT INTO assets (id, owner, source, sha256, cid, size_bytes, original_key,"
                    " original_name, source_uri, status, kind, created_at, updated_at)"
                    " VALUES ('a1', 'alice', 'scan', 'x', 'c', 1, 'k', 'n', 'u', 'pending',"
                    " 'video', 0, 0);"
                    "INSERT INTO jobs (id, asset_id, priority, state, max_attempts, run_after,"
                    " created_at, updated_at) VALUES (7, 'a1', 100, 'queued', 3, 0, 0, 0);"
                    "INSERT INTO job_stages (job_id, asset_id, stage) VALUES (7, 'a1', 'probe');"),
            SQLITE_OK);

  auto catalog = Ok(SqliteCatalog::Open(path(), clock_));
  EXPECT_EQ(Ok(catalog->SchemaVersion()), static_cast<int>(SqliteMigrations().size()));
  Job job = Ok(catalog->GetJob(7, {}));
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_FALSE(job.cancel_requested);
  EXPECT_EQ(job.stages, std::vector<std::string>{"probe"});
  EXPECT_TRUE(job.forced.empty()) << "a stage queued before version 3 is not forced";
  ClaimRequest claim;
  claim.worker_id = "w1";
  std::vector<Job> claimed = Ok(catalog->ClaimJobs(claim));
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, 7);
}

TEST_F(SqliteCatalogTest, CompactPlanMigrationKeepsEveryItemBothWays) {
  const std::string items = plan_migration::ItemsQuery("rowid");
  std::vector<std::string> before;
  {
    auto connection = Ok(SqliteConnection::Open(path()));
    Ok(MigrateSqlite(*connection, SqliteMigrations(), 11, clock_));
    auto db = RawOpen(path());
    for (const char* sql : plan_migration::kVersion11Rows) {
      ASSERT_EQ(RawExec(db.get(), sql), SQLITE_OK) << sqlite3_errmsg(db.get()) << " in " << sql;
    }
    before = RawRows(db.get(), items);
    ASSERT_EQ(before.size(), 7u);
  }
  {
    auto catalog = Ok(SqliteCatalog::Open(path(), clock_));
    plan_migration::ExpectMigratedPlan(*catalog);
  }
  auto connection = Ok(SqliteConnection::Open(path()));
  Ok(MigrateSqlite(*connection, SqliteMigrations(), 11, clock_));
  auto db = RawOpen(path());
  EXPECT_EQ(Join(RawRows(db.get(), items)), Join(before));
}

TEST_F(SqliteCatalogTest, JobsOfABackfillAreFoundAndLoseItWhenItIsDeleted) {
  auto catalog = Ok(SqliteCatalog::Open(path(), clock_));
  for (const auto& id : {"a1", "a2"}) Ok(catalog->InsertAsset(MakeAsset(id)));
  auto db = RawOpen(path());
  ASSERT_EQ(RawExec(db.get(),
                    "INSERT INTO backfills (id, mode, state, created_at, updated_at)"
                    " VALUES (3, 'missing', 'running', 0, 0)"),
            SQLITE_OK);
  NewJob job;
  job.asset_id = "a1";
  job.stages = {"probe"};
  job.backfill_id = 3;
  int64_t in_backfill = Ok(catalog->Enqueue(job)).job_id;
  job.asset_id = "a2";
  job.backfill_id.reset();
  Ok(catalog->Enqueue(job));

  JobFilter of_backfill;
  of_backfill.backfill_id = 3;
  std::vector<Job> jobs = Ok(catalog->ListJobs(of_backfill, {})).items;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, in_backfill);
  EXPECT_EQ(jobs[0].backfill_id, std::optional<int64_t>(3));
  SqlQuery query = Ok(ListJobsQuery(of_backfill, "", 10));
  std::string plan = Join(RawRows(db.get(), "EXPLAIN QUERY PLAN " + query.sql, query.binds));
  EXPECT_NE(plan.find("jobs_backfill"), std::string::npos) << plan;

  ASSERT_EQ(RawExec(db.get(), "PRAGMA foreign_keys = ON; DELETE FROM backfills WHERE id = 3"),
            SQLITE_OK);
  EXPECT_FALSE(Ok(catalog->GetJob(in_backfill, {})).backfill_id.has_value());
  EXPECT_TRUE(Ok(catalog->ListJobs(of_backfill, {})).items.empty());
}

TEST_F(SqliteCatalogTest, CommitsCheckpointTheWalSoItStartsOver) {
  auto connection = Ok(SqliteConnection::Open(path()));
  Ok(connection->Exec("CREATE TABLE big (x BLOB)"));
  // 45 commits of 256 pages each: past the 10,000-page mark once, so one checkpoint, and
  // the WAL starts over at the next commit.
  for (int i = 0; i < 45; ++i) {
    Ok(connection->Exec("INSERT INTO big VALUES (zeroblob(1048576))"));
  }
  auto db = RawOpen(path());
  // busy | frames in the WAL | frames checkpointed
  std::vector<std::string> wal = RawRows(db.get(), "PRAGMA wal_checkpoint(PASSIVE)");
  ASSERT_EQ(wal.size(), 1u);
  int frames = std::stoi(wal[0].substr(wal[0].find('|') + 1));
  EXPECT_GT(frames, 0);
  EXPECT_LT(frames, 5000) << wal[0] << ": the WAL was never checkpointed and reused";
}

TEST_F(SqliteCatalogTest, SameStatementCanBeUsedTwiceAtOnce) {
  auto connection = Ok(SqliteConnection::Open(path()));
  Ok(connection->Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);"));
  const std::string sql = "SELECT x FROM t WHERE x >= ? ORDER BY x";
  for (int round = 0; round < 2; ++round) {  // the second round reuses the cached copy
    auto outer = Ok(connection->Prepare(sql));
    outer.BindInt64(1);
    std::vector<int64_t> pairs;
    while (Ok(outer.Step())) {
      // The cached copy is busy: this gets a private statement, not a reset of `outer`.
      auto inner = Ok(connection->Prepare(sql));
      inner.BindInt64(outer.Int64(0));
      while (Ok(inner.Step())) pairs.push_back(outer.Int64(0) * 10 + inner.Int64(0));
    }
    EXPECT_EQ(pairs, (std::vector<int64_t>{11, 12, 13, 22, 23, 33}));
  }
}

TEST(SqliteHandles, ErrorCodesMapToRetryableOrNot) {
  EXPECT_EQ(SqliteErrorCode(SQLITE_BUSY), ErrorCode::kUnavailable);
  EXPECT_EQ(SqliteErrorCode(SQLITE_BUSY_SNAPSHOT), ErrorCode::kUnavailable);
  EXPECT_EQ(SqliteErrorCode(SQLITE_LOCKED), ErrorCode::kUnavailable);
  EXPECT_EQ(SqliteErrorCode(SQLITE_CONSTRAINT_UNIQUE), ErrorCode::kConflict);
  EXPECT_EQ(SqliteErrorCode(SQLITE_CANTOPEN), ErrorCode::kIo);
  EXPECT_EQ(SqliteErrorCode(SQLITE_IOERR_WRITE), ErrorCode::kIo);
  EXPECT_EQ(SqliteErrorCode(SQLITE_READONLY), ErrorCode::kIo);
  EXPECT_EQ(SqliteErrorCode(SQLITE_FULL), ErrorCode::kIo);
  EXPECT_EQ(SqliteErrorCode(SQLITE_MISUSE), ErrorCode::kInternal);
  Error error = SqliteError(nullptr, SQLITE_BUSY, "writing");
  EXPECT_EQ(error.origin, "sqlite:5");
  EXPECT_NE(error.message.find("writing: "), std::string::npos);
  EXPECT_TRUE(IsTransient(error.code));
}

}  // namespace
}  // namespace reprise::catalog
