// API tokens and asset deletion in the PostgreSQL catalog (the contract is catalog.h,
// "API tokens" and "Deleting assets"); the rules are the SQLite backend's.

#include "catalog/postgres/pg_internal.h"
#include "catalog/rules.h"

namespace reprise::catalog {
namespace {

std::string TokenSql(std::string_view head, std::string_view tail = {}) {
  return std::string(head) + std::string(kTokenColumns) + std::string(tail);
}

std::string Unknown(int64_t id) { return "no API token with id " + std::to_string(id); }

}  // namespace

Result<ApiToken> PostgresCatalog::InsertApiToken(const NewApiToken& token) {
  REPRISE_TRY(CheckNewApiToken(token));
  auto inserted = Run(PgRetry::kYes, "inserting an API token", [&](PgContext& c) {
    auto rows = Exec(c.tx,
                     TokenSql("INSERT INTO api_tokens (name, owner, admin, token_sha256,"
                              " created_at) VALUES ($1, $2, $3, $4, $5) RETURNING "),
                     token.name, token.owner, token.admin, token.sha256_hex, c.now);
    return Result<ApiToken>(ReadToken(PgRow(rows[0])));
  });
  if (!inserted && inserted.error().code == ErrorCode::kConflict) {
    return Fail(ErrorCode::kConflict, "an API token with this hash exists already",
                inserted.error().origin);
  }
  return inserted;
}

Result<ApiToken> PostgresCatalog::FindApiToken(std::string_view sha256_hex) {
  return Run(PgRetry::kYes, "finding an API token", [&](PgContext& c) -> Result<ApiToken> {
    auto rows =
        Exec(c.tx, TokenSql("SELECT ", " FROM api_tokens WHERE token_sha256 = $1"), sha256_hex);
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no API token has this hash");
    return ReadToken(PgRow(rows[0]));
  });
}

Result<std::vector<ApiToken>> PostgresCatalog::ListApiTokens() {
  return Run(PgRetry::kYes, "listing API tokens", [&](PgContext& c) {
    std::vector<ApiToken> tokens;
    for (const auto& row : Exec(c.tx, TokenSql("SELECT ", " FROM api_tokens ORDER BY id"))) {
      tokens.push_back(ReadToken(PgRow(row)));
    }
    return Result<std::vector<ApiToken>>(std::move(tokens));
  });
}

Result<int64_t> PostgresCatalog::CountActiveApiTokens() {
  return Run(PgRetry::kYes, "counting API tokens", [&](PgContext& c) -> Result<int64_t> {
    return Int(Exec(c.tx, "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL")[0][0]);
  });
}

Result<ApiToken> PostgresCatalog::RevokeApiToken(int64_t id) {
  return Run(PgRetry::kYes, "revoking API token " + std::to_string(id),
             [&](PgContext& c) -> Result<ApiToken> {
               auto rows = Exec(c.tx,
                                TokenSql("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at,"
                                         " $1) WHERE id = $2 RETURNING "),
                                c.now, id);
               if (rows.empty()) return Fail(ErrorCode::kNotFound, Unknown(id));
               return ReadToken(PgRow(rows[0]));
             });
}

Result<void> PostgresCatalog::TouchApiToken(int64_t id, int64_t used_at) {
  return Run(PgRetry::kYes, "recording the use of API token " + std::to_string(id),
             [&](PgContext& c) -> Result<void> {
               auto rows = Exec(c.tx,
                                "UPDATE api_tokens SET last_used_at = GREATEST(COALESCE("
                                "last_used_at, $1), $1) WHERE id = $2 RETURNING id",
                                used_at, id);
               if (rows.empty()) return Fail(ErrorCode::kNotFound, Unknown(id));
               return {};
             });
}

// The schema's foreign keys do the cascade (derivatives, jobs, job_stages and backfill
// plan rows go with the asset; children's parent_id becomes NULL); the plan rows' items
// leave backfill_counts first, which no cascade does. The asset's row lock keeps a claim
// from starting a job of it between the check and the delete.
Result<bool> PostgresCatalog::DeleteAsset(std::string_view id, const AssetFilter& scope) {
  return Run(PgRetry::kYes, "deleting asset " + std::string(id), [&](PgContext& c) -> Result<bool> {
    PgQuery found;
    found.sql = "SELECT a.sha256 FROM assets a WHERE a.id = " + found.Add(id);
    AddAssetConditions(scope, found);
    found.sql += " FOR UPDATE OF a";
    auto rows = Exec(c.tx, found);
    if (rows.empty()) return AssetNotFound(id);
    auto running = Exec(c.tx,
                        "SELECT id FROM jobs WHERE asset_id = $1 AND state = 'running'"
                        " ORDER BY id LIMIT 1 FOR UPDATE",
                        id);
    if (!running.empty()) {
      return Fail(ErrorCode::kConflict,
                  "asset " + std::string(id) + " has a running job (" +
                      std::to_string(Int(running[0][0])) +
                      "); cancel it or wait for it to finish, then delete the asset");
    }
    const bool shared = !Exec(c.tx, "SELECT 1 FROM assets WHERE id <> $1 AND sha256 = $2 LIMIT 1",
                              id, Text(rows[0][0]))
                             .empty();
    REPRISE_TRY(UncountPgAssetPlans(c, id));
    Exec(c.tx, "DELETE FROM assets WHERE id = $1", id);
    return shared;
  });
}

}  // namespace reprise::catalog
