// The SQLite catalog's tables as rows (catalog/rows.h), for `reprise catalog copy`.
// Tables, columns and keys come from sqlite_master and the table-valued PRAGMAs; a rowid
// table's insertion order is its rowid. Writes drop the table's triggers inside their
// transaction and create them again before committing (SQLite cannot switch a trigger
// off), and defer foreign keys to the commit, so a batch may hold a row and what it names.
// Full-text indexes are no data: the FTS5 table and its shadow tables are not listed, and
// the triggers that keep one in step with its table (named *_fts) stay on while writing.
#include <algorithm>
#include <cctype>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/sqlite/sqlite_handles.h"

namespace reprise::catalog {
namespace {

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

// SQLite's affinity rules (section 3.1 of its datatype page), in their order.
ColumnKind AffinityKind(const std::string& declared) {
  const std::string type = Upper(declared);
  if (type.find("INT") != std::string::npos) return ColumnKind::kInteger;
  for (const char* text : {"CHAR", "CLOB", "TEXT"}) {
    if (type.find(text) != std::string::npos) return ColumnKind::kText;
  }
  if (type.empty() || type.find("BLOB") != std::string::npos) return ColumnKind::kBlob;
  return ColumnKind::kReal;
}

Value ReadValue(sqlite3_stmt* stmt, int column) {
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, column));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, column);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)),
                         static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
    case SQLITE_BLOB: {
      const void* data = sqlite3_column_blob(stmt, column);
      const auto size = static_cast<size_t>(sqlite3_column_bytes(stmt, column));
      return Bytes{data == nullptr ? std::string()
                                   : std::string(static_cast<const char*>(data), size)};
    }
    default:
      return std::monostate{};
  }
}

// Binds `values` to placeholders first, first + 1, ...
Result<void> BindValues(sqlite3* db, sqlite3_stmt* stmt, int first, const Row& values, size_t from,
                        size_t to) {
  for (size_t i = from; i < to; ++i) {
    const int index = first + static_cast<int>(i - from);
    const Value& value = values[i];
    int rc = SQLITE_OK;
    if (const auto* integer = std::get_if<int64_t>(&value)) {
      rc = sqlite3_bind_int64(stmt, index, *integer);
    } else if (const auto* real = std::get_if<double>(&value)) {
      rc = sqlite3_bind_double(stmt, index, *real);
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      rc = sqlite3_bind_text64(stmt, index, text->data(), text->size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
    } else if (const auto* bytes = std::get_if<Bytes>(&value)) {
      rc = sqlite3_bind_blob64(stmt, index, bytes->data.data(), bytes->data.size(),
                               SQLITE_TRANSIENT);
    } else {
      rc = sqlite3_bind_null(stmt, index);
    }
    if (rc != SQLITE_OK) return Fail(SqliteError(db, rc, "binding a value"));
  }
  return {};
}

// "a = ? AND b = ?"
std::string Equals(const std::vector<std::string>& columns, const char* separator) {
  std::string out;
  for (const auto& column : columns) {
    if (!out.empty()) out += separator;
    out += QuoteName(column) + " = ?";
  }
  return out;
}

std::string Placeholders(size_t count) {
  std::string out = "(";
  for (size_t i = 0; i < count; ++i) out += i == 0 ? "?" : ", ?";
  return out + ")";
}

Result<TableSchema> DescribeTable(SqliteConnection& db, const std::string& name,
                                  const std::string& sql) {
  TableSchema table;
  table.name = name;
  table.insertion_order = Upper(sql).find("WITHOUT ROWID") == std::string::npos;
  auto columns = db.Prepare("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid");
  if (!columns) return Fail(std::move(columns.error()));
  columns->BindText(name);
  std::vector<std::pair<int64_t, std::string>> key;
  REPRISE_TRY(columns->ForEachRow([&](const Statement& row) -> Result<bool> {
    table.columns.push_back({row.Text(0), AffinityKind(row.Text(1))});
    if (row.Int64(2) > 0) key.emplace_back(row.Int64(2), row.Text(0));
    return true;
  }));
  std::sort(key.begin(), key.end());
  for (auto& [position, column] : key) table.key.push_back(std::move(column));
  auto references =
      db.Prepare("SELECT DISTINCT \"table\", \"from\" FROM pragma_foreign_key_list(?)");
  if (!references) return Fail(std::move(references.error()));
  references->BindText(name);
  REPRISE_TRY(references->ForEachRow([&](const Statement& row) -> Result<bool> {
    if (row.Text(0) == name) {
      table.self_references.push_back(row.Text(1));
    } else if (std::find(table.references.begin(), table.references.end(), row.Text(0)) ==
               table.references.end()) {
      table.references.push_back(row.Text(0));
    }
    return true;
  }));
  return table;
}

// The rowid alias of an AUTOINCREMENT table: its INTEGER PRIMARY KEY column.
Result<std::string> RowidColumn(SqliteConnection& db, const std::string& table) {
  auto select = db.Prepare("SELECT name FROM pragma_table_info(?) WHERE pk = 1");
  if (!select) return Fail(std::move(select.error()));
  select->BindText(table);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return Fail(ErrorCode::kInternal, "table " + table + " has no INTEGER PRIMARY KEY");
  return select->Text(0);
}

}  // namespace

