#include "catalog/service_permits.h"

#include <algorithm>

namespace reprise::catalog {

Result<void> CheckPermitRequest(const PermitRequest& request) {
  if (request.service.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "a service permit needs a service name");
  }
  if (request.max_concurrent < 1 || request.requests_per_minute < 0 || request.lease_micros < 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "service " + request.service +
                    ": a permit needs max_concurrent of 1 or more, requests_per_minute of 0 or "
                    "more and a lease above 0");
  }
  return {};
}

std::string ServiceRateKey(std::string_view service) { return "service:" + std::string(service); }

Result<PermitGrant> GrantPermit(const PermitRequest& request, int64_t now, PermitStore& store) {
  REPRISE_TRY(CheckPermitRequest(request));
  PermitGrant grant;
  auto live = store.CountLivePermits(request.service, now);
  if (!live) return Fail(std::move(live.error()));
  if (*live >= request.max_concurrent) {
    grant.held_back_by = "max_concurrent";
    return grant;
  }
  const std::string key = ServiceRateKey(request.service);
  if (request.requests_per_minute > 0) {
    auto started = store.starts().CountStarts(key, now - kServiceRateWindowMicros);
    if (!started) return Fail(std::move(started.error()));
    if (*started >= request.requests_per_minute) {
      auto oldest = store.OldestStart(key);
      if (!oldest) return Fail(std::move(oldest.error()));
      grant.held_back_by = "requests_per_minute";
      // A start at exactly now - window has left it (CountStarts forgets it).
      grant.retry_in_micros =
          std::max<int64_t>(1, (oldest->value_or(now) + kServiceRateWindowMicros) - now);
      return grant;
    }
  }
  auto id = store.InsertPermit(request, now, now + request.lease_micros);
  if (!id) return Fail(std::move(id.error()));
  // Without a per-minute limit nothing reads the window: no row to forget later.
  if (request.requests_per_minute > 0) REPRISE_TRY(store.starts().RecordStarts(key, 1));
  grant.id = *id;
  return grant;
}

}  // namespace reprise::catalog
