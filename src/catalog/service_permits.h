// Service permits: requests to an external service (`[services.NAME]`, an
// OpenAI-compatible endpoint) that every process sharing the catalog counts together,
// so a service's max_concurrent and requests_per_minute hold across all workers on all
// machines, not per process (services/catalog_request_limiter.h is the ai::RequestLimiter
// over it).
//
// A permit is held from a grant until it is released or its lease ends, so the permits
// of a killed worker free themselves after `lease_micros`. With requests_per_minute set,
// each grant also records a start under the rate key "service:NAME" in rate_starts
// (catalog/limited_claim.h), the sliding window of the last 60 s the limit is checked
// against. A refusal
// says which limit held it back and, for the per-minute limit, when the oldest start in
// the window leaves it (for max_concurrent nobody knows when a holder finishes: the
// caller polls).
//
// The decision is written once here (GrantPermit) over a PermitStore each backend
// implements inside one transaction; on PostgreSQL the transaction first takes an
// advisory lock on the service, so two processes never both take the last permit;
// SQLite's single writer serialises grants already.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "catalog/limited_claim.h"
#include "core/error.h"

namespace reprise::catalog {

inline constexpr int64_t kServiceRateWindowMicros = 60'000'000;

struct PermitRequest {
  std::string service;          // the [services.NAME]
  std::string holder;           // who asks (host:pid), for operators reading the table
  int max_concurrent = 1;       // > 0
  int requests_per_minute = 0;  // 0: no per-minute limit
  int64_t lease_micros = 0;     // > 0: when an unreleased permit frees itself
};

struct PermitGrant {
  int64_t id = 0;               // the permit; 0 when refused
  std::string held_back_by;     // refused: "max_concurrent" or "requests_per_minute"
  int64_t retry_in_micros = 0;  // refused by the per-minute limit: when a start leaves
                                // the window; 0 for max_concurrent (poll)
  bool granted() const { return id != 0; }
};

// kInvalidArgument for an empty service, max_concurrent < 1, requests_per_minute < 0 or a
// lease that is not positive.
[[nodiscard]] Result<void> CheckPermitRequest(const PermitRequest& request);

std::string ServiceRateKey(std::string_view service);

// The queries of one grant, in one transaction (after the backend's lock on the service).
class PermitStore {
 public:
  virtual ~PermitStore() = default;
  [[nodiscard]] virtual RateStarts& starts() = 0;
  // Deletes the permits of `service` whose lease ended at or before `now`, then counts
  // the rest.
  [[nodiscard]] virtual Result<int64_t> CountLivePermits(const std::string& service,
                                                         int64_t now) = 0;
  // The oldest start recorded under `key`, nullopt when there is none.
  [[nodiscard]] virtual Result<std::optional<int64_t>> OldestStart(const std::string& key) = 0;
  // Inserts a permit and returns its id (> 0).
  [[nodiscard]] virtual Result<int64_t> InsertPermit(const PermitRequest& request, int64_t now,
                                                     int64_t expires_at) = 0;
};

// Grants a permit when both limits leave room at `now` (the transaction's time), recording
// its start; otherwise says which limit refused it.
[[nodiscard]] Result<PermitGrant> GrantPermit(const PermitRequest& request, int64_t now,
                                              PermitStore& store);

}  // namespace reprise::catalog
