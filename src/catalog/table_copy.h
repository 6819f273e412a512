// Table copy: moves every row of one catalog into another, whatever their backends
// (SQLite to PostgreSQL and back), through the row interface of catalog/rows.h, and
// proves the result by per-table counts and checksums. `reprise catalog copy` runs it.
//
// What is copied: every table either side lists, in foreign-key order, each walked in
// one order both backends agree on (insertion order where both record it, else the
// primary key in byte order), with ids, counters and history kept as they are. A column
// naming a row of its own table (assets.parent_id) is written empty first and filled in
// once the whole table is there. The identity counters end at least where the source's
// are, so the destination never hands out an id the source used.
//
// Refused (kConflict, nothing written): different schema versions (run `reprise migrate
// up` on both), different tables or columns, or a destination table whose rows are not
// the first rows of the source's in copy order (rows the source does not have). A
// destination holding such a prefix is an interrupted copy of this source: the copy goes
// on after its last row. Rows stream in batches of `batch_rows`, one transaction each:
// memory holds one batch, and a copy killed at any point is resumed by running it again.
//
// Checksums: SHA-256 over EncodeRow() of every row in primary key order (byte order),
// the one order every backend can walk: the rows' content, whatever order the two sides
// record. The order the copy walks (insertion order where both record it) is what it
// writes in, so that order arrives too.
// Not thread-safe; the catalogs must not be written by anything else meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/error.h"

namespace reprise::catalog {

struct TableCopyOptions {
  int batch_rows = 1000;
};

// One table as copied (or found already copied) by this run.
struct TableCopied {
  std::string table;
  int64_t present = 0;  // rows the destination held before (an interrupted copy)
  int64_t copied = 0;   // rows written by this run
};

// One table compared on both sides.
struct TableCheck {
  std::string table;
  int64_t source_rows = 0;
  int64_t destination_rows = 0;
  std::string source_sha256;
  std::string destination_sha256;
  [[nodiscard]] bool Matches() const {
    return source_rows == destination_rows && source_sha256 == destination_sha256;
  }
};

// Told after each batch: the table and the rows it holds so far.
using TableCopyProgress = std::function<void(const std::string& table, int64_t rows)>;

// The tables in copy order, or the reason the two catalogs cannot be copied between.
[[nodiscard]] Result<std::vector<std::string>> CopyableTables(Catalog& from, Catalog& to);

// Copies `from` into `to` (see the file comment) and returns what each table got.
[[nodiscard]] Result<std::vector<TableCopied>> CopyTables(Catalog& from, Catalog& to,
                                                          const TableCopyOptions& options,
                                                          const TableCopyProgress& progress);

// Counts and checksums every table on both sides; reads only.
[[nodiscard]] Result<std::vector<TableCheck>> CompareTables(Catalog& from, Catalog& to);

}  // namespace reprise::catalog
