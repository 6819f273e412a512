// The PostgreSQL catalog's tables as rows (catalog/rows.h), for `reprise catalog copy`.
// Tables, columns, keys and foreign keys come from pg_catalog; a table's insertion order
// is its identity column (backfill_items.seq, or the id). Text keys are ordered and
// compared under COLLATE "C" (byte order, as SQLite's BINARY), whatever the database's
// locale. Writes switch the table's own triggers off inside their transaction (ALTER
// TABLE is transactional here), so copying a derivative does not bump its asset's
// revision; foreign keys stay checked.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "catalog/postgres/pg_catalog.h"
#include "catalog/postgres/pg_internal.h"
#include "catalog/postgres/pg_scan.h"
#include "core/hash.h"

namespace reprise::catalog {
namespace {

// Parameters per INSERT statement: PostgreSQL takes at most 65535.
constexpr size_t kMaxParams = 60000;

// Type OIDs (pg_type.dat) of the values ScanTableRows converts.
constexpr pqxx::oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700,
                    kFloat8 = 701;

struct PgColumn {
  std::string name;
  std::string type;       // format_type(): "bigint", "text", ...
  bool identity = false;  // GENERATED ... AS IDENTITY
  int key_position = 0;   // 1.. in the primary key, 0 outside it
};

std::vector<PgColumn> ReadColumns(pqxx::transaction_base& tx, const std::string& table) {
  std::vector<PgColumn> columns;
  for (const auto& row :
       Exec(tx,
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attidentity <> '',"
            // indkey is an int2vector, whose subscripts start at 0.
            " coalesce(array_position(i.indkey::int2[], a.attnum)"
            "          - array_lower(i.indkey::int2[], 1) + 1, 0)"
            " FROM pg_attribute a LEFT JOIN pg_index i"
            "   ON i.indrelid = a.attrelid AND i.indisprimary"
            " WHERE a.attrelid = quote_ident($1)::regclass AND a.attnum > 0"
            " AND NOT a.attisdropped ORDER BY a.attnum",
            table)) {
    columns.push_back({Text(row[0]), Text(row[1]), row[2].as<bool>(), row[3].as<int>()});
  }
  return columns;
}

ColumnKind KindOf(const std::string& type) {
  if (type == "bigint" || type == "integer" || type == "smallint" || type == "boolean") {
    return ColumnKind::kInteger;
  }
  if (type == "double precision" || type == "real" || type.rfind("numeric", 0) == 0) {
    return ColumnKind::kReal;
  }
  if (type == "bytea") return ColumnKind::kBlob;
  return ColumnKind::kText;
}

bool IsText(const std::string& type) { return KindOf(type) == ColumnKind::kText; }

const PgColumn* Find(const std::vector<PgColumn>& columns, const std::string& name) {
  for (const auto& column : columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

// The column holding the table's insertion order: an identity column outside the primary
// key (backfill_items.seq) before the key's own.
std::optional<std::string> OrderColumn(const std::vector<PgColumn>& columns) {
  std::optional<std::string> order;
  for (const auto& column : columns) {
    if (!column.identity) continue;
    if (column.key_position == 0) return column.name;
    if (!order) order = column.name;
  }
  return order;
}

PgParam ToValueParam(const Value& value) {
  if (const auto* integer = std::get_if<int64_t>(&value)) return ToParam(*integer);
  if (const auto* real = std::get_if<double>(&value)) return ToParam(*real);
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* bytes = std::get_if<Bytes>(&value)) {
    const auto* data = reinterpret_cast<const uint8_t*>(bytes->data.data());
    return "\\x" + HexLower({data, bytes->data.size()});
  }
  return std::nullopt;
}

Value ReadValue(const pqxx::field& field) {
  if (field.is_null()) return std::monostate{};
  switch (field.type()) {
    case kBool:
      return static_cast<int64_t>(field.as<bool>() ? 1 : 0);
    case kInt2:
    case kInt4:
    case kInt8:
      return field.as<int64_t>();
    case kFloat4:
    case kFloat8:
      return field.as<double>();
    case kBytea:
      return Bytes{pqxx::binarystring(field).str()};
    default:
      return std::string(field.c_str(), field.size());
  }
}

// `column` (or `column COLLATE "C"` for text) as it is ordered and compared.
std::string Ordered(const std::vector<PgColumn>& columns, const std::string& name) {
  const PgColumn* column = Find(columns, name);
  return QuoteName(name) + (column != nullptr && IsText(column->type) ? " COLLATE \"C\"" : "");
}

// "a = $1::text AND b = $2::bigint", adding the values to `query`.
std::string KeyEquals(const std::vector<PgColumn>& columns, const std::vector<std::string>& key,
                      const Row& values, PgQuery& query) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    const PgColumn* column = Find(columns, key[i]);
    if (!out.empty()) out += " AND ";
    out += QuoteName(key[i]) + " = " + query.Add(ToValueParam(values.at(i))) +
           (column != nullptr ? "::" + column->type : "");
  }
  return out;
}

Result<void> CheckColumns(const std::vector<PgColumn>& columns, const std::string& table,
                          const std::vector<std::string>& names) {
  if (columns.empty()) return Fail(ErrorCode::kNotFound, "no table " + table);
  for (const auto& name : names) {
    if (Find(columns, name) == nullptr) {
      return Fail(ErrorCode::kNotFound, "table " + table + " has no column " + name);
    }
  }
  return {};
}

// Every identity column: its table, its name and its sequence.
pqxx::result IdentityColumns(pqxx::transaction_base& tx) {
  return Exec(tx,
              "SELECT c.relname, a.attname,"
              " pg_get_serial_sequence(quote_ident(c.relname), a.attname)"
              " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
              " JOIN pg_namespace n ON n.oid = c.relnamespace"
              " WHERE n.nspname = current_schema() AND a.attidentity <> ''"
              " AND NOT a.attisdropped ORDER BY 1, 2");
}

}  // namespace

