// What only the PostgreSQL backend has: its migrations, the pool's reconnects, claims
// from many connections at once. (The shared suites run on it through CatalogBackends().)

#include "catalog/postgres/pg_catalog.h"

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "catalog/migrations/migrations.h"
#include "catalog/postgres/pg_migrator.h"
#include "catalog/postgres/pg_pool.h"
#include "tests/catalog/catalog_contract.h"
#include "tests/catalog/pg_own_server.h"
#include "tests/catalog/plan_migration_fixture.h"
#include "tests/support/backends/postgres_test_env.h"
#include "tests/support/test_support.h"

namespace reprise::catalog {
namespace {

TEST(PostgresMigrations, MatchSqliteVersionsAndNames) {
  auto pg = PostgresMigrations();
  auto sqlite = SqliteMigrations();
  ASSERT_EQ(pg.size(), sqlite.size());
  for (size_t i = 0; i < pg.size(); ++i) {
    EXPECT_EQ(pg[i].version, sqlite[i].version);
    EXPECT_EQ(pg[i].name, sqlite[i].name);
  }
}

TEST(PostgresMigrations, UpDownAndUpAgain) {
  PgTestEnv env;
  FakeClock clock;
  PgPool pool(env.url(), {});
  const int latest = static_cast<int>(PostgresMigrations().size());
  Ok(MigratePostgres(pool, PostgresMigrations(), latest, clock));
  auto applied = Ok(ReadPgMigrations(pool));
  ASSERT_EQ(static_cast<int>(applied.size()), latest);
  EXPECT_EQ(applied.back().name, PostgresMigrations().back().name);
  // Every down undoes its up: down to 0 leaves no table but schema_migrations, and up
  // again works.
  Ok(MigratePostgres(pool, PostgresMigrations(), 0, clock));
  EXPECT_TRUE(Ok(ReadPgMigrations(pool)).empty());
  auto tables = pool.Transact(PgRetry::kYes, [](pqxx::work& tx) -> Result<int64_t> {
    return tx
        .exec(
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'schema_migrations'")[0][0]
        .as<int64_t>();
  });
  EXPECT_EQ(Ok(std::move(tables)), 0);
  Ok(MigratePostgres(pool, PostgresMigrations(), latest, clock));
  EXPECT_EQ(static_cast<int>(Ok(ReadPgMigrations(pool)).size()), latest);
}

TEST(PostgresMigrations, CompactPlanMigrationKeepsEveryItemBothWays) {
  PgTestEnv env;
  FakeClock clock;
  PgPool pool(env.url(), {});
  const std::string items = plan_migration::ItemsQuery("seq");
  auto rows = [&]() {
    return Ok(pool.Transact(PgRetry::kYes, [&](pqxx::work& tx) -> Result<std::vector<std::string>> {
      std::vector<std::string> lines;
      for (const auto& row : tx.exec(items)) {
        std::string line;
        for (const auto& field : row) line += (line.empty() ? "" : "|") + field.as<std::string>();
        lines.push_back(line);
      }
      return lines;
    }));
  };
  Ok(MigratePostgres(pool, PostgresMigrations(), 11, clock));
  Ok(pool.Transact(PgRetry::kYes, [](pqxx::work& tx) -> Result<void> {
    for (const char* sql : plan_migration::kVersion11Rows) tx.exec(sql);
    return {};
  }));
  const std::vector<std::string> before = rows();
  ASSERT_EQ(before.size(), 7u);
  {
    auto catalog = Ok(env.Connect(clock));
    plan_migration::ExpectMigratedPlan(*catalog);
  }
  Ok(MigratePostgres(pool, PostgresMigrations(), 11, clock));
  EXPECT_EQ(rows(), before);
}

TEST(PostgresMigrations, RefusesANewerSchema) {
  PgTestEnv env;
  FakeClock clock;
  PgPool pool(env.url(), {});
  const int latest = static_cast<int>(PostgresMigrations().size());
  Ok(MigratePostgres(pool, PostgresMigrations(), latest, clock));
  Ok(pool.Transact(PgRetry::kYes, [latest](pqxx::work& tx) -> Result<void> {
    tx.exec_params("INSERT INTO schema_migrations VALUES ($1, 'from the future', 0)", latest + 1);
    return {};
  }));
  auto opened = PostgresCatalog::Open(env.url(), clock);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kConflict);
  EXPECT_NE(opened.error().message.find("newer"), std::string::npos) << opened.error().message;
}

TEST(PostgresMigrations, ConcurrentOpensApplyEachMigrationOnce) {
  PgTestEnv env;
  FakeClock clock;
  std::vector<std::thread> threads;
  std::vector<bool> ok(4);
  for (size_t i = 0; i < ok.size(); ++i) {
    threads.emplace_back([&, i] { ok[i] = PostgresCatalog::Open(env.url(), clock).has_value(); });
  }
  for (auto& thread : threads) thread.join();
  for (bool opened : ok) EXPECT_TRUE(opened);
  PgPool pool(env.url(), {});
  EXPECT_EQ(Ok(ReadPgMigrations(pool)).size(), PostgresMigrations().size());
}

TEST(PostgresCatalog, DescribeHidesThePassword) {
  EXPECT_EQ(RedactPgUrl("postgres://me:secret@db.example:5432/lib"),
            "postgres://me@db.example:5432/lib");
  EXPECT_EQ(RedactPgUrl("postgresql://me@db/lib"), "postgresql://me@db/lib");
}

TEST(PostgresCatalog, UnreachableServerIsUnavailable) {
  FakeClock clock;
  PgPoolOptions options;
  options.connect_attempts = 2;
  options.first_backoff = std::chrono::milliseconds(1);
  // Port 1 on loopback: nothing listens there.
  auto opened = PostgresCatalog::Open("postgres://postgres@127.0.0.1:1/none", clock, options);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable) << opened.error().ToString();
}

// A connection the server drops (as when it restarts) is replaced: the pool reconnects
// and the call succeeds. (pg_terminate_backend with a timeout returns once the backend
// is gone, so the pooled connection is already closed by the server.)
TEST(PostgresCatalog, ReconnectsAfterTheServerDropsItsConnections) {
  PgTestEnv env;
  FakeClock clock;
  auto catalog = Ok(env.Connect(clock));
  Ok(catalog->InsertAsset(MakeAsset("a1")));
  {
    pqxx::connection admin(TestPostgresUrl());
    pqxx::nontransaction(admin).exec(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = '" +
        env.database() + "'");
  }
  EXPECT_EQ(Ok(catalog->GetAsset("a1", {})).id, "a1");
  EXPECT_EQ(Ok(catalog->CountAssets({})), 1);
}

// The database goes away under a worker holding a lease and comes back: while it is
// down calls fail as kUnavailable (nothing is reported done that was not stored); once it
// is back the same catalog object reconnects and the worker finishes its job.
TEST(PostgresCatalog, SurvivesTheServerStoppingAndStartingAgain) {
  OwnServer server;
  FakeClock clock;
  PgPoolOptions options;
  options.connect_attempts = 2;
  options.first_backoff = std::chrono::milliseconds(5);
  auto catalog = Ok(PostgresCatalog::Open(server.url(), clock, options));
  NewJob job;
  job.stages = {"probe"};
  Ok(catalog->InsertAssetWithJob(MakeAsset("a1"), job));
  ClaimRequest claim;
  claim.worker_id = "w1";
  auto claimed = Ok(catalog->ClaimJobs(claim));
  ASSERT_EQ(claimed.size(), 1u);
  const int64_t derivative = Ok(catalog->StartDerivative("a1", "probe", 1, "p1", {}));

  server.Halt();
  auto done = catalog->CompleteDerivative(derivative, Done({{"ok", true}}));
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, ErrorCode::kUnavailable) << done.error().ToString();
  auto finished = catalog->FinishJob(claimed[0].id, "w1", {});
  ASSERT_FALSE(finished);
  EXPECT_EQ(finished.error().code, ErrorCode::kUnavailable) << finished.error().ToString();

