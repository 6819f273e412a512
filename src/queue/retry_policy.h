// RetryPolicy: when a failed job runs again.
//
// Transient errors (IsTransient: kIo, kUnavailable; a timeout is reported as kUnavailable)
// are retried after an exponential backoff with full jitter: the n-th attempt waits a
// uniformly random time in [0, min(max, base * 2^(n-1))], so workers that failed
// together do not retry together. Permanent errors (kUnsupportedMedia,
// kInvalidArgument, everything else) are not retried: the same input would fail again.
// A job that used max_attempts claims fails for good.
//
// Pure functions over an injected Random; thread-safe as the Random is.
#pragma once

#include <cstdint>

#include "core/error.h"
#include "core/random.h"

namespace reprise::queue {

struct RetryPolicy {
  int max_attempts = 5;
  int64_t backoff_base_micros = 2'000'000;
  int64_t backoff_max_micros = 600'000'000;
};

// Whether an error of this kind is worth another attempt.
[[nodiscard]] bool IsRetryable(const Error& error);

// The largest delay after the `attempts`-th failed attempt (1-based):
// min(max, base * 2^(attempts-1)), without overflow for any attempts.
[[nodiscard]] int64_t BackoffCeiling(const RetryPolicy& policy, int attempts);

// A delay drawn uniformly from [0, BackoffCeiling(policy, attempts)].
[[nodiscard]] int64_t BackoffDelay(const RetryPolicy& policy, int attempts, Random& random);

}  // namespace reprise::queue
