// A frozen plan at schema version 11 (one backfill_items row per item) holding every
// outcome, for the migration 13 round trip both backends run (sqlite_catalog_test.cc,
// postgres_catalog_test.cc): the rows go in as SQL both dialects take, migration 13
// packs them, the catalog must read them as the old tables said, and migrating down must
// give the rows back as they were.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/backfill_types.h"
#include "catalog/catalog.h"

namespace reprise::catalog::plan_migration {

// Inserted in this order: plan order is insertion order.
inline constexpr const char* kVersion11Rows[] = {
    "INSERT INTO assets (id, owner, source, sha256, cid, size_bytes, original_key,"
    " original_name, source_uri, status, kind, created_at, updated_at) VALUES"
    " ('a1', 'alice', 'scan', 'x1', 'c', 1, 'k1', 'n', 'u', 'ready', 'video', 1, 1),"
    " ('a2', 'alice', 'scan', 'x2', 'c', 1, 'k2', 'n', 'u', 'ready', 'video', 2, 2),"
    " ('a3', 'alice', 'scan', 'x3', 'c', 1, 'k3', 'n', 'u', 'ready', 'video', 3, 3)",
    "INSERT INTO backfills (id, stages, mode, state, created_at, updated_at) VALUES"
    " (5, '[[\"probe\",\"p1\"],[\"thumbnail\",\"t1\"],[\"waveform\",\"w1\"]]', 'outdated',"
    " 'running', 10, 10)",
    "INSERT INTO jobs (id, asset_id, priority, state, max_attempts, run_after, backfill_id,"
    " created_at, updated_at) VALUES (7, 'a1', 100, 'queued', 3, 0, 5, 20, 20),"
    " (8, 'a1', 100, 'succeeded', 3, 0, 5, 20, 30)",
    "INSERT INTO job_stages (job_id, asset_id, stage, active) VALUES (7, 'a1', 'thumbnail', 1)",
    "INSERT INTO backfill_items (backfill_id, asset_id, stage, reason, from_recipe, to_recipe,"
    " outcome, skip_reason, error_code, job_id, updated_at, after_derivative) VALUES"
    " (5, 'a1', 'probe', 'missing', NULL, 'p1', 'processed', '', '', 8, 30, 4),"
    " (5, 'a1', 'thumbnail', 'outdated', 't0', 't1', 'queued', '', '', 7, 20, 4),"
    " (5, 'a1', 'waveform', 'missing', NULL, 'w1', 'pending', '', '', NULL, 10, 0),"
    " (5, 'a2', 'probe', 'missing', NULL, 'p1', 'skipped', 'current', '', NULL, 31, 0),"
    " (5, 'a2', 'thumbnail', 'failed', 't1', 't1', 'failed', '', 'io', 8, 32, 4),"
    " (5, 'a3', 'probe', 'missing', NULL, 'p1', 'cancelled', '', '', NULL, 33, 0),"
    " (5, 'a3', 'waveform', 'missing', NULL, 'w1', 'failed', '', 'io', 8, 34, 4)",
};

// Every column of backfill_items, a row per line, in plan order (`order`: the backend's
// plan order column); NULLs read as '-'.
inline std::string ItemsQuery(const std::string& order) {
  return "SELECT backfill_id, asset_id, stage, reason, COALESCE(from_recipe, '-'), to_recipe,"
         " outcome, skip_reason, error_code, COALESCE(job_id, -1), updated_at,"
         " after_derivative FROM backfill_items ORDER BY " +
         order;
}

// What the catalog must read from the migrated plan.
inline void ExpectMigratedPlan(Catalog& catalog) {
  auto items = catalog.ListBackfillItems(5, std::nullopt, 0, 100);
  ASSERT_TRUE(items) << items.error().ToString();
  std::vector<std::string> got;
  for (const auto& i : *items) {
    got.push_back(i.asset_id + " " + i.stage + " " + i.reason + " " + i.from_recipe + ">" +
                  i.to_recipe + " " + std::string(Name(i.outcome)) + " " + i.skip_reason + " " +
                  i.error_code + " " + std::to_string(i.job_id) + " " +
                  std::to_string(i.updated_at));
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "a1 probe missing >p1 processed   8 30",
                     "a1 thumbnail outdated t0>t1 queued   7 20",
                     "a1 waveform missing >w1 pending   0 10",
                     "a2 probe missing >p1 skipped current  0 31",
                     "a2 thumbnail failed t1>t1 failed  io 8 32",
                     "a3 probe missing >p1 cancelled   0 33",
                     "a3 waveform missing >w1 failed  io 8 34",
                 }));
  auto failed = catalog.ListBackfillItems(5, ItemOutcome::kFailed, 1, 100);
  ASSERT_TRUE(failed) << failed.error().ToString();
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].asset_id, "a3");

  auto counts = catalog.CountBackfillItems(5);
  ASSERT_TRUE(counts) << counts.error().ToString();
  EXPECT_EQ(counts->total, 7);
  for (auto [outcome, n] : {std::pair{ItemOutcome::kPending, 1},
                            {ItemOutcome::kQueued, 1},
                            {ItemOutcome::kProcessed, 1},
                            {ItemOutcome::kSkipped, 1},
                            {ItemOutcome::kFailed, 2},
                            {ItemOutcome::kCancelled, 1}}) {
    EXPECT_EQ(counts->Count(outcome), n) << Name(outcome);
  }
  EXPECT_EQ(counts->skipped_by_reason, (std::map<std::string, int64_t>{{"current", 1}}));
  EXPECT_EQ(counts->failed_by_code, (std::map<std::string, int64_t>{{"io", 2}}));
  EXPECT_EQ(counts->failed_examples.at("io"), (std::vector<std::string>{"a2", "a3"}));
  EXPECT_EQ(counts->active_jobs, 1);
  auto backlog = catalog.CountUndispatchedBackfillItems({BackfillState::kRunning}, {});
  ASSERT_TRUE(backlog) << backlog.error().ToString();
  ASSERT_EQ(backlog->size(), 1u);
  EXPECT_EQ((*backlog)[0].items, 1);
  EXPECT_EQ((*backlog)[0].assets, 1);
}

}  // namespace reprise::catalog::plan_migration
