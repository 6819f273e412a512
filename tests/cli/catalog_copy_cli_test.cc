// `reprise catalog copy` between SQLite and PostgreSQL on a library built the real way
// (ingest and processing by the binary, a backfill, a token, a webhook with deliveries
// and attempts), with the tables the CLI cannot reach filled through the catalog (an
// asset with a parent, a quarantine entry, an import and a received webhook), so every
// table of the schema holds rows. Each copy must match table by table (counts and
// checksums); the catalog then answers the same through its interface on both sides.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "app/backends/migrations.h"
#include "catalog/catalog_wrapper.h"
#include "catalog/postgres/pg_catalog.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/table_copy.h"
#include "core/clock.h"
#include "core/log.h"
#include "services/tokens_service.h"
#include "tests/cli/cli_fixture.h"
#include "tests/support/backends/postgres_test_env.h"

namespace reprise {
namespace {

using catalog::Catalog;

class PostgresCatalogCopy : public CliTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(
        Run({"webhooks", "add", "https://hooks.example/a", "--event", "asset.ready"}).exit_code, 0);
    const std::string library = Library({samples_->Mp3(), samples_->PngImage()});
    ASSERT_EQ(Run({"ingest", library}).exit_code, 0);
    // A stage rate and a backfill rate, so the catalog's rate windows and buckets hold rows.
    ASSERT_EQ(Run({"process"}, {"REPRISE_STAGES_PROBE_RATE=1000/s"}).exit_code, 0);
    ASSERT_EQ(Run({"backfill", "probe", "--all", "--yes", "--rate", "1000/s"}).exit_code, 0);
    json token = RunJson({"tokens", "create", "--owner", "alice", "--name", "laptop"});
    token_ = token["token"].get<std::string>();
    ASSERT_FALSE(token_.empty());
    FillTheRest();
  }

  std::string SqliteUrl() const { return "sqlite:" + data_.Join("catalog.db"); }

  std::unique_ptr<Catalog> OpenSqlite(const std::string& path) {
    auto opened = catalog::SqliteCatalog::Open(path, clock_, /*create=*/false);
    EXPECT_TRUE(opened) << opened.error().ToString();
    return opened ? std::move(*opened) : nullptr;
  }

  std::unique_ptr<Catalog> OpenPostgres(const std::string& url) {
    auto opened = catalog::PostgresCatalog::Open(url, clock_);
    EXPECT_TRUE(opened) << opened.error().ToString();
    return opened ? std::move(*opened) : nullptr;
  }

