// The API-token section of the Catalog contract (catalog.h, "API tokens") for SQLite.
// Each method is one statement under the catalog's lock; writes run in a BEGIN IMMEDIATE
// transaction committed explicitly (so a failed commit is reported, never lost in the
// reset of a RETURNING statement) and RETURNING hands back the row written.

#include <sqlite3.h>

#include "catalog/codec.h"
#include "catalog/rules.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/sqlite_connection.h"

namespace reprise::catalog {
namespace {

std::string Sql(std::string_view head, std::string_view tail = {}) {
  return std::string(head) + std::string(kTokenColumns) + std::string(tail);
}

// The one row `statement` returns, or kNotFound with `missing`.
Result<ApiToken> OneToken(Statement& statement, const std::string& missing) {
  auto row = statement.Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return Fail(ErrorCode::kNotFound, missing);
  return ReadToken(statement);
}

std::string Unknown(int64_t id) { return "no API token with id " + std::to_string(id); }

}  // namespace

Result<ApiToken> SqliteCatalog::InsertApiToken(const NewApiToken& token) {
  REPRISE_TRY(CheckNewApiToken(token));
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto inserted = InTransaction(db, Transaction::Mode::kImmediate, [&]() -> Result<ApiToken> {
    auto statement =
        db.Prepare(Sql("INSERT INTO api_tokens (name, owner, admin, token_sha256, created_at)"
                       " VALUES (?, ?, ?, ?, ?) RETURNING "));
    if (!statement) return Fail(std::move(statement.error()));
    statement->BindText(token.name)
        .BindText(token.owner)
        .BindInt64(token.admin ? 1 : 0)
        .BindText(token.sha256_hex)
        .BindInt64(clock_.NowMicros());
    return OneToken(*statement, "INSERT ... RETURNING gave no row");
  });
  if (!inserted && inserted.error().code == ErrorCode::kConflict) {
    return Fail(ErrorCode::kConflict, "an API token with this hash exists already",
                inserted.error().origin);
  }
  if (!inserted) return Fail(inserted.error().Wrap("inserting an API token"));
  return inserted;
}

Result<ApiToken> SqliteCatalog::FindApiToken(std::string_view sha256_hex) {
  std::lock_guard lock(mu_);
  auto statement = connection_->Prepare(Sql("SELECT ", " FROM api_tokens WHERE token_sha256 = ?"));
  if (!statement) return Fail(statement.error().Wrap("finding an API token"));
  statement->BindText(sha256_hex);
  auto found = OneToken(*statement, "no API token has this hash");
  if (!found && found.error().code != ErrorCode::kNotFound) {
    return Fail(found.error().Wrap("finding an API token"));
  }
  return found;
}

Result<std::vector<ApiToken>> SqliteCatalog::ListApiTokens() {
  std::lock_guard lock(mu_);
  auto statement = connection_->Prepare(Sql("SELECT ", " FROM api_tokens ORDER BY id"));
  if (!statement) return Fail(statement.error().Wrap("listing API tokens"));
  std::vector<ApiToken> tokens;
  auto listed = statement->ForEachRow([&](const Statement& row) -> Result<bool> {
    tokens.push_back(ReadToken(row));
    return true;
  });
  if (!listed) return Fail(listed.error().Wrap("listing API tokens"));
  return tokens;
}

Result<int64_t> SqliteCatalog::CountActiveApiTokens() {
  std::lock_guard lock(mu_);
  auto statement = connection_->Prepare("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL");
  if (!statement) return Fail(statement.error().Wrap("counting API tokens"));
  auto row = statement->Step();
  if (!row) return Fail(row.error().Wrap("counting API tokens"));
  return *row ? statement->Int64(0) : 0;
}

Result<ApiToken> SqliteCatalog::RevokeApiToken(int64_t id) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto revoked = InTransaction(db, Transaction::Mode::kImmediate, [&]() -> Result<ApiToken> {
    auto statement = db.Prepare(
        Sql("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING "));
    if (!statement) return Fail(std::move(statement.error()));
    statement->BindInt64(clock_.NowMicros()).BindInt64(id);
    return OneToken(*statement, Unknown(id));
  });
  if (!revoked && revoked.error().code != ErrorCode::kNotFound) {
    return Fail(revoked.error().Wrap("revoking API token " + std::to_string(id)));
  }
  return revoked;
}

Result<void> SqliteCatalog::TouchApiToken(int64_t id, int64_t used_at) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto touched = InTransaction(db, Transaction::Mode::kImmediate, [&]() -> Result<void> {
    auto statement = db.Prepare(
        "UPDATE api_tokens SET last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < ?"
        " THEN ? ELSE last_used_at END WHERE id = ?");
    if (!statement) return Fail(std::move(statement.error()));
    statement->BindInt64(used_at).BindInt64(used_at).BindInt64(id);
    REPRISE_TRY(statement->Run());
    if (sqlite3_changes(db.get()) == 0) return Fail(ErrorCode::kNotFound, Unknown(id));
    return {};
  });
  if (!touched && touched.error().code != ErrorCode::kNotFound) {
    return Fail(touched.error().Wrap("recording the use of API token " + std::to_string(id)));
  }
  return touched;
}

}  // namespace reprise::catalog
