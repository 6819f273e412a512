// Rows: the backend-neutral view of a catalog's tables that `reprise catalog copy` moves
// from one backend to another (catalog/table_copy.h). Each backend describes its tables
// from the database's own catalog (sqlite_master and PRAGMAs; information_schema and
// pg_catalog), so a table a migration adds is copied without code naming its columns.
//
// A row is a vector of typed values in the order of the columns a scan asked for. Values
// are what the database stores: integers (PostgreSQL booleans read as 0/1), doubles,
// text and bytes. EncodeRow() gives one canonical byte string per row, the same on every
// backend, over which both sides of a copy compute their checksums.
//
// Orders: kKey walks the primary key ascending, comparing text byte by byte (SQLite's
// BINARY collation, PostgreSQL's "C"), so both backends agree whatever the database's
// locale. kInsertion walks the order rows were inserted in, where the backend records it
// (SQLite's rowid; a PostgreSQL identity column outside the primary key).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace reprise::catalog {

enum class ColumnKind { kInteger, kReal, kText, kBlob };

struct TableColumn {
  std::string name;
  ColumnKind kind = ColumnKind::kText;
};

struct TableSchema {
  std::string name;
  // The columns holding data, in the table's order. A PostgreSQL identity column outside
  // the primary key is the table's insertion order, not data, and is not listed.
  std::vector<TableColumn> columns;
  std::vector<std::string> key;  // the primary key's columns, in key order
  // Tables this one's foreign keys name, itself excluded; and the columns of foreign keys
  // naming the table itself (assets.parent_id).
  std::vector<std::string> references;
  std::vector<std::string> self_references;
  bool insertion_order = false;  // the backend can walk kInsertion (see the file comment)
};

// The bytes of a BLOB / bytea value (text is std::string).
struct Bytes {
  std::string data;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

using Value = std::variant<std::monostate, int64_t, double, std::string, Bytes>;
using Row = std::vector<Value>;

enum class RowOrder { kKey, kInsertion };

// What ScanTableRows reads.
struct RowScan {
  std::string table;
  std::vector<std::string> columns;  // read in this order
  std::vector<std::string> key;      // the table's primary key columns
  RowOrder order = RowOrder::kKey;
  bool descending = false;
  // Values of `key`: start after the row with this key. kInsertion needs that row to
  // exist (kNotFound otherwise); kKey compares, so it need not.
  std::optional<Row> after;
};

// Returns false to stop the scan.
using RowVisitor = std::function<Result<bool>(const Row&)>;

// What WriteTableRows writes, in one transaction with the table's triggers off (a copied
// row keeps the values it had, e.g. an asset's revision).
struct RowWrite {
  std::string table;
  std::vector<std::string> columns;  // the values of each row, in this order
  // Empty: INSERT every row as it is. Otherwise UPDATE the row whose `key` columns equal
  // the row's leading values, setting `columns` to the rest.
  std::vector<std::string> key;
  std::vector<Row> rows;
};

// The canonical encoding of a row: per value a tag and its bytes, lengths explicit, so
// no two different rows encode alike. Doubles are written in their shortest exact form.
std::string EncodeRow(const Row& row);

// `name` as an SQL identifier in double quotes (both backends' quoting), for the table and
// column names the database's own catalog reported.
std::string QuoteName(std::string_view name);
// QuoteName of each, joined by ", ".
std::string QuoteNames(const std::vector<std::string>& names);

// The identity columns' counters by "table.column": the last id handed out (SQLite's
// sqlite_sequence, a PostgreSQL identity sequence), so a copy never lets the destination
// hand out an id the source already used.
using IdSequences = std::vector<std::pair<std::string, int64_t>>;

}  // namespace reprise::catalog
