// The EventBell as the catalog's change listener (BellListener): events committed through
// this catalog object, and on PostgreSQL through any other connection, wake a waiter.

#include "services/event_bell.h"

#include <atomic>
#include <chrono>

#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "tests/support/backends/postgres_test_env.h"
#include "tests/support/wait_until.h"

namespace reprise::services {
namespace {

constexpr auto kLong = std::chrono::seconds(30);

catalog::NewAsset Asset(const std::string& id) {
  catalog::NewAsset asset;
  asset.id = id;
  asset.owner = "alice";
  asset.sha256_hex = "sha-" + id;
  asset.original_key = "originals/" + id;
  asset.media.kind = catalog::AssetKind::kVideo;
  return asset;
}

TEST(EventBell, BellListenerRingsForEventsOnly) {
  EventBell bell;
  auto listener = BellListener(bell);
  listener({static_cast<unsigned>(catalog::ChangeTopic::kJobs), 0});
  EXPECT_EQ(bell.newest(), 0);
  listener({static_cast<unsigned>(catalog::ChangeTopic::kEvents), 7});
  EXPECT_EQ(bell.newest(), 7);
  EXPECT_EQ(bell.Wait(6, kLong), 7);  // rung already: no wait
}

TEST(PostgresEventBell, EventsCommittedThroughAnotherConnectionRingTheBell) {
  catalog::PgTestEnv env;
  FakeClock clock;
  auto reader = env.Connect(clock);
  ASSERT_TRUE(reader) << reader.error().ToString();
  auto writer = env.Connect(clock);
  ASSERT_TRUE(writer) << writer.error().ToString();
  EventBell bell;
  std::atomic<bool> listening{false};
  const int64_t rings = (*reader)->AddChangeListener(BellListener(bell));
  const int64_t watch = (*reader)->AddChangeListener([&](const catalog::Change& change) {
    if (change.topics == catalog::kAllChangeTopics) listening = true;
  });
  ASSERT_TRUE(testing::WaitUntil([&] { return listening.load(); }));

  ASSERT_TRUE((*writer)->InsertAsset(Asset("a1")));  // asset.created
  auto newest = (*writer)->LatestEventId();
  ASSERT_TRUE(newest);
  EXPECT_EQ(bell.Wait(0, kLong), *newest) << "the bell did not ring";
  (*reader)->RemoveChangeListener(watch);
  (*reader)->RemoveChangeListener(rings);
}

}  // namespace
}  // namespace reprise::services
