// The service-permit part of the Catalog contract (catalog.h, "Service permits";
// catalog/service_permits.h). Runs against every backend like catalog_contract_test.cc.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"

namespace reprise::catalog {
namespace {

PermitRequest Ask(const std::string& service, int max_concurrent, int per_minute = 0) {
  PermitRequest request;
  request.service = service;
  request.holder = "host:1";
  request.max_concurrent = max_concurrent;
  request.requests_per_minute = per_minute;
  request.lease_micros = 30 * kSecond;
  return request;
}

TEST_P(CatalogContractTest, ServicePermitsStopAtMaxConcurrentUntilOneIsReleased) {
  PermitGrant first = Ok(catalog_->AcquireServicePermit(Ask("vision", 2)));
  PermitGrant second = Ok(catalog_->AcquireServicePermit(Ask("vision", 2)));
  ASSERT_TRUE(first.granted() && second.granted());
  EXPECT_NE(first.id, second.id);
  PermitGrant third = Ok(catalog_->AcquireServicePermit(Ask("vision", 2)));
  EXPECT_FALSE(third.granted());
  EXPECT_EQ(third.held_back_by, "max_concurrent");
  EXPECT_EQ(third.retry_in_micros, 0) << "nobody knows when a holder finishes";
  EXPECT_TRUE(Ok(catalog_->AcquireServicePermit(Ask("whisper", 1))).granted())
      << "each service counts its own permits";

  Ok(catalog_->ReleaseServicePermit(first.id));
  Ok(catalog_->ReleaseServicePermit(first.id));  // twice: not an error
  EXPECT_TRUE(Ok(catalog_->AcquireServicePermit(Ask("vision", 2))).granted());
  EXPECT_FALSE(Ok(catalog_->AcquireServicePermit(Ask("vision", 2))).granted());
}

TEST_P(CatalogContractTest, ServicePermitsOfAKilledHolderFreeThemselvesWhenTheirLeaseEnds) {
  ASSERT_TRUE(Ok(catalog_->AcquireServicePermit(Ask("vision", 1))).granted());
  clock_.Advance(30 * kSecond - 1);
  EXPECT_FALSE(Ok(catalog_->AcquireServicePermit(Ask("vision", 1))).granted());
  clock_.Advance(1);
  EXPECT_TRUE(Ok(catalog_->AcquireServicePermit(Ask("vision", 1))).granted())
      << "a permit whose lease ended is swept by the next grant";
}

TEST_P(CatalogContractTest, ServicePermitsStartAtMostRequestsPerMinuteInAnyMinute) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    PermitGrant grant = Ok(catalog_->AcquireServicePermit(Ask("vision", 10, 3)));
    ASSERT_TRUE(grant.granted()) << i;
    Ok(catalog_->ReleaseServicePermit(grant.id));  // released: only the window holds back
    clock_.Advance(10 * kSecond);
  }
  // Starts at 0, 10 and 20 s; now is 30 s: the first leaves the window at 60 s.
  PermitGrant refused = Ok(catalog_->AcquireServicePermit(Ask("vision", 10, 3)));
  EXPECT_FALSE(refused.granted());
  EXPECT_EQ(refused.held_back_by, "requests_per_minute");
  EXPECT_EQ(refused.retry_in_micros, 30 * kSecond);
  clock_.Advance(30 * kSecond);
  EXPECT_TRUE(Ok(catalog_->AcquireServicePermit(Ask("vision", 10, 3))).granted())
      << "the start at exactly now - 60 s has left the window";
  EXPECT_FALSE(Ok(catalog_->AcquireServicePermit(Ask("vision", 10, 3))).granted());
}

TEST_P(CatalogContractTest, ServicePermitRequestsAreChecked) {
  for (PermitRequest bad : {Ask("", 1), Ask("vision", 0), Ask("vision", 1, -1)}) {
    EXPECT_EQ(catalog_->AcquireServicePermit(bad).error().code, ErrorCode::kInvalidArgument);
  }
  PermitRequest no_lease = Ask("vision", 1);
  no_lease.lease_micros = 0;
  EXPECT_EQ(catalog_->AcquireServicePermit(no_lease).error().code, ErrorCode::kInvalidArgument);
}

// Separate connections stand for separate worker processes: however their grants
// interleave, no more than max_concurrent permits are ever out at once.
TEST_P(CatalogContractTest, ServicePermitsHoldTheCapAcrossConnections) {
  constexpr int kConnections = 4;
  constexpr int kCap = 2;
  constexpr int kGrantsEach = 40;
  std::vector<std::unique_ptr<Catalog>> connections;
  for (int i = 0; i < kConnections; ++i) connections.push_back(Ok(env_->Connect(clock_)));
  std::atomic<int> out{0};
  std::atomic<int> most{0};
  std::atomic<int> granted{0};
  std::vector<std::string> errors[kConnections];
  std::vector<std::thread> threads;
  for (int i = 0; i < kConnections; ++i) {
    threads.emplace_back([&, i] {
      Catalog& catalog = *connections[i];
      int mine = 0;
      while (mine < kGrantsEach) {
        auto grant = catalog.AcquireServicePermit(Ask("vision", kCap));
        if (!grant) {
          errors[i].push_back(grant.error().ToString());
          return;
        }
        if (!grant->granted()) {
          std::this_thread::yield();
          continue;
        }
        int now_out = ++out;
        int seen = most.load();
        while (now_out > seen && !most.compare_exchange_weak(seen, now_out)) {
        }
        ++mine;
        ++granted;
        --out;  // before the release: the catalog's count never trails ours
        if (auto released = catalog.ReleaseServicePermit(grant->id); !released) {
          errors[i].push_back(released.error().ToString());
          return;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kConnections; ++i) {
    for (const auto& error : errors[i]) ADD_FAILURE() << "connection " << i << ": " << error;
  }
  EXPECT_EQ(granted.load(), kConnections * kGrantsEach);
  EXPECT_LE(most.load(), kCap);
}

}  // namespace
}  // namespace reprise::catalog
