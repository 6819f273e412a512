// CatalogRequestLimiter over a real SQLite catalog, two connections standing for two
// processes, a fake clock moved by a fake sleeper (waits are recorded, never slept).

#include "services/catalog_request_limiter.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "catalog/sqlite/sqlite_catalog.h"
#include "tests/ai/ai_fakes.h"
#include "tests/support/test_support.h"

namespace reprise::services {
namespace {

constexpr int64_t kSecond = 1'000'000;

class CatalogRequestLimiterTest : public ::testing::Test {
 protected:
  std::unique_ptr<catalog::Catalog> Open() {
    auto catalog = catalog::SqliteCatalog::Open(dir_.Join("catalog.db"), clock_);
    EXPECT_TRUE(catalog) << catalog.error().ToString();
    return std::move(*catalog);
  }

  std::unique_ptr<CatalogRequestLimiter> Limiter(catalog::Catalog& catalog, int max_concurrent,
                                                 int per_minute = 0) {
    CatalogLimiterOptions options;
    options.service = "vision";
    options.holder = "test:1";
    options.limits = ai::Limits(max_concurrent, per_minute);
    auto limiter = CatalogRequestLimiter::Create(options, catalog, clock_, sleeper_);
    EXPECT_TRUE(limiter) << limiter.error().ToString();
    return std::move(*limiter);
  }

  testing::TempDir dir_;
  FakeClock clock_;
  ai::FakeSleeper sleeper_{clock_};
};

TEST_F(CatalogRequestLimiterTest, TheCapHoldsAcrossProcessesAndAReleasedPermitIsTakenAgain) {
  auto first_catalog = Open();
  auto second_catalog = Open();
  auto first = Limiter(*first_catalog, 1);
  auto second = Limiter(*second_catalog, 1);
  auto held = first->Acquire(clock_.MonotonicMicros() + kSecond);
  ASSERT_TRUE(held) << held.error().ToString();
  EXPECT_TRUE(sleeper_.waits().empty());

  // The other process polls, 20 ms doubling, until its deadline, then gives up.
  auto refused = second->Acquire(clock_.MonotonicMicros() + 2 * kSecond);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("held back by max_concurrent"), std::string::npos)
      << refused.error().message;
  auto waits = sleeper_.waits();
  ASSERT_GE(waits.size(), 4u);
  EXPECT_EQ(waits[0].count(), 20'000);
  EXPECT_EQ(waits[1].count(), 40'000);
  int64_t waited = 0;
  for (auto wait : waits) {
    EXPECT_LE(wait.count(), 500'000);
    waited += wait.count();
  }
  EXPECT_EQ(waited, 2 * kSecond) << "it waits up to its deadline, not past it";

  held->Release();
  auto taken = second->Acquire(clock_.MonotonicMicros() + kSecond);
  ASSERT_TRUE(taken) << taken.error().ToString();
  EXPECT_EQ(sleeper_.waits().size(), waits.size()) << "granted at once";
}

TEST_F(CatalogRequestLimiterTest, AFullMinuteWindowIsWaitedOutWhenTheDeadlineAllows) {
  auto catalog = Open();
  auto limiter = Limiter(*catalog, 5, 2);
  for (int i = 0; i < 2; ++i) {
    auto permit = limiter->Acquire(clock_.MonotonicMicros() + kSecond);
    ASSERT_TRUE(permit) << permit.error().ToString();
    clock_.Advance(10 * kSecond);
  }
  // Starts at 0 and 10 s, now 20 s: the window frees at 60 s, past a 10 s deadline.
  auto too_soon = limiter->Acquire(clock_.MonotonicMicros() + 10 * kSecond);
  ASSERT_FALSE(too_soon);
  EXPECT_NE(too_soon.error().message.find("requests_per_minute"), std::string::npos);
  EXPECT_TRUE(sleeper_.waits().empty()) << "a wait certain to miss the deadline is not begun";

  auto later = limiter->Acquire(clock_.MonotonicMicros() + 120 * kSecond);
  ASSERT_TRUE(later) << later.error().ToString();
  ASSERT_EQ(sleeper_.waits().size(), 1u);
  EXPECT_EQ(sleeper_.waits()[0].count(), 40 * kSecond);
}

}  // namespace
}  // namespace reprise::services
