// DocumentCache: served only under the exact stamp, bounded by bytes with the least
// recently used entries evicted first, and safe under threads.
#include "services/document_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace reprise::services {
namespace {

std::shared_ptr<const std::string> Text(size_t size, char fill = 'x') {
  return std::make_shared<const std::string>(size, fill);
}

TEST(DocumentCacheTest, AnswersOnlyUnderTheStampItWasStoredWith) {
  DocumentCache cache(1 << 20);
  auto text = Text(100);
  cache.Store("a1", {7, 1000}, text);
  EXPECT_EQ(cache.Find("a1", {7, 1000}), text);
  EXPECT_EQ(cache.Find("a1", {8, 1000}), nullptr);  // the asset changed
  EXPECT_EQ(cache.Find("a1", {7, 1060}), nullptr);  // its URLs would expire later
  EXPECT_EQ(cache.Find("a2", {7, 1000}), nullptr);

  auto newer = Text(100, 'y');
  cache.Store("a1", {8, 1000}, newer);  // replaces
  EXPECT_EQ(cache.Find("a1", {7, 1000}), nullptr);
  EXPECT_EQ(cache.Find("a1", {8, 1000}), newer);
  cache.Forget("a1");
  EXPECT_EQ(cache.Find("a1", {8, 1000}), nullptr);

  auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 2);
  EXPECT_EQ(stats.misses, 5);
  EXPECT_EQ(stats.entries, 0);
  EXPECT_EQ(stats.bytes, 0);
}

TEST(DocumentCacheTest, StaysWithinItsBytesEvictingTheLeastRecentlyUsed) {
  // One shard's share: 16 shards of 1,000 bytes. Keys are spread by hash, so fill with
  // many keys and check the totals, then check LRU order within whatever shard "keep" has.
  DocumentCache cache(DocumentCache::kShards * 1000);
  for (int i = 0; i < 400; ++i) cache.Store("k" + std::to_string(i), {1, 1}, Text(190));
  auto stats = cache.stats();
  EXPECT_LE(stats.bytes, static_cast<int64_t>(DocumentCache::kShards * 1000));
  EXPECT_GT(stats.entries, 0);
  EXPECT_LT(stats.entries, 400);

  // Use "keep" between stores: it survives while colder entries go.
  cache.Store("keep", {1, 1}, Text(190));
  for (int i = 400; i < 2000; ++i) {
    cache.Store("k" + std::to_string(i), {1, 1}, Text(190));
    ASSERT_NE(cache.Find("keep", {1, 1}), nullptr) << "evicted after " << i;
  }
  // A text larger than a shard's share is not kept at all.
  cache.Store("huge", {1, 1}, Text(5000));
  EXPECT_EQ(cache.Find("huge", {1, 1}), nullptr);
  DocumentCache none(0);
  none.Store("a", {1, 1}, Text(1));
  EXPECT_EQ(none.Find("a", {1, 1}), nullptr);
}

TEST(DocumentCacheTest, ThreadsStoringAndFindingSeeWholeEntries) {
  DocumentCache cache(64 * 1024);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string key = "k" + std::to_string(i % 50);
        const char fill = static_cast<char>('a' + (i % 26));
        cache.Store(key, {i, t}, Text(64, fill));
        if (auto found = cache.Find(key, {i, t})) {
          EXPECT_EQ(*found, std::string(64, fill));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(cache.stats().bytes, 64 * 1024);
}

}  // namespace
}  // namespace reprise::services