  // The tables the command line does not fill: an asset derived from another, a
  // quarantine entry, a received webhook with its import, a webhook attempt.
  void FillTheRest() {
    auto library = OpenSqlite(data_.Join("catalog.db"));
    ASSERT_TRUE(library);
    auto page = library->ListAssets({}, {"", 10});
    ASSERT_TRUE(page && !page->items.empty());
    const catalog::Asset& parent = page->items.front();
    catalog::NewAsset child;
    // Sorts before every hex id, so key order puts the child before its parent.
    child.id = "0-child";
    child.owner = parent.owner;
    child.sha256_hex = std::string(64, 'c');
    child.cid = "bchild";
    child.size_bytes = 3;
    child.original_key = "originals/child";
    child.original_name = "child.mp3";
    child.source_uri = "file:///child.mp3";
    child.parent_id = parent.id;
    ASSERT_TRUE(library->InsertAsset(child));
    auto failed = library->StartDerivative(child.id, "probe", 1, "r1", json::object());
    ASSERT_TRUE(failed);
    catalog::DerivativeOutcome outcome;
    outcome.state = catalog::DerivativeState::kFailed;
    outcome.error = Error{ErrorCode::kUnsupportedMedia, "not media", ""};
    ASSERT_TRUE(library->CompleteDerivative(*failed, outcome));
    ASSERT_TRUE(library->QuarantineIfRepeated(child.id, "probe", "r1", 1));
    // A running backfill with a queued item, so backfill_holds holds a row.
    catalog::NewBackfill held;
    held.stages = {{"thumbnail", "r1"}};
    held.state = catalog::BackfillState::kRunning;
    auto backfill = library->CreateBackfill(held, {}, [](const catalog::StagePair& pair) {
      return catalog::PairDecision{pair.asset_id == "0-child" ? catalog::PairDecision::kSelect
                                                              : catalog::PairDecision::kLeave,
                                   "missing"};
    });
    ASSERT_TRUE(backfill) << backfill.error().ToString();
    catalog::DispatchRequest dispatch;
    dispatch.max_assets = 1;
    auto dispatched = library->DispatchBackfill(backfill->id, dispatch);
    ASSERT_TRUE(dispatched) << dispatched.error().ToString();
    ASSERT_EQ(dispatched->items_queued, 1);
    // A request to a service in flight, so service_permits holds a row.
    catalog::PermitRequest permit;
    permit.service = "openai";
    permit.holder = "host:1";
    permit.max_concurrent = 3;
    permit.lease_micros = 3'600'000'000;
    auto granted = library->AcquireServicePermit(permit);
    ASSERT_TRUE(granted && granted->granted());
    catalog::NewImport import;
    import.id = "imp_copytest";
    import.owner = parent.owner;
    import.url = "https://media.example/a.mp3";
    ASSERT_TRUE(library->RecordWebhook({"replicate", "wh_1", "prediction succeeded"}, {import}));
    auto claim = library->ClaimWebhookDeliveries(10, 1'000'000);
    ASSERT_TRUE(claim) << claim.error().ToString();
    if (claim->deliveries.empty()) return;  // a sender got there first: its attempts count
    catalog::WebhookAttempt attempt;
    attempt.attempt = 1;
    attempt.error = "connection refused";
    attempt.duration_micros = 1200;
    ASSERT_TRUE(library->RecordWebhookAttempt(claim->deliveries.front().id, attempt,
                                              clock_.NowMicros() + 60'000'000));
  }

  // Every table lists the same rows and checksum on both sides, and every table has rows.
  void ExpectIdentical(const json& summary) {
    EXPECT_TRUE(summary["verified"].get<bool>()) << summary.dump(2);
    EXPECT_GE(summary["tables"].size(), 14u) << summary.dump(2);
    for (const auto& table : summary["tables"]) {
      EXPECT_TRUE(table["match"].get<bool>()) << table.dump();
      EXPECT_GT(table["source_rows"].get<int64_t>(), 0) << table["table"] << " is empty";
    }
  }

