// Service permits in the SQLite catalog (catalog.h, "Service permits"; the decision is
// catalog/service_permits.h's GrantPermit). A grant is one BEGIN IMMEDIATE transaction:
// SQLite's single writer serialises grants from every process on the file.

#include <sqlite3.h>

#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/sqlite_connection.h"
#include "catalog/sqlite/sqlite_rate_starts.h"

namespace reprise::catalog {
namespace {

class SqlitePermitStore final : public PermitStore {
 public:
  SqlitePermitStore(SqliteConnection& db, int64_t now) : db_(db), starts_(db, now) {}

  RateStarts& starts() override { return starts_; }

  Result<int64_t> CountLivePermits(const std::string& service, int64_t now) override {
    {
      auto sweep = db_.Prepare("DELETE FROM service_permits WHERE service = ? AND expires_at <= ?");
      if (!sweep) return Fail(std::move(sweep.error()));
      sweep->BindText(service).BindInt64(now);
      REPRISE_TRY(sweep->Run());
    }
    auto count = db_.Prepare("SELECT COUNT(*) FROM service_permits WHERE service = ?");
    if (!count) return Fail(std::move(count.error()));
    count->BindText(service);
    auto row = count->Step();
    if (!row) return Fail(std::move(row.error()));
    return *row ? count->Int64(0) : 0;
  }

  Result<std::optional<int64_t>> OldestStart(const std::string& key) override {
    auto oldest = db_.Prepare("SELECT MIN(started_at) FROM rate_starts WHERE key = ?");
    if (!oldest) return Fail(std::move(oldest.error()));
    oldest->BindText(key);
    auto row = oldest->Step();
    if (!row) return Fail(std::move(row.error()));
    if (!*row || oldest->IsNull(0)) return std::optional<int64_t>();
    return std::optional<int64_t>(oldest->Int64(0));
  }

  Result<int64_t> InsertPermit(const PermitRequest& request, int64_t now,
                               int64_t expires_at) override {
    auto insert = db_.Prepare(
        "INSERT INTO service_permits (service, holder, acquired_at, expires_at)"
        " VALUES (?, ?, ?, ?)");
    if (!insert) return Fail(std::move(insert.error()));
    insert->BindText(request.service).BindText(request.holder).BindInt64(now).BindInt64(expires_at);
    REPRISE_TRY(insert->Run());
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_.get()));
  }

 private:
  SqliteConnection& db_;
  SqliteRateStarts starts_;
};

}  // namespace

Result<PermitGrant> SqliteCatalog::AcquireServicePermit(const PermitRequest& request) {
  REPRISE_TRY(CheckPermitRequest(request));
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  const int64_t now = clock_.NowMicros();
  auto granted = InTransaction(db, Transaction::Mode::kImmediate, [&]() -> Result<PermitGrant> {
    SqlitePermitStore store(db, now);
    return GrantPermit(request, now, store);
  });
  if (!granted) return Fail(granted.error().Wrap("a permit for service " + request.service));
  return granted;
}

Result<void> SqliteCatalog::ReleaseServicePermit(int64_t id) {
  std::lock_guard lock(mu_);
  SqliteConnection& db = *connection_;
  auto released = InTransaction(db, Transaction::Mode::kImmediate, [&]() -> Result<void> {
    auto statement = db.Prepare("DELETE FROM service_permits WHERE id = ?");
    if (!statement) return Fail(std::move(statement.error()));
    statement->BindInt64(id);
    return statement->Run();
  });
  if (!released)
    return Fail(released.error().Wrap("releasing service permit " + std::to_string(id)));
  return {};
}

}  // namespace reprise::catalog
