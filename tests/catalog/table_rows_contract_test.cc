// The table-rows part of the Catalog contract (catalog.h, "Tables as rows"; catalog/rows.h),
// which `reprise catalog copy` is built on. Runs against every backend like
// catalog_contract_test.cc; nothing here names a database.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

const TableSchema* FindTable(const std::vector<TableSchema>& tables, const std::string& name) {
  for (const auto& table : tables) {
    if (table.name == name) return &table;
  }
  return nullptr;
}

std::vector<std::string> Names(const TableSchema& table) {
  std::vector<std::string> names;
  for (const auto& column : table.columns) names.push_back(column.name);
  return names;
}

// Every row of `scan`, in the order it streamed.
std::vector<Row> ReadAll(Catalog& catalog, const RowScan& scan) {
  std::vector<Row> rows;
  Ok(catalog.ScanTableRows(scan, [&](const Row& row) -> Result<bool> {
    rows.push_back(row);
    return true;
  }));
  return rows;
}

TEST_P(CatalogContractTest, TablesAreListedWithKeysAndForeignKeys) {
  auto tables = Ok(catalog_->ListTables());
  EXPECT_EQ(FindTable(tables, "schema_migrations"), nullptr) << "bookkeeping is not data";
  const TableSchema* assets = FindTable(tables, "assets");
  ASSERT_NE(assets, nullptr);
  EXPECT_EQ(assets->key, std::vector<std::string>{"id"});
  EXPECT_EQ(assets->self_references, std::vector<std::string>{"parent_id"});
  EXPECT_TRUE(assets->references.empty());
  const TableSchema* derivatives = FindTable(tables, "derivatives");
  ASSERT_NE(derivatives, nullptr);
  EXPECT_EQ(derivatives->references, std::vector<std::string>{"assets"});
  EXPECT_TRUE(derivatives->insertion_order);
  const TableSchema* plan = FindTable(tables, "backfill_plan");
  ASSERT_NE(plan, nullptr);
  EXPECT_EQ(plan->key, (std::vector<std::string>{"seq"}))
      << "plan order is the key, copied as data";
  const auto plan_columns = Names(*plan);
  EXPECT_EQ(std::count(plan_columns.begin(), plan_columns.end(), "seq"), 1)
      << "plan order is a column both backends copy";
  auto references = plan->references;
  std::sort(references.begin(), references.end());
  EXPECT_EQ(references, (std::vector<std::string>{"assets", "backfills"}));
  const TableSchema* holds = FindTable(tables, "backfill_holds");
  ASSERT_NE(holds, nullptr);
  EXPECT_EQ(holds->key, (std::vector<std::string>{"seq", "stage"}));
  EXPECT_EQ(FindTable(tables, "backfill_items"), nullptr);

  for (const char* name : {"api_tokens", "events", "imports", "jobs", "job_stages", "quarantine",
                           "webhook_attempts", "webhook_deliveries", "webhook_subscriptions",
                           "webhooks_received", "backfills", "backfill_counts", "search_entries"}) {
    EXPECT_NE(FindTable(tables, name), nullptr) << name;
  }
  // A full-text index is no data: it is rebuilt from search_entries as they are written.
  for (const auto& table : tables) {
    EXPECT_EQ(table.name.find("search_fts"), std::string::npos) << table.name;
  }
}

TEST_P(CatalogContractTest, RowsWrittenVerbatimKeepIdsAndRevisions) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  const int64_t revision = Ok(catalog_->GetAsset("a1", {})).revision;
  const std::vector<std::string> columns = {"id",        "asset_id", "stage",    "stage_version",
                                            "recipe",    "state",    "attempts", "is_current",
                                            "created_at"};
  RowWrite write{"derivatives", columns, {}, {}};
  write.rows.push_back({int64_t{41}, std::string("a1"), std::string("probe"), int64_t{1},
                        std::string("r1"), std::string("done"), int64_t{1}, int64_t{1},
                        int64_t{5}});
  write.rows.push_back({int64_t{42}, std::string("a1"), std::string("probe"), int64_t{1},
                        std::string("r2"), std::string("failed"), int64_t{2}, int64_t{0},
                        int64_t{6}});
  Ok(catalog_->WriteTableRows(write));
  EXPECT_EQ(Ok(catalog_->GetAsset("a1", {})).revision, revision)
      << "triggers are off while rows are copied";
  auto history = Ok(catalog_->ListDerivatives("a1"));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].id, 42);
  EXPECT_EQ(history[1].id, 41);
  EXPECT_EQ(Ok(catalog_->GetCurrentDerivative("a1", "probe")).id, 41);

  RowScan scan{"derivatives", {"id", "recipe", "attempts"}, {"id"}, RowOrder::kInsertion, false,
               std::nullopt};
  auto rows = ReadAll(*catalog_, scan);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (Row{int64_t{41}, std::string("r1"), int64_t{1}}));
  scan.after = Row{int64_t{41}};
  rows = ReadAll(*catalog_, scan);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(rows[0][0]), 42);

  // A copied id is never handed out again once the counters are advanced.
  Ok(catalog_->AdvanceIdSequences({{"derivatives.id", 100}}));
  EXPECT_GT(Ok(catalog_->StartDerivative("a1", "probe", 1, "r3", nlohmann::json::object())), 100);
  auto sequences = Ok(catalog_->ReadIdSequences());
  EXPECT_NE(std::find_if(sequences.begin(), sequences.end(),
                         [](const auto& entry) {
                           return entry.first == "derivatives.id" && entry.second > 100;
                         }),
            sequences.end());
}

TEST_P(CatalogContractTest, KeyOrderComparesTextByBytes) {
  for (const char* id : {"b", "B", "_", "a", "Z"}) Ok(catalog_->InsertAsset(MakeAsset(id)));
  RowScan scan{"assets", {"id"}, {"id"}, RowOrder::kKey, false, std::nullopt};
  std::vector<std::string> ids;
  for (const auto& row : ReadAll(*catalog_, scan)) ids.push_back(std::get<std::string>(row[0]));
  EXPECT_EQ(ids, (std::vector<std::string>{"B", "Z", "_", "a", "b"}));
  scan.after = Row{std::string("Z")};
  scan.descending = true;
  ids.clear();
  for (const auto& row : ReadAll(*catalog_, scan)) ids.push_back(std::get<std::string>(row[0]));
  EXPECT_EQ(ids, std::vector<std::string>{"B"});
}

TEST_P(CatalogContractTest, InsertionOrderAfterAMissingRowIsNotFound) {
  RowScan scan{"derivatives", {"id"}, {"id"}, RowOrder::kInsertion, false, Row{int64_t{7}}};
  auto scanned = catalog_->ScanTableRows(scan, [](const Row&) -> Result<bool> { return true; });
  ASSERT_FALSE(scanned);
  EXPECT_EQ(scanned.error().code, ErrorCode::kNotFound);
}

TEST_P(CatalogContractTest, AWriteRefusedByAConstraintLeavesNothing) {
  Ok(catalog_->InsertAsset(MakeAsset("a1")));
  RowWrite write{"job_stages", {"job_id", "asset_id", "stage"}, {}, {}};
  write.rows.push_back({int64_t{1}, std::string("a1"), std::string("probe")});  // no job 1
  auto written = catalog_->WriteTableRows(write);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, ErrorCode::kConflict);
  RowScan scan{"job_stages", {"job_id"}, {"job_id", "stage"}, RowOrder::kKey, false, std::nullopt};
  EXPECT_TRUE(ReadAll(*catalog_, scan).empty());
}

}  // namespace
}  // namespace reprise::catalog