  // The two catalogs answer alike: derivative history, jobs, the backfill, the token.
  void ExpectSameAnswers(Catalog& a, Catalog& b) {
    auto assets = a.ListAssets({}, {"", 100});
    ASSERT_TRUE(assets);
    for (const auto& asset : assets->items) {
      auto other = b.GetAsset(asset.id, {});
      ASSERT_TRUE(other) << asset.id;
      EXPECT_EQ(other->revision, asset.revision) << "the copy bumped the revision";
      EXPECT_EQ(other->parent_id, asset.parent_id);
      auto history = a.ListDerivatives(asset.id);
      auto copied = b.ListDerivatives(asset.id);
      ASSERT_TRUE(history && copied);
      ASSERT_EQ(history->size(), copied->size());
      for (size_t i = 0; i < history->size(); ++i) {
        EXPECT_EQ((*history)[i].id, (*copied)[i].id);
        EXPECT_EQ((*history)[i].state, (*copied)[i].state);
        EXPECT_EQ((*history)[i].attempts, (*copied)[i].attempts);
        EXPECT_EQ((*history)[i].current, (*copied)[i].current);
      }
    }
    // Full-text search finds the same in the copy (its index is built as rows arrive).
    auto found = a.Search({"mp3", {}, 20, ""}, {});
    auto found_there = b.Search({"mp3", {}, 20, ""}, {});
    ASSERT_TRUE(found && found_there);
    EXPECT_FALSE(found->hits.empty());
    ASSERT_EQ(found->hits.size(), found_there->hits.size());
    for (size_t i = 0; i < found->hits.size(); ++i) {
      EXPECT_EQ(found->hits[i].asset_id, found_there->hits[i].asset_id);
      EXPECT_EQ(found->hits[i].text, found_there->hits[i].text);
    }
    auto jobs = a.ListJobs({}, {"", 1000});
    auto copied_jobs = b.ListJobs({}, {"", 1000});
    ASSERT_TRUE(jobs && copied_jobs);
    ASSERT_EQ(jobs->items.size(), copied_jobs->items.size());
    for (size_t i = 0; i < jobs->items.size(); ++i) {
      EXPECT_EQ(jobs->items[i].id, copied_jobs->items[i].id);
      EXPECT_EQ(jobs->items[i].state, copied_jobs->items[i].state);
    }
    auto backfills = a.ListBackfills({}, 10);
    ASSERT_TRUE(backfills);
    ASSERT_EQ(backfills->size(), 2u) << "the CLI's, and FillTheRest's with a queued item";
    for (const auto& each : *backfills) {
      const int64_t backfill = each.id;
      auto counts = a.CountBackfillItems(backfill);
      auto copied_counts = b.CountBackfillItems(backfill);
      ASSERT_TRUE(counts && copied_counts);
      EXPECT_EQ(counts->total, copied_counts->total);
      EXPECT_EQ(counts->by_outcome, copied_counts->by_outcome);
      auto items = a.ListBackfillItems(backfill, std::nullopt, 0, 1000);
      auto copied_items = b.ListBackfillItems(backfill, std::nullopt, 0, 1000);
      ASSERT_TRUE(items && copied_items);
      ASSERT_EQ(items->size(), copied_items->size());
      for (size_t i = 0; i < items->size(); ++i) {
        EXPECT_EQ((*items)[i].asset_id, (*copied_items)[i].asset_id) << "plan order at " << i;
      }
    }
    services::TokensService tokens(b, clock_, MakeNullLogger());
    auto caller = tokens.Authenticate(token_);
    ASSERT_TRUE(caller) << caller.error().ToString();
    EXPECT_EQ(caller->owner, "alice");
  }

  // New rows on the copy get ids past the copied ones.
  void ExpectFreshIds(Catalog& copy) {
    auto asset = copy.ListAssets({}, {"", 1});
    ASSERT_TRUE(asset && !asset->items.empty());
    auto history = copy.ListDerivatives(asset->items.front().id);
    ASSERT_TRUE(history);
    int64_t highest = 0;
    auto all = copy.ListAssets({}, {"", 100});
    ASSERT_TRUE(all);
    for (const auto& item : all->items) {
      auto derivatives = copy.ListDerivatives(item.id);
      ASSERT_TRUE(derivatives);
      for (const auto& d : *derivatives) highest = std::max(highest, d.id);
    }
    auto started = copy.StartDerivative(asset->items.front().id, "probe", 1, "r9", json::object());
    ASSERT_TRUE(started) << started.error().ToString();
    EXPECT_GT(*started, highest);
  }

  SystemClock clock_;
  std::string token_;
};

TEST_F(PostgresCatalogCopy, SqliteToPostgresAndBackKeepsEveryRow) {
  catalog::PgTestEnv pg;
  json there = RunJson({"catalog", "copy", "--from", SqliteUrl(), "--to", pg.url()});
  ExpectIdentical(there);
  EXPECT_GT(there["rows_copied"].get<int64_t>(), 0);
  const std::string back = "sqlite:" + input_.Join("back.db");
  json returned = RunJson({"catalog", "copy", "--from", pg.url(), "--to", back});
  ExpectIdentical(returned);
  // The round trip ends where it began, checksum for checksum.
  json same = RunJson({"catalog", "copy", "--verify-only", "--from", SqliteUrl(), "--to", back});
  ExpectIdentical(same);
  EXPECT_EQ(same["rows_copied"], 0);

  // Checked last: authenticating records the token's use.
  auto source = OpenSqlite(data_.Join("catalog.db"));
  auto copy = OpenPostgres(pg.url());
  auto copy_back = OpenSqlite(input_.Join("back.db"));
  ASSERT_TRUE(source && copy && copy_back);
  ExpectSameAnswers(*source, *copy);
  ExpectSameAnswers(*source, *copy_back);
  ExpectFreshIds(*copy);
  ExpectFreshIds(*copy_back);
}