Result<std::vector<TableSchema>> SqliteCatalog::ListTables() {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  return InTransaction(db, Transaction::Mode::kDeferred, [&]() -> Result<std::vector<TableSchema>> {
    std::vector<std::pair<std::string, std::string>> names;
    auto select = db.Prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
        " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_migrations'"
        " AND name NOT IN (SELECT name FROM pragma_table_list"
        " WHERE type IN ('virtual', 'shadow')) ORDER BY name");
    if (!select) return Fail(std::move(select.error()));
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      names.emplace_back(row.Text(0), row.Text(1));
      return true;
    }));
    std::vector<TableSchema> tables;
    for (const auto& [name, sql] : names) {
      auto table = DescribeTable(db, name, sql);
      if (!table) return Fail(std::move(table.error()));
      tables.push_back(std::move(*table));
    }
    return tables;
  });
}

Result<void> SqliteCatalog::ScanTableRows(const RowScan& scan, const RowVisitor& visit) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  const std::string table = QuoteName(scan.table);
  const std::string direction = scan.descending ? " DESC" : "";
  return InTransaction(db, Transaction::Mode::kDeferred, [&]() -> Result<void> {
    std::string sql = "SELECT " + QuoteNames(scan.columns) + " FROM " + table;
    if (scan.order == RowOrder::kInsertion) {
      if (scan.after) {
        // The row must be there: a missing one would silently restart from nothing.
        auto found = db.Prepare("SELECT 1 FROM " + table + " WHERE " + Equals(scan.key, " AND "));
        if (!found) return Fail(std::move(found.error()));
        REPRISE_TRY(BindValues(db.get(), found->get(), 1, *scan.after, 0, scan.after->size()));
        auto row = found->Step();
        if (!row) return Fail(std::move(row.error()));
        if (!*row) return Fail(ErrorCode::kNotFound, "no row of " + scan.table + " has that key");
        sql += std::string(" WHERE rowid ") + (scan.descending ? "<" : ">") +
               " (SELECT rowid FROM " + table + " WHERE " + Equals(scan.key, " AND ") + ")";
      }
      sql += " ORDER BY rowid" + direction;
    } else {
      if (scan.after) {
        sql += " WHERE (" + QuoteNames(scan.key) + ") " + (scan.descending ? "<" : ">") + " " +
               Placeholders(scan.key.size());
      }
      sql += " ORDER BY ";
      for (size_t i = 0; i < scan.key.size(); ++i) {
        sql += (i == 0 ? "" : ", ") + QuoteName(scan.key[i]) + direction;
      }
    }
    auto select = db.Prepare(sql);
    if (!select) return Fail(std::move(select.error()));
    if (scan.after) {
      REPRISE_TRY(BindValues(db.get(), select->get(), 1, *scan.after, 0, scan.after->size()));
    }
    const int width = static_cast<int>(scan.columns.size());
    return select->ForEachRow([&](const Statement& statement) -> Result<bool> {
      Row row;
      row.reserve(scan.columns.size());
      for (int i = 0; i < width; ++i) row.push_back(ReadValue(statement.get(), i));
      return visit(row);
    });
  });
}

