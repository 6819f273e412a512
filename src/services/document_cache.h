// DocumentCache: answers already built (JSON text), kept so the next request for the same
// thing in the same state is served without building it again.
//
// An entry is a key (an asset id), a Stamp and the text. Find() answers only when the
// caller's stamp equals the stored one: the stamp names everything the text depends on
// that can change — the record's revision (catalog::Asset::revision, raised by the
// database on every change the document shows) and the expiry its signed URLs carry
// (http::BlobUrlSigner::SharedExpiry, the same for a whole minute). A stale entry is
// never served; it is replaced by the next Store().
//
// Bounded by bytes (texts plus keys): when full, the least recently used entries go
// first; a text larger than a shard's share of the budget is not kept. max_bytes 0 keeps
// nothing. Thread-safe; the key space is split over shards, each with its own lock, so
// threads serving different assets rarely wait for each other. Texts are shared,
// immutable strings: an entry evicted while a response still sends it stays alive until
// the send ends.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace reprise::services {

class DocumentCache final {
 public:
  struct Stamp {
    int64_t revision = 0;
    int64_t expires = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct Stats {
    int64_t hits = 0;
    int64_t misses = 0;
    int64_t entries = 0;
    int64_t bytes = 0;
  };
  static constexpr size_t kShards = 16;

  explicit DocumentCache(size_t max_bytes);

  // The text stored for `key` under exactly `stamp`, or null.
  [[nodiscard]] std::shared_ptr<const std::string> Find(const std::string& key, const Stamp& stamp);
  // Keeps `text` for `key` under `stamp`, replacing what the key held.
  void Store(const std::string& key, const Stamp& stamp, std::shared_ptr<const std::string> text);
  // Drops the key's entry (e.g. the record was deleted).
  void Forget(const std::string& key);

  [[nodiscard]] Stats stats() const;

 private:
  struct Entry {
    std::string key;
    Stamp stamp;
    std::shared_ptr<const std::string> text;
    size_t Bytes() const { return key.size() + text->size(); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
    size_t bytes = 0;
  };
  Shard& ShardOf(const std::string& key);
  static void Erase(Shard& shard, std::list<Entry>::iterator it);

  const size_t shard_budget_;
  std::vector<Shard> shards_;
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> misses_{0};
};

}  // namespace reprise::services
