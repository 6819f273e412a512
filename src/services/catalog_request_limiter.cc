#include "services/catalog_request_limiter.h"

#include <algorithm>
#include <utility>

namespace reprise::services {
namespace {

constexpr int64_t kFirstPollMicros = 20'000;
constexpr int64_t kLongestPollMicros = 500'000;

}  // namespace

Result<std::unique_ptr<CatalogRequestLimiter>> CatalogRequestLimiter::Create(
    CatalogLimiterOptions options, catalog::Catalog& catalog, const Clock& clock,
    ai::Sleeper& sleeper) {
  if (options.service.empty() || options.lease.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "a catalog request limiter needs a service name and a lease above 0");
  }
  // Locally only the concurrency: the per-minute window is the catalog's, shared by all.
  auto local = ai::ProcessRequestLimiter::Create(
      ai::RequestLimits{options.limits.max_concurrent, 0}, clock, sleeper);
  if (!local) return Fail(std::move(local.error()));
  return std::unique_ptr<CatalogRequestLimiter>(
      new CatalogRequestLimiter(std::move(options), catalog, clock, sleeper, std::move(*local)));
}

Result<ai::RequestPermit> CatalogRequestLimiter::Acquire(int64_t deadline_micros) {
  auto local = local_->Acquire(deadline_micros);
  if (!local) return Fail(std::move(local.error()));
  catalog::PermitRequest request;
  request.service = options_.service;
  request.holder = options_.holder;
  request.max_concurrent = options_.limits.max_concurrent;
  request.requests_per_minute = options_.limits.requests_per_minute;
  request.lease_micros = options_.lease.count();
  int64_t poll = kFirstPollMicros;
  for (;;) {
    auto grant = catalog_.AcquireServicePermit(request);
    if (!grant) return Fail(grant.error().Wrap("service " + options_.service));
    if (grant->granted()) {
      return ai::RequestPermit(
          [this, id = grant->id, held = std::make_shared<ai::RequestPermit>(std::move(*local))] {
            // A release that fails (the database is away) leaves the row to expire with its
            // lease; the request itself is over either way.
            static_cast<void>(catalog_.ReleaseServicePermit(id));
            held->Release();
          });
    }
    const int64_t now = clock_.MonotonicMicros();
    // The per-minute window says when; max_concurrent cannot: poll, until the deadline.
    const bool certain = grant->retry_in_micros > 0;
    int64_t wait = certain ? grant->retry_in_micros : poll;
    poll = std::min(poll * 2, kLongestPollMicros);
    if (now >= deadline_micros || (certain && now + wait > deadline_micros)) {
      return Fail(ErrorCode::kUnavailable,
                  "service " + options_.service +
                      ": no request permit before the deadline (held back by " +
                      grant->held_back_by + " across the processes sharing the catalog)");
    }
    wait = std::min(wait, deadline_micros - now);
    sleeper_.Sleep(std::chrono::microseconds(wait));
  }
}

}  // namespace reprise::services
