// CatalogRequestLimiter: the ai::RequestLimiter of a service whose limits hold across
// every process that shares the catalog (issue 14: "maximum concurrent requests and
// requests per minute hold across all workers"), on SQLite and PostgreSQL alike.
//
// An attempt first takes a permit of this process's own ProcessRequestLimiter with the
// same max_concurrent (so at most that many threads of a process ever ask the catalog), then
// a catalog permit (Catalog::AcquireServicePermit, catalog/service_permits.h). While the
// catalog refuses, it waits: until the oldest start leaves the minute window when the
// per-minute limit refused, else polling from 20 ms, doubling up to 500 ms, since nobody
// knows when another process's request ends. Past the deadline: kUnavailable naming the
// service and the limit that held it back. Releasing the permit deletes the catalog row;
// a process killed while holding one leaves it to expire after `lease` (so the lease must
// outlast one attempt: the request timeout and some).
//
// Thread-safe; the catalog, clock and sleeper must outlive it and its permits.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "ai/limiter.h"
#include "ai/sleeper.h"
#include "catalog/catalog.h"
#include "core/clock.h"

namespace reprise::services {

struct CatalogLimiterOptions {
  std::string service;  // the [services.NAME]
  std::string holder;   // host:pid, written beside each permit
  ai::RequestLimits limits;
  std::chrono::microseconds lease{std::chrono::minutes(6)};
};

class CatalogRequestLimiter final : public ai::RequestLimiter {
 public:
  // kInvalidArgument for limits a ProcessRequestLimiter refuses, an empty service or a
  // lease that is not positive.
  [[nodiscard]] static Result<std::unique_ptr<CatalogRequestLimiter>> Create(
      CatalogLimiterOptions options, catalog::Catalog& catalog, const Clock& clock,
      ai::Sleeper& sleeper);

  [[nodiscard]] Result<ai::RequestPermit> Acquire(int64_t deadline_micros) override;

 private:
  CatalogRequestLimiter(CatalogLimiterOptions options, catalog::Catalog& catalog,
                        const Clock& clock, ai::Sleeper& sleeper,
                        std::unique_ptr<ai::ProcessRequestLimiter> local)
      : options_(std::move(options)),
        catalog_(catalog),
        clock_(clock),
        sleeper_(sleeper),
        local_(std::move(local)) {}

  const CatalogLimiterOptions options_;
  catalog::Catalog& catalog_;
  const Clock& clock_;
  ai::Sleeper& sleeper_;
  std::unique_ptr<ai::ProcessRequestLimiter> local_;
};

}  // namespace reprise::services
