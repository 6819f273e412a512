// `--where` text comes from users and, through the HTTP API, from anyone with a token:
// any bytes must parse or come back as a "where: ..." kInvalidArgument, never crash or
// recurse without bound. What parses must print to a canonical text that parses to the
// same canonical text, and compile to SQL that SQLite prepares and runs against the real
// schema with one bound value per `?`. The SQL text must not depend on the values: the
// same tree with every value blanked compiles to the same text, so nothing the user typed
// (a quote, a comment, a stage name) can reach the SQL.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "catalog/migrations/migrations.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/sqlite/sqlite_handles.h"
#include "catalog/sqlite/sqlite_where.h"
#include "catalog/where.h"

namespace {

using reprise::catalog::WhereExpr;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

sqlite3* Database() {
  static reprise::catalog::SqlitePtr db = [] {
    sqlite3* raw = nullptr;
    Check(sqlite3_open(":memory:", &raw) == SQLITE_OK);
    reprise::catalog::SqlitePtr owned(raw);
    for (const auto& migration : reprise::catalog::SqliteMigrations()) {
      Check(sqlite3_exec(raw, std::string(migration.up_sql).c_str(), nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    }
    // Rows for the subqueries to walk: one asset with probe streams and tags, one without.
    const char* rows = R"sql(
      INSERT INTO assets (id, owner, source, sha256, cid, size_bytes, original_key,
        original_name, source_uri, status, kind, duration_seconds, width, height, created_at,
        updated_at)
      VALUES ('a1', 'o', 'scan', 's1', 'c1', 10, 'k1', 'n1', 'u1', 'ready', 'video', 61.5, 1280,
        720, 1, 1),
             ('a2', 'o', 'url', 's2', 'c2', 20, 'k2', 'n2', 'u2', 'pending', 'audio', NULL,
        NULL, NULL, 2, 2);
      INSERT INTO derivatives (asset_id, stage, stage_version, recipe, state, metadata,
        is_current, created_at)
      VALUES ('a1', 'probe', 1, 'r', 'done', '{"bit_rate":900,"streams":[{"type":"video",
        "codec":"mjpeg","attached_picture":true},{"type":"video","codec":"h264",
        "frame_rate":25},{"type":"audio","codec":"aac","sample_rate":48000,"channels":2}]}', 1,
        1),
             ('a1', 'tags', 1, 'r', 'done', '{"tags":["dog","cat"]}', 1, 1),
             ('a2', 'probe', 1, 'r', 'failed', '{}', 0, 2);
    )sql";
    Check(sqlite3_exec(raw, rows, nullptr, nullptr, nullptr) == SQLITE_OK);
    return owned;
  }();
  return db.get();
}

// The same tree with every value replaced by a fixed one of its type.
std::shared_ptr<const WhereExpr> Blank(const WhereExpr& expr) {
  auto copy = std::make_shared<WhereExpr>(expr);
  for (auto& child : copy->children) child = Blank(*child);
  for (auto& value : copy->values) {
    if (std::holds_alternative<std::string>(value)) value = std::string();
    if (std::holds_alternative<int64_t>(value) || std::holds_alternative<double>(value)) {
      value = int64_t{0};
    }
    if (std::holds_alternative<bool>(value)) value = false;
  }
  if (!copy->stage.empty()) copy->stage = "x";
  return copy;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  Database();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = reprise::catalog::ParseWhere(text);
  if (!parsed) {
    Check(parsed.error().code == reprise::ErrorCode::kInvalidArgument);
    Check(parsed.error().message.rfind("where: ", 0) == 0);
    return 0;
  }
  const std::string canonical = reprise::catalog::ToString(**parsed);
  auto again = reprise::catalog::ParseWhere(canonical);
  Check(again.has_value());
  Check(reprise::catalog::ToString(**again) == canonical);

  reprise::catalog::SqlQuery where = reprise::catalog::CompileWhere(**parsed);
  Check(reprise::catalog::CompileWhere(*Blank(**parsed)).sql == where.sql);
  Check(reprise::catalog::CompileWhere(**again).sql == where.sql);

  sqlite3* db = Database();
  const std::string sql = "SELECT COUNT(*) FROM assets a WHERE " + where.sql;
  sqlite3_stmt* raw = nullptr;
  Check(sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) == SQLITE_OK);
  reprise::catalog::StmtPtr owned(raw);
  Check(sqlite3_bind_parameter_count(raw) == static_cast<int>(where.binds.size()));
  reprise::catalog::Statement statement(db, raw, nullptr, nullptr);
  statement.BindAll(where.binds);
  auto row = statement.Step();
  Check(row.has_value() && *row);
  Check(statement.Int64(0) >= 0 && statement.Int64(0) <= 2);
  return 0;
}