Result<std::vector<TableSchema>> PostgresCatalog::ListTables() {
  return Run(
      PgRetry::kYes, "listing tables", [&](PgContext& c) -> Result<std::vector<TableSchema>> {
        std::vector<TableSchema> tables;
        for (const auto& row :
             Exec(c.tx,
                  "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                  " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
                  " AND c.relname <> 'schema_migrations' ORDER BY c.relname")) {
          TableSchema table;
          table.name = Text(row[0]);
          const auto columns = ReadColumns(c.tx, table.name);
          const auto order = OrderColumn(columns);
          table.insertion_order = order.has_value();
          std::vector<std::pair<int, std::string>> key;
          for (const auto& column : columns) {
            if (column.key_position > 0) key.emplace_back(column.key_position, column.name);
            // The insertion order outside the key is the backend's, not data (see rows.h).
            if (order && column.name == *order && column.key_position == 0) continue;
            table.columns.push_back({column.name, KindOf(column.type)});
          }
          std::sort(key.begin(), key.end());
          for (auto& [position, name] : key) table.key.push_back(std::move(name));
          for (const auto& reference :
               Exec(c.tx,
                    "SELECT DISTINCT r.relname, a.attname FROM pg_constraint k"
                    " JOIN pg_class r ON r.oid = k.confrelid"
                    " JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)"
                    " WHERE k.conrelid = quote_ident($1)::regclass AND k.contype = 'f'"
                    " ORDER BY 1, 2",
                    table.name)) {
            const std::string target = Text(reference[0]);
            if (target == table.name) {
              table.self_references.push_back(Text(reference[1]));
            } else if (std::find(table.references.begin(), table.references.end(), target) ==
                       table.references.end()) {
              table.references.push_back(target);
            }
          }
          tables.push_back(std::move(table));
        }
        return tables;
      });
}

Result<void> PostgresCatalog::ScanTableRows(const RowScan& scan, const RowVisitor& visit) {
  return Run(PgRetry::kNo, "reading table " + scan.table, [&](PgContext& c) -> Result<void> {
    const auto columns = ReadColumns(c.tx, scan.table);
    REPRISE_TRY(CheckColumns(columns, scan.table, scan.columns));
    REPRISE_TRY(CheckColumns(columns, scan.table, scan.key));
    const std::string table = QuoteName(scan.table);
    const std::string direction = scan.descending ? " DESC" : "";
    const char* after = scan.descending ? " < " : " > ";
    PgQuery query{"SELECT " + QuoteNames(scan.columns) + " FROM " + table, {}};
    if (scan.order == RowOrder::kInsertion) {
      const auto order = OrderColumn(columns);
      if (!order) {
        return Fail(ErrorCode::kInvalidArgument,
                    "table " + scan.table + " has no identity column to order by");
      }
      if (scan.after) {
        PgQuery found{"SELECT 1 FROM " + table + " WHERE ", {}};
        found.sql += KeyEquals(columns, scan.key, *scan.after, found);
        if (Exec(c.tx, found).empty()) {
          return Fail(ErrorCode::kNotFound, "no row of " + scan.table + " has that key");
        }
        query.sql += " WHERE " + QuoteName(*order) + after + "(SELECT " + QuoteName(*order) +
                     " FROM " + table + " WHERE ";
        query.sql += KeyEquals(columns, scan.key, *scan.after, query) + ")";
      }
      query.sql += " ORDER BY " + QuoteName(*order) + direction;
    } else {
      std::string ordered;
      for (const auto& name : scan.key) {
        ordered += (ordered.empty() ? "" : ", ") + Ordered(columns, name);
      }
      if (scan.after) {
        std::string values;
        for (size_t i = 0; i < scan.key.size(); ++i) {
          values += (i == 0 ? "" : ", ") + query.Add(ToValueParam(scan.after->at(i))) +
                    "::" + Find(columns, scan.key[i])->type;
        }
        query.sql += " WHERE (" + ordered + ")" + after + "(" + values + ")";
      }
      query.sql += " ORDER BY ";
      for (size_t i = 0; i < scan.key.size(); ++i) {
        query.sql += (i == 0 ? "" : ", ") + Ordered(columns, scan.key[i]) + direction;
      }
    }
    return ScanRows(c.tx, query, [&](const pqxx::row& result) -> Result<bool> {
      Row row;
      row.reserve(result.size());
      for (const auto& field : result) row.push_back(ReadValue(field));
      return visit(row);
    });
  });
}

