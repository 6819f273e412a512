#include "queue/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace reprise::queue {

bool IsRetryable(const Error& error) { return IsTransient(error.code); }

int64_t BackoffCeiling(const RetryPolicy& policy, int attempts) {
  int64_t ceiling = std::max<int64_t>(policy.backoff_base_micros, 0);
  const int64_t max = std::max<int64_t>(policy.backoff_max_micros, 0);
  for (int i = 1; i < attempts && ceiling < max; ++i) {
    ceiling = ceiling > max / 2 ? max : ceiling * 2;
    if (ceiling == 0) break;  // a zero base stays zero
  }
  return std::min(ceiling, max);
}

int64_t BackoffDelay(const RetryPolicy& policy, int attempts, Random& random) {
  const double ceiling = static_cast<double>(BackoffCeiling(policy, attempts));
  // Uniform() < 1, so floor(u * (ceiling + 1)) lands in [0, ceiling].
  return static_cast<int64_t>(std::floor(random.Uniform() * (ceiling + 1)));
}

}  // namespace reprise::queue