  server.Resume();
  // Nothing of the failed calls was stored: the attempt still runs, the job is still held.
  EXPECT_EQ(Ok(catalog->ListDerivatives("a1")).front().state, DerivativeState::kRunning);
  EXPECT_EQ(Ok(catalog->GetJob(claimed[0].id, {})).state, JobState::kRunning);
  Ok(catalog->CompleteDerivative(derivative, Done({{"ok", true}})));
  Ok(catalog->FinishJob(claimed[0].id, "w1", {}));
  EXPECT_EQ(Ok(catalog->GetJob(claimed[0].id, {})).state, JobState::kSucceeded);
  EXPECT_EQ(Ok(catalog->GetCurrentDerivative("a1", "probe")).metadata["ok"], true);
}

// Event ids are handed out before commit; writers take turns to their commit so that ids
// increase in commit order. A reader that polls "after the last id I saw" while writers
// on other connections commit concurrently then misses no event.
TEST(PostgresCatalog, AReaderPollingAfterItsLastIdMissesNoEventOfConcurrentWriters) {
  PgTestEnv env;
  FakeClock clock;
  auto setup = Ok(env.Connect(clock));
  constexpr int kWriters = 4;
  constexpr int kChanges = 60;
  for (int w = 0; w < kWriters; ++w) Ok(setup->InsertAsset(MakeAsset("a" + std::to_string(w))));
  std::vector<std::unique_ptr<Catalog>> writers;
  for (int w = 0; w < kWriters; ++w) writers.push_back(Ok(env.Connect(clock)));
  auto reader = Ok(env.Connect(clock));

  std::atomic<int> running{kWriters};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kChanges; ++i) {
        // Every change is real (ready <-> failed), so each writes one event.
        auto set = writers[w]->SetAssetStatus(
            "a" + std::to_string(w), i % 2 == 0 ? AssetStatus::kReady : AssetStatus::kFailed);
        if (!set) ADD_FAILURE() << set.error().ToString();
      }
      --running;
    });
  }
  std::vector<int64_t> seen;
  EventQuery query;
  query.limit = 1000;
  while (true) {
    const bool last_poll = running.load() == 0;  // read before polling: nothing comes after
    auto events = reader->ListEvents(query);
    if (!events) {
      ADD_FAILURE() << events.error().ToString();
      break;
    }
    for (const auto& event : *events) seen.push_back(event.id);
    if (!events->empty()) query.after_id = events->back().id;
    if (last_poll && events->empty()) break;
  }
  for (auto& thread : threads) thread.join();

  query.after_id = 0;
  std::vector<int64_t> all;
  for (const auto& event : Ok(reader->ListEvents(query))) all.push_back(event.id);
  EXPECT_EQ(all.size(), static_cast<size_t>(kWriters * (1 + kChanges)));  // created + changes
  EXPECT_EQ(seen, all);
}