Result<void> PostgresCatalog::WriteTableRows(const RowWrite& write) {
  return Run(PgRetry::kYes, "writing table " + write.table, [&](PgContext& c) -> Result<void> {
    const std::string table = QuoteName(write.table);
    const bool triggers = !Exec(c.tx,
                                "SELECT 1 FROM pg_trigger WHERE tgrelid = quote_ident($1)::regclass"
                                " AND NOT tgisinternal LIMIT 1",
                                write.table)
                               .empty();
    if (triggers) Exec(c.tx, "ALTER TABLE " + table + " DISABLE TRIGGER USER");
    const size_t keys = write.key.size();
    const size_t width = keys + write.columns.size();
    for (const Row& row : write.rows) {
      if (row.size() != width) {
        return Fail(ErrorCode::kInvalidArgument,
                    "a row of " + write.table + " has " + std::to_string(row.size()) + " values");
      }
    }
    if (keys == 0) {
      const std::string head =
          "INSERT INTO " + table + " (" + QuoteNames(write.columns) + ") VALUES ";
      const size_t per_statement = std::max<size_t>(1, kMaxParams / std::max<size_t>(1, width));
      for (size_t first = 0; first < write.rows.size(); first += per_statement) {
        PgQuery insert{head, {}};
        const size_t last = std::min(write.rows.size(), first + per_statement);
        for (size_t i = first; i < last; ++i) {
          insert.sql += i == first ? "(" : ", (";
          for (size_t j = 0; j < width; ++j) {
            insert.sql += (j == 0 ? "" : ", ") + insert.Add(ToValueParam(write.rows[i][j]));
          }
          insert.sql += ")";
        }
        Exec(c.tx, insert);
      }
    } else {
      for (const Row& row : write.rows) {
        PgQuery update{"UPDATE " + table + " SET ", {}};
        for (size_t j = 0; j < write.columns.size(); ++j) {
          update.sql += (j == 0 ? "" : ", ") + QuoteName(write.columns[j]) + " = " +
                        update.Add(ToValueParam(row[keys + j]));
        }
        update.sql += " WHERE ";
        for (size_t j = 0; j < keys; ++j) {
          update.sql += (j == 0 ? "" : " AND ") + QuoteName(write.key[j]) + " = " +
                        update.Add(ToValueParam(row[j]));
        }
        Exec(c.tx, update);
      }
    }
    if (triggers) Exec(c.tx, "ALTER TABLE " + table + " ENABLE TRIGGER USER");
    return {};
  });
}

Result<IdSequences> PostgresCatalog::ReadIdSequences() {
  return Run(PgRetry::kYes, "reading id sequences", [&](PgContext& c) -> Result<IdSequences> {
    IdSequences sequences;
    for (const auto& row : IdentityColumns(c.tx)) {
      // A sequence not yet called has handed nothing out.
      const auto state = Exec(c.tx, "SELECT last_value, is_called FROM " + Text(row[2]));
      const int64_t last = state[0][1].as<bool>() ? state[0][0].as<int64_t>() : 0;
      sequences.emplace_back(Text(row[0]) + "." + Text(row[1]), last);
    }
    return sequences;
  });
}

Result<void> PostgresCatalog::AdvanceIdSequences(const IdSequences& floors) {
  return Run(PgRetry::kYes, "advancing id sequences", [&](PgContext& c) -> Result<void> {
    for (const auto& row : IdentityColumns(c.tx)) {
      const std::string name = Text(row[0]) + "." + Text(row[1]);
      int64_t floor = 0;
      for (const auto& [sequence, value] : floors) {
        if (sequence == name) floor = value;
      }
      const std::string sequence = Text(row[2]);
      const auto state = Exec(c.tx,
                              "SELECT CASE WHEN is_called THEN last_value ELSE 0 END,"
                              " (SELECT coalesce(max(" +
                                  QuoteName(Text(row[1])) + "), 0) FROM " +
                                  QuoteName(Text(row[0])) + ") FROM " + sequence);
      const int64_t target =
          std::max({floor, state[0][0].as<int64_t>(), state[0][1].as<int64_t>()});
      if (target > 0) Exec(c.tx, "SELECT setval($1::regclass, $2, true)", sequence, target);
    }
    return {};
  });
}

}  // namespace reprise::catalog
