#include "ai/limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/ai/ai_fakes.h"

namespace reprise::ai {
namespace {

class LimiterTest : public ::testing::Test {
 protected:
  std::unique_ptr<ProcessRequestLimiter> Make(RequestLimits limits) {
    auto limiter = ProcessRequestLimiter::Create(limits, clock_, sleeper_);
    EXPECT_TRUE(limiter) << limiter.error().ToString();
    return std::move(*limiter);
  }
  int64_t Later(int64_t seconds) const { return clock_.MonotonicMicros() + seconds * 1'000'000; }

  FakeClock clock_;
  FakeSleeper sleeper_{clock_};
};

TEST_F(LimiterTest, CreateRefusesImpossibleLimits) {
  auto none = ProcessRequestLimiter::Create(Limits(0), clock_, sleeper_);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(ProcessRequestLimiter::Create(Limits(1, -1), clock_, sleeper_));
}

TEST_F(LimiterTest, AFullLimiterFailsAtTheDeadlineAndAReleasedPermitIsReused) {
  auto limiter = Make(Limits(2));
  auto first = limiter->Acquire(Later(10));
  auto second = limiter->Acquire(Later(10));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(limiter->in_flight(), 2);
  auto third = limiter->Acquire(clock_.MonotonicMicros());
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(third.error().message,
            "2 requests are in flight, the limit, and none finished before the deadline");
  first->Release();
  first->Release();  // once only
  EXPECT_EQ(limiter->in_flight(), 1);
  auto again = limiter->Acquire(clock_.MonotonicMicros());
  ASSERT_TRUE(again);
  EXPECT_EQ(limiter->in_flight(), 2);
}

TEST_F(LimiterTest, PermitsMoveWithoutReleasingTwice) {
  auto limiter = Make(Limits(3));
  {
    auto permit = limiter->Acquire(Later(1));
    ASSERT_TRUE(permit);
    RequestPermit moved = std::move(*permit);
    RequestPermit assigned;
    assigned = std::move(moved);
    EXPECT_EQ(limiter->in_flight(), 1);
  }
  EXPECT_EQ(limiter->in_flight(), 0);
}

TEST_F(LimiterTest, AWaiterGetsThePermitAnotherThreadReleases) {
  auto limiter = Make(Limits(1));
  auto held = limiter->Acquire(Later(1));
  ASSERT_TRUE(held);
  std::atomic<bool> got = false;
  std::thread waiter([&] {
    auto permit = limiter->Acquire(Later(600));
    got = permit.has_value();
  });
  held->Release();
  waiter.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(limiter->in_flight(), 0);
}

TEST_F(LimiterTest, ManyThreadsNeverHoldMoreThanTheCap) {
  auto limiter = Make(Limits(4));
  std::atomic<int> holding = 0;
  std::atomic<int> most = 0;
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto permit = limiter->Acquire(Later(600));
        if (!permit) {
          ++failures;
          continue;
        }
        const int now = ++holding;
        int seen = most;
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        --holding;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_LE(most, 4);
  EXPECT_GE(most, 1);
  EXPECT_EQ(limiter->in_flight(), 0);
}

TEST_F(LimiterTest, TheMinuteWindowWaitsForTheOldestStartToAge) {
  auto limiter = Make(Limits(10, 3));
  const int64_t start = clock_.MonotonicMicros();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter->Acquire(Later(1)));
    clock_.Advance(10'000'000);  // starts at 0, 10 and 20 s
  }
  // At 30 s the window holds three starts: the fourth waits until the first is 60 s old.
  auto fourth = limiter->Acquire(Later(120));
  ASSERT_TRUE(fourth);
  EXPECT_EQ(clock_.MonotonicMicros() - start, 60'000'000);
  EXPECT_EQ(sleeper_.waits(), std::vector<std::chrono::microseconds>{std::chrono::seconds(30)});
  // The next one is held back by the start at 10 s.
  auto fifth = limiter->Acquire(Later(5));
  ASSERT_FALSE(fifth);
  EXPECT_EQ(fifth.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(fifth.error().message,
            "the limit of 3 requests per minute is reached and the next slot opens in 10.0 s, "
            "after the deadline");
}

TEST_F(LimiterTest, StartsOlderThanAMinuteNoLongerCount) {
  auto limiter = Make(Limits(10, 2));
  ASSERT_TRUE(limiter->Acquire(Later(1)));
  ASSERT_TRUE(limiter->Acquire(Later(1)));
  clock_.Advance(60'000'001);
  ASSERT_TRUE(limiter->Acquire(Later(0)));
  ASSERT_TRUE(limiter->Acquire(Later(0)));
  EXPECT_TRUE(sleeper_.waits().empty());
}

}  // namespace
}  // namespace reprise::ai
