// Backoff ceilings, full jitter bounds and which errors are retried.
#include "queue/retry_policy.h"

#include <gtest/gtest.h>

namespace reprise::queue {
namespace {

TEST(RetryPolicy, CeilingDoublesFromTheBaseUpToTheMaximum) {
  RetryPolicy policy{5, 2'000'000, 30'000'000};
  EXPECT_EQ(BackoffCeiling(policy, 1), 2'000'000);
  EXPECT_EQ(BackoffCeiling(policy, 2), 4'000'000);
  EXPECT_EQ(BackoffCeiling(policy, 3), 8'000'000);
  EXPECT_EQ(BackoffCeiling(policy, 4), 16'000'000);
  EXPECT_EQ(BackoffCeiling(policy, 5), 30'000'000);
  EXPECT_EQ(BackoffCeiling(policy, 1000), 30'000'000) << "no overflow for many attempts";
  EXPECT_EQ(BackoffCeiling(RetryPolicy{5, 0, 10}, 7), 0);
}

TEST(RetryPolicy, FullJitterStaysWithinTheCeilingAndSpreadsOut) {
  RetryPolicy policy{5, 1'000'000, 60'000'000};
  SeededRandom random(7);
  for (int attempts = 1; attempts <= 8; ++attempts) {
    int64_t ceiling = BackoffCeiling(policy, attempts);
    int64_t low = ceiling;
    int64_t high = 0;
    for (int i = 0; i < 200; ++i) {
      int64_t delay = BackoffDelay(policy, attempts, random);
      ASSERT_GE(delay, 0);
      ASSERT_LE(delay, ceiling);
      low = std::min(low, delay);
      high = std::max(high, delay);
    }
    EXPECT_LT(low, ceiling / 4) << "attempt " << attempts;
    EXPECT_GT(high, ceiling * 3 / 4) << "attempt " << attempts;
  }
}

TEST(RetryPolicy, TheSameSeedGivesTheSameDelays) {
  RetryPolicy policy;
  SeededRandom a(99);
  SeededRandom b(99);
  for (int attempts = 1; attempts <= 5; ++attempts) {
    EXPECT_EQ(BackoffDelay(policy, attempts, a), BackoffDelay(policy, attempts, b));
  }
}

TEST(RetryPolicy, OnlyTransientErrorsAreRetried) {
  EXPECT_TRUE(IsRetryable({ErrorCode::kIo, "disk hiccup", ""}));
  EXPECT_TRUE(IsRetryable({ErrorCode::kUnavailable, "timed out", ""}));
  for (auto code : {ErrorCode::kUnsupportedMedia, ErrorCode::kInvalidArgument, ErrorCode::kNotFound,
                    ErrorCode::kInternal, ErrorCode::kConflict, ErrorCode::kCancelled}) {
    EXPECT_FALSE(IsRetryable({code, "x", ""})) << ErrorCodeName(code);
  }
}

}  // namespace
}  // namespace reprise::queue
