// The rate tables (rate_starts, rate_buckets) of the SQLite catalog (catalog/stage_limits.h): the
// starts of rate-limited stages and backfills, read and written inside the caller's transaction
// (BEGIN IMMEDIATE makes the count and the insert one step across processes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "catalog/limited_claim.h"
#include "catalog/sqlite/sqlite_connection.h"

namespace reprise::catalog {

class SqliteRateStarts : public RateStarts {
 public:
  SqliteRateStarts(SqliteConnection& db, int64_t now) : db_(db), now_(now) {}

  [[nodiscard]] Result<int64_t> CountStarts(const std::string& key, int64_t expired) override;
  [[nodiscard]] Result<void> RecordStarts(const std::string& key, int64_t count) override;
  [[nodiscard]] Result<std::optional<TokenBucket>> LoadBucket(const std::string& key) override;
  [[nodiscard]] Result<void> StoreBucket(const std::string& key,
                                         const TokenBucket& bucket) override;

 private:
  SqliteConnection& db_;
  const int64_t now_;
};

}  // namespace reprise::catalog