Result<void> SqliteCatalog::WriteTableRows(const RowWrite& write) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  return InTransaction(db, Transaction::Mode::kImmediate, [&]() -> Result<void> {
    std::vector<std::pair<std::string, std::string>> triggers;
    auto select = db.Prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?"
        " AND name NOT LIKE '%\\_fts' ESCAPE '\\'");
    if (!select) return Fail(std::move(select.error()));
    select->BindText(write.table);
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      triggers.emplace_back(row.Text(0), row.Text(1));
      return true;
    }));
    for (const auto& [name, sql] : triggers)
      REPRISE_TRY(db.Exec("DROP TRIGGER " + QuoteName(name)));
    REPRISE_TRY(db.Exec("PRAGMA defer_foreign_keys = ON"));
    const std::string table = QuoteName(write.table);
    std::string sql;
    if (write.key.empty()) {
      sql = "INSERT INTO " + table + " (" + QuoteNames(write.columns) + ") VALUES " +
            Placeholders(write.columns.size());
    } else {
      sql = "UPDATE " + table + " SET " + Equals(write.columns, ", ") + " WHERE " +
            Equals(write.key, " AND ");
    }
    auto statement = db.Prepare(sql);
    if (!statement) return Fail(std::move(statement.error()));
    const size_t keys = write.key.size();
    for (const Row& row : write.rows) {
      if (row.size() != keys + write.columns.size()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "a row of " + write.table + " has " + std::to_string(row.size()) + " values");
      }
      sqlite3_reset(statement->get());
      // UPDATE binds SET values first, then the key; INSERT just the values.
      REPRISE_TRY(BindValues(db.get(), statement->get(), 1, row, keys, row.size()));
      REPRISE_TRY(BindValues(db.get(), statement->get(), static_cast<int>(write.columns.size()) + 1,
                             row, 0, keys));
      REPRISE_TRY(statement->Run());
    }
    for (const auto& [name, sql_text] : triggers) REPRISE_TRY(db.Exec(sql_text));
    return {};
  });
}

Result<IdSequences> SqliteCatalog::ReadIdSequences() {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  return InTransaction(db, Transaction::Mode::kDeferred, [&]() -> Result<IdSequences> {
    IdSequences sequences;
    auto exists = db.Prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'");
    if (!exists) return Fail(std::move(exists.error()));
    auto found = exists->Step();
    if (!found) return Fail(std::move(found.error()));
    if (!*found) return sequences;
    std::vector<std::pair<std::string, int64_t>> rows;
    auto select = db.Prepare("SELECT name, seq FROM sqlite_sequence ORDER BY name");
    if (!select) return Fail(std::move(select.error()));
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      rows.emplace_back(row.Text(0), row.Int64(1));
      return true;
    }));
    for (auto& [table, value] : rows) {
      auto column = RowidColumn(db, table);
      if (!column) return Fail(std::move(column.error()));
      sequences.emplace_back(table + "." + *column, value);
    }
    return sequences;
  });
}

Result<void> SqliteCatalog::AdvanceIdSequences(const IdSequences& floors) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  return InTransaction(db, Transaction::Mode::kImmediate, [&]() -> Result<void> {
    std::vector<std::string> tables;
    auto select = db.Prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'");
    if (!select) return Fail(std::move(select.error()));
    REPRISE_TRY(select->ForEachRow([&](const Statement& row) -> Result<bool> {
      tables.push_back(row.Text(0));
      return true;
    }));
    for (const auto& table : tables) {
      auto column = RowidColumn(db, table);
      if (!column) return Fail(std::move(column.error()));
      int64_t floor = 0;
      for (const auto& [name, value] : floors) {
        if (name == table + "." + *column) floor = value;
      }
      auto highest = db.Prepare("SELECT coalesce(max(" + QuoteName(*column) + "), 0) FROM " +
                                QuoteName(table));
      if (!highest) return Fail(std::move(highest.error()));
      auto row = highest->Step();
      if (!row) return Fail(std::move(row.error()));
      const int64_t target = std::max(floor, highest->Int64(0));
      // AUTOINCREMENT hands out max(seq, max(rowid)) + 1: raising seq is enough.
      auto update = db.Prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?");
      if (!update) return Fail(std::move(update.error()));
      update->BindInt64(target).BindText(table);
      REPRISE_TRY(update->Run());
      if (sqlite3_changes(db.get()) == 0 && target > 0) {
        auto insert = db.Prepare("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)");
        if (!insert) return Fail(std::move(insert.error()));
        insert->BindText(table).BindInt64(target);
        REPRISE_TRY(insert->Run());
      }
    }
    return {};
  });
}

}  // namespace reprise::catalog
