#include "services/document_cache.h"

#include <functional>

namespace reprise::services {

DocumentCache::DocumentCache(size_t max_bytes)
    : shard_budget_(max_bytes / kShards), shards_(kShards) {}

DocumentCache::Shard& DocumentCache::ShardOf(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

void DocumentCache::Erase(Shard& shard, std::list<Entry>::iterator it) {
  shard.bytes -= it->Bytes();
  shard.index.erase(it->key);
  shard.lru.erase(it);
}

std::shared_ptr<const std::string> DocumentCache::Find(const std::string& key, const Stamp& stamp) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end() || found->second->stamp != stamp) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return found->second->text;
}

void DocumentCache::Store(const std::string& key, const Stamp& stamp,
                          std::shared_ptr<const std::string> text) {
  if (!text) return;
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  if (auto found = shard.index.find(key); found != shard.index.end()) {
    Erase(shard, found->second);
  }
  Entry entry{key, stamp, std::move(text)};
  const size_t bytes = entry.Bytes();
  if (bytes > shard_budget_) return;
  while (shard.bytes + bytes > shard_budget_) Erase(shard, std::prev(shard.lru.end()));
  shard.lru.push_front(std::move(entry));
  shard.index.emplace(key, shard.lru.begin());
  shard.bytes += bytes;
}

void DocumentCache::Forget(const std::string& key) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  if (auto found = shard.index.find(key); found != shard.index.end()) Erase(shard, found->second);
}

DocumentCache::Stats DocumentCache::stats() const {
  Stats stats;
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    stats.entries += static_cast<int64_t>(shard.index.size());
    stats.bytes += static_cast<int64_t>(shard.bytes);
  }
  return stats;
}

}  // namespace reprise::services
