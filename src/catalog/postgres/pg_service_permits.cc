// Service permits in the PostgreSQL catalog (catalog.h, "Service permits"; the decision
// is catalog/service_permits.h's GrantPermit). A grant first takes a transaction-scoped
// advisory lock on the service, so two processes never both take its last permit: at
// READ COMMITTED the statements after the lock see every grant committed before it.

#include "catalog/postgres/pg_internal.h"

namespace reprise::catalog {
namespace {

// The advisory lock class of service permits ("RPSP"), apart from the stage limits'.
constexpr int kPermitLockClass = 0x52505350;

class PgPermitStore final : public PermitStore {
 public:
  explicit PgPermitStore(PgContext& c) : c_(c), starts_(c) {}

  RateStarts& starts() override { return starts_; }

  Result<int64_t> CountLivePermits(const std::string& service, int64_t now) override {
    Exec(c_.tx, "DELETE FROM service_permits WHERE service = $1 AND expires_at <= $2", service,
         now);
    return Int(
        Exec(c_.tx, "SELECT COUNT(*) FROM service_permits WHERE service = $1", service)[0][0]);
  }

  Result<std::optional<int64_t>> OldestStart(const std::string& key) override {
    auto rows = Exec(c_.tx, "SELECT MIN(started_at) FROM rate_starts WHERE key = $1", key);
    if (rows[0][0].is_null()) return std::optional<int64_t>();
    return std::optional<int64_t>(Int(rows[0][0]));
  }

  Result<int64_t> InsertPermit(const PermitRequest& request, int64_t now,
                               int64_t expires_at) override {
    auto rows = Exec(c_.tx,
                     "INSERT INTO service_permits (service, holder, acquired_at, expires_at)"
                     " VALUES ($1, $2, $3, $4) RETURNING id",
                     request.service, request.holder, now, expires_at);
    return Int(rows[0][0]);
  }

 private:
  PgContext& c_;
  PgRateStarts starts_;
};

}  // namespace

Result<PermitGrant> PostgresCatalog::AcquireServicePermit(const PermitRequest& request) {
  REPRISE_TRY(CheckPermitRequest(request));
  return Run(PgRetry::kYes, "a permit for service " + request.service, [&](PgContext& c) {
    Exec(c.tx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", kPermitLockClass, request.service);
    PgPermitStore store(c);
    return GrantPermit(request, c.now, store);
  });
}

Result<void> PostgresCatalog::ReleaseServicePermit(int64_t id) {
  return Run(PgRetry::kYes, "releasing service permit " + std::to_string(id),
             [&](PgContext& c) -> Result<void> {
               Exec(c.tx, "DELETE FROM service_permits WHERE id = $1", id);
               return {};
             });
}

}  // namespace reprise::catalog