// Many workers claiming at once from separate connections: every job is claimed once.
TEST(PostgresCatalog, ConcurrentClaimsNeverShareAJob) {
  PgTestEnv env;
  FakeClock clock;
  auto catalog = Ok(env.Connect(clock));
  constexpr int kJobs = 60;
  for (int i = 0; i < kJobs; ++i) {
    NewJob job;
    job.stages = {"probe"};
    Ok(catalog->InsertAssetWithJob(MakeAsset("a" + std::to_string(i)), job));
  }
  std::vector<std::unique_ptr<Catalog>> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(Ok(env.Connect(clock)));
  std::vector<std::vector<int64_t>> claimed(workers.size());
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers.size(); ++w) {
    threads.emplace_back([&, w] {
      ClaimRequest request;
      request.worker_id = "w" + std::to_string(w);
      request.max_jobs = 3;
      while (true) {
        auto jobs = workers[w]->ClaimJobs(request);
        if (!jobs || jobs->empty()) return;
        for (const auto& job : *jobs) claimed[w].push_back(job.id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<int64_t> all;
  size_t total = 0;
  for (const auto& ids : claimed) {
    total += ids.size();
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(total, static_cast<size_t>(kJobs));
  EXPECT_EQ(all.size(), static_cast<size_t>(kJobs));
}

}  // namespace
}  // namespace reprise::catalog
