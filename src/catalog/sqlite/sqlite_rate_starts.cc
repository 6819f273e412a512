#include "catalog/sqlite/sqlite_rate_starts.h"

#include <utility>

namespace reprise::catalog {

Result<int64_t> SqliteRateStarts::CountStarts(const std::string& key, int64_t expired) {
  {
    auto forget = db_.Prepare("DELETE FROM rate_starts WHERE key = ? AND started_at <= ?");
    if (!forget) return Fail(std::move(forget.error()));
    forget->BindText(key).BindInt64(expired);
    REPRISE_TRY(forget->Run());
  }
  auto count = db_.Prepare("SELECT COUNT(*) FROM rate_starts WHERE key = ?");
  if (!count) return Fail(std::move(count.error()));
  count->BindText(key);
  auto row = count->Step();
  if (!row) return Fail(std::move(row.error()));
  return *row ? count->Int64(0) : 0;
}

Result<void> SqliteRateStarts::RecordStarts(const std::string& key, int64_t count) {
  if (count <= 0) return {};
  // One statement for any count: a recursive series of `count` rows.
  auto insert = db_.Prepare(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
      " INSERT INTO rate_starts (key, started_at) SELECT ?, ? FROM n");
  if (!insert) return Fail(std::move(insert.error()));
  insert->BindInt64(count).BindText(key).BindInt64(now_);
  return insert->Run();
}

Result<std::optional<TokenBucket>> SqliteRateStarts::LoadBucket(const std::string& key) {
  auto select = db_.Prepare("SELECT tokens, updated_at FROM rate_buckets WHERE key = ?");
  if (!select) return Fail(std::move(select.error()));
  select->BindText(key);
  auto row = select->Step();
  if (!row) return Fail(std::move(row.error()));
  if (!*row) return std::optional<TokenBucket>();
  return std::optional<TokenBucket>(TokenBucket{select->Double(0), select->Int64(1)});
}

Result<void> SqliteRateStarts::StoreBucket(const std::string& key, const TokenBucket& bucket) {
  auto upsert = db_.Prepare(
      "INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?) ON CONFLICT (key)"
      " DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at");
  if (!upsert) return Fail(std::move(upsert.error()));
  upsert->BindText(key).BindDouble(bucket.tokens).BindInt64(bucket.at);
  return upsert->Run();
}

}  // namespace reprise::catalog