// A destination whose writes stop after `healthy` batches, as a copy killed midway.
class StopsAfter final : public catalog::CatalogWrapper {
 public:
  StopsAfter(Catalog& target, int healthy) : CatalogWrapper(target), healthy_(healthy) {}
  Result<void> WriteTableRows(const catalog::RowWrite& write) override {
    if (healthy_-- <= 0) return Fail(ErrorCode::kUnavailable, "connection lost (injected)");
    return CatalogWrapper::WriteTableRows(write);
  }

 private:
  int healthy_;
};

TEST_F(PostgresCatalogCopy, AnInterruptedCopyResumesToTheSameRows) {
  catalog::PgTestEnv pg;
  auto source = OpenSqlite(data_.Join("catalog.db"));
  auto destination = OpenPostgres(pg.url());
  ASSERT_TRUE(source && destination);
  {
    StopsAfter interrupted(*destination, 4);
    auto first = catalog::CopyTables(*source, interrupted, {2}, nullptr);
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().code, ErrorCode::kUnavailable);
  }
  auto resumed = catalog::CopyTables(*source, *destination, {2}, nullptr);
  ASSERT_TRUE(resumed) << resumed.error().ToString();
  int64_t present = 0;
  for (const auto& table : *resumed) present += table.present;
  EXPECT_GT(present, 0) << "the interrupted copy had written some batches";
  auto checks = catalog::CompareTables(*source, *destination);
  ASSERT_TRUE(checks) << checks.error().ToString();
  for (const auto& check : *checks) {
    EXPECT_TRUE(check.Matches()) << check.table << ": " << check.source_rows << " vs "
                                 << check.destination_rows;
  }
  // Copying a finished copy again writes nothing.
  auto again = catalog::CopyTables(*source, *destination, {2}, nullptr);
  ASSERT_TRUE(again) << again.error().ToString();
  for (const auto& table : *again) EXPECT_EQ(table.copied, 0) << table.table;
  ExpectSameAnswers(*source, *destination);
}

TEST_F(PostgresCatalogCopy, RefusesAnotherSchemaVersion) {
  catalog::PgTestEnv pg;
  Config config;
  config.catalog_url = pg.url();
  ASSERT_TRUE(app::MigrateCatalog(config, 9, clock_));
  CommandResult refused = Run({"catalog", "copy", "--from", SqliteUrl(), "--to", pg.url()});
  EXPECT_EQ(refused.exit_code, 3) << refused.output;
  EXPECT_NE(refused.output.find("reprise migrate up"), std::string::npos) << refused.output;
  auto status = app::ReadMigrationStatus(config);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->current, 9) << "a refused copy changes nothing";
}

TEST_F(PostgresCatalogCopy, RefusesADestinationWithRowsTheSourceLacks) {
  catalog::PgTestEnv pg;
  {
    auto destination = OpenPostgres(pg.url());
    ASSERT_TRUE(destination);
    catalog::NewApiToken stranger{"other", "bob", false, std::string(64, 'e')};
    ASSERT_TRUE(destination->InsertApiToken(stranger));
  }
  CommandResult refused = Run({"catalog", "copy", "--from", SqliteUrl(), "--to", pg.url()});
  EXPECT_EQ(refused.exit_code, 3) << refused.output;
  EXPECT_NE(refused.output.find("not an interrupted copy"), std::string::npos) << refused.output;
  auto destination = OpenPostgres(pg.url());
  ASSERT_TRUE(destination);
  auto assets = destination->CountAssets({});
  ASSERT_TRUE(assets);
  EXPECT_EQ(*assets, 0) << "nothing was copied";
}

}  // namespace
}  // namespace reprise
