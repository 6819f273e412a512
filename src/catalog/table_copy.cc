#include "catalog/table_copy.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/hash.h"

namespace reprise::catalog {
namespace {

// How one table is walked and written.
struct TablePlan {
  std::string table;
  std::vector<std::string> columns;  // every data column, in the source's order
  std::vector<std::string> key;
  std::vector<std::string> self_references;
  RowOrder order = RowOrder::kKey;
  std::vector<size_t> key_positions;   // of `key` in `columns`
  std::vector<size_t> self_positions;  // of `self_references` in `columns`
};

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

std::vector<std::string> ColumnNames(const TableSchema& table) {
  std::vector<std::string> names;
  for (const auto& column : table.columns) names.push_back(column.name);
  return names;
}

std::vector<std::string> Sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

size_t PositionOf(const std::vector<std::string>& columns, const std::string& name) {
  return static_cast<size_t>(std::find(columns.begin(), columns.end(), name) - columns.begin());
}

Result<TablePlan> PlanTable(const TableSchema& source, const TableSchema& destination) {
  TablePlan plan;
  plan.table = source.name;
  plan.columns = ColumnNames(source);
  if (Sorted(plan.columns) != Sorted(ColumnNames(destination))) {
    return Fail(ErrorCode::kConflict, "table " + source.name + " has columns (" +
                                          Join(Sorted(plan.columns)) + ") in the source but (" +
                                          Join(Sorted(ColumnNames(destination))) +
                                          ") in the destination");
  }
  if (source.key.empty() || source.key != destination.key) {
    return Fail(ErrorCode::kConflict, "table " + source.name + " has primary key (" +
                                          Join(source.key) + ") in the source and (" +
                                          Join(destination.key) +
                                          ") in the destination; a copy needs the same, non-empty");
  }
  plan.key = source.key;
  plan.self_references = source.self_references;
  plan.order =
      source.insertion_order && destination.insertion_order ? RowOrder::kInsertion : RowOrder::kKey;
  for (const auto& name : plan.key) plan.key_positions.push_back(PositionOf(plan.columns, name));
  for (const auto& name : plan.self_references) {
    plan.self_positions.push_back(PositionOf(plan.columns, name));
  }
  return plan;
}

// Tables after the tables they reference (Kahn's algorithm, by name among equals).
Result<std::vector<TablePlan>> InDependencyOrder(
    std::map<std::string, TablePlan> plans, const std::map<std::string, TableSchema>& schemas) {
  std::vector<TablePlan> ordered;
  std::set<std::string> done;
  while (!plans.empty()) {
    auto ready = std::find_if(plans.begin(), plans.end(), [&](const auto& entry) {
      const auto& references = schemas.at(entry.first).references;
      return std::all_of(references.begin(), references.end(), [&](const std::string& name) {
        return done.count(name) > 0 || schemas.count(name) == 0;
      });
    });
    if (ready == plans.end()) {
      return Fail(ErrorCode::kConflict,
                  "the foreign keys between tables form a cycle; no "
                  "order inserts every row after the rows it names");
    }
    done.insert(ready->first);
    ordered.push_back(std::move(ready->second));
    plans.erase(ready);
  }
  return ordered;
}

Result<std::vector<TablePlan>> PlanCopy(Catalog& from, Catalog& to) {
  auto from_version = from.SchemaVersion();
  if (!from_version) return Fail(std::move(from_version.error()));
  auto to_version = to.SchemaVersion();
  if (!to_version) return Fail(std::move(to_version.error()));
  if (*from_version != *to_version) {
    return Fail(ErrorCode::kConflict,
                "the source is at schema version " + std::to_string(*from_version) +
                    " and the destination at " + std::to_string(*to_version) +
                    ": run `reprise migrate up` against both, then copy again");
  }
  auto from_tables = from.ListTables();
  if (!from_tables) return Fail(std::move(from_tables.error()));
  auto to_tables = to.ListTables();
  if (!to_tables) return Fail(std::move(to_tables.error()));
  std::map<std::string, TableSchema> sources;
  std::map<std::string, TableSchema> destinations;
  for (auto& table : *from_tables) sources.emplace(table.name, std::move(table));
  for (auto& table : *to_tables) destinations.emplace(table.name, std::move(table));
  std::vector<std::string> only_source;
  std::vector<std::string> only_destination;
  for (const auto& [name, table] : sources) {
    if (destinations.count(name) == 0) only_source.push_back(name);
  }
  for (const auto& [name, table] : destinations) {
    if (sources.count(name) == 0) only_destination.push_back(name);
  }
  if (!only_source.empty() || !only_destination.empty()) {
    return Fail(ErrorCode::kConflict,
                "the two catalogs hold different tables (only in the "
                "source: " +
                    Join(only_source) + "; only in the destination: " + Join(only_destination) +
                    ")");
  }
  std::map<std::string, TablePlan> plans;
  for (const auto& [name, source] : sources) {
    auto plan = PlanTable(source, destinations.at(name));
    if (!plan) return Fail(std::move(plan.error()));
    plans.emplace(name, std::move(*plan));
  }
  return InDependencyOrder(std::move(plans), sources);
}

RowScan ScanOf(const TablePlan& plan, std::vector<std::string> columns) {
  RowScan scan;
  scan.table = plan.table;
  scan.columns = std::move(columns);
  scan.key = plan.key;
  scan.order = plan.order;
  return scan;
}

// A table's rows as one side holds them, in copy order.
struct TableDigest {
  int64_t rows = 0;
  std::string sha256;
  std::optional<Row> last_key;
};

// Digests the first `limit` rows in `order` (all when nullopt); `blank_self` reads self
// references as NULL, which is how a table stands until its copy has filled them in.
Result<TableDigest> DigestTable(Catalog& catalog, const TablePlan& plan, RowOrder order,
                                std::optional<int64_t> limit, bool blank_self) {
  TableDigest digest;
  Sha256 hash;
  if (limit && *limit == 0) {
    digest.sha256 = HexLower(hash.Finish());
    return digest;
  }
  Row key;
  RowScan scan = ScanOf(plan, plan.columns);
  scan.order = order;
  REPRISE_TRY(catalog.ScanTableRows(scan, [&](const Row& row) -> Result<bool> {
    if (blank_self) {
      Row blanked = row;
      for (size_t position : plan.self_positions) blanked[position] = std::monostate{};
      hash.Update(EncodeRow(blanked));
    } else {
      hash.Update(EncodeRow(row));
    }
    ++digest.rows;
    if (!limit || digest.rows == *limit) {
      key.clear();
      for (size_t position : plan.key_positions) key.push_back(row[position]);
    }
    return !limit || digest.rows < *limit;
  }));
  if (digest.rows > 0) digest.last_key = std::move(key);
  digest.sha256 = HexLower(hash.Finish());
  return digest;
}

// Where the copy of a table starts: after the rows the destination already holds, once
// they are known to be the source's first rows.
Result<TableDigest> ResumePoint(Catalog& from, Catalog& to, const TablePlan& plan) {
  auto present = DigestTable(to, plan, plan.order, std::nullopt, /*blank_self=*/true);
  if (!present) return Fail(std::move(present.error()));
  if (present->rows == 0) return present;
  auto prefix = DigestTable(from, plan, plan.order, present->rows, /*blank_self=*/true);
  if (!prefix) return Fail(std::move(prefix.error()));
  if (prefix->rows != present->rows || prefix->sha256 != present->sha256) {
    return Fail(ErrorCode::kConflict,
                "the destination's table " + plan.table + " holds " +
                    std::to_string(present->rows) + " rows that are not the source's first " +
                    std::to_string(present->rows) +
                    ": it is not an interrupted copy of this source; copy into an empty "
                    "catalog");
  }
  return present;
}

// Streams the source's rows after `start` into the destination, a batch per transaction.
Result<int64_t> CopyRows(Catalog& from, Catalog& to, const TablePlan& plan,
                         const TableDigest& start, const TableCopyOptions& options,
                         const TableCopyProgress& progress) {
  const size_t batch_rows = static_cast<size_t>(std::max(1, options.batch_rows));
  RowWrite batch{plan.table, plan.columns, {}, {}};
  int64_t copied = 0;
  auto flush = [&]() -> Result<void> {
    if (batch.rows.empty()) return {};
    REPRISE_TRY(to.WriteTableRows(batch));
    copied += static_cast<int64_t>(batch.rows.size());
    batch.rows.clear();
    if (progress) progress(plan.table, start.rows + copied);
    return {};
  };
  RowScan scan = ScanOf(plan, plan.columns);
  scan.after = start.last_key;
  auto scanned = from.ScanTableRows(scan, [&](const Row& row) -> Result<bool> {
    batch.rows.push_back(row);
    // Rows naming rows of their own table get those names once all are there.
    for (size_t position : plan.self_positions) batch.rows.back()[position] = std::monostate{};
    if (batch.rows.size() >= batch_rows) REPRISE_TRY(flush());
    return true;
  });
  if (!scanned) return Fail(std::move(scanned.error()));
  REPRISE_TRY(flush());
  return copied;
}

// Fills in the self references the copy wrote empty (idempotent: run on every copy).
Result<void> CopySelfReferences(Catalog& from, Catalog& to, const TablePlan& plan,
                                const TableCopyOptions& options) {
  if (plan.self_references.empty()) return {};
  std::vector<std::string> columns = plan.key;
  columns.insert(columns.end(), plan.self_references.begin(), plan.self_references.end());
  RowWrite batch{plan.table, plan.self_references, plan.key, {}};
  const size_t batch_rows = static_cast<size_t>(std::max(1, options.batch_rows));
  auto scanned = from.ScanTableRows(ScanOf(plan, columns), [&](const Row& row) -> Result<bool> {
    const bool names_any =
        std::any_of(row.begin() + static_cast<std::ptrdiff_t>(plan.key.size()), row.end(),
                    [](const Value& value) { return value.index() != 0; });
    if (!names_any) return true;
    batch.rows.push_back(row);
    if (batch.rows.size() >= batch_rows) {
      REPRISE_TRY(to.WriteTableRows(batch));
      batch.rows.clear();
    }
    return true;
  });
  if (!scanned) return Fail(std::move(scanned.error()));
  if (!batch.rows.empty()) REPRISE_TRY(to.WriteTableRows(batch));
  return {};
}

}  // namespace

Result<std::vector<std::string>> CopyableTables(Catalog& from, Catalog& to) {
  auto plans = PlanCopy(from, to);
  if (!plans) return Fail(std::move(plans.error()));
  std::vector<std::string> names;
  for (const auto& plan : *plans) names.push_back(plan.table);
  return names;
}

Result<std::vector<TableCopied>> CopyTables(Catalog& from, Catalog& to,
                                            const TableCopyOptions& options,
                                            const TableCopyProgress& progress) {
  auto plans = PlanCopy(from, to);
  if (!plans) return Fail(std::move(plans.error()));
  // Every table is checked before anything is written, so a refusal leaves no trace.
  std::vector<TableDigest> starts;
  for (const auto& plan : *plans) {
    auto start = ResumePoint(from, to, plan);
    if (!start) return Fail(std::move(start.error()));
    starts.push_back(std::move(*start));
  }
  std::vector<TableCopied> report;
  for (size_t i = 0; i < plans->size(); ++i) {
    const TablePlan& plan = (*plans)[i];
    auto copied = CopyRows(from, to, plan, starts[i], options, progress);
    if (!copied) return Fail(std::move(copied.error()));
    REPRISE_TRY(CopySelfReferences(from, to, plan, options));
    report.push_back({plan.table, starts[i].rows, *copied});
  }
  auto sequences = from.ReadIdSequences();
  if (!sequences) return Fail(std::move(sequences.error()));
  REPRISE_TRY(to.AdvanceIdSequences(*sequences));
  return report;
}

Result<std::vector<TableCheck>> CompareTables(Catalog& from, Catalog& to) {
  auto plans = PlanCopy(from, to);
  if (!plans) return Fail(std::move(plans.error()));
  std::vector<TableCheck> checks;
  for (const auto& plan : *plans) {
    auto source = DigestTable(from, plan, RowOrder::kKey, std::nullopt, /*blank_self=*/false);
    if (!source) return Fail(std::move(source.error()));
    auto destination = DigestTable(to, plan, RowOrder::kKey, std::nullopt, /*blank_self=*/false);
    if (!destination) return Fail(std::move(destination.error()));
    checks.push_back(
        {plan.table, source->rows, destination->rows, source->sha256, destination->sha256});
  }
  return checks;
}

}  // namespace reprise::catalog
