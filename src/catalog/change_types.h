// Change notifications (the "Change notifications" section of catalog/catalog.h): what a
// committed transaction may have made new, told to those who would otherwise poll for
// it, and the listener list every backend keeps.
//
// A Change is a hint, never a record: it may come twice, late, or without anything new
// to find (a reconnected listener tells every topic because it may have missed some),
// and a reader must still look in the catalog for what is there. Readers keep a slow
// poll as the fallback for what no notification reaches them (another process on SQLite).
//
// Thread-safety: ChangeListeners may be used from any thread; Tell() calls the listeners
// one at a time, under its lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace reprise::catalog {

enum class ChangeTopic : unsigned {
  kJobs = 1,     // jobs were queued (enqueued, dispatched, retried, released, reaped)
  kEvents = 2,   // events were written (and with them webhook deliveries)
  kImports = 4,  // URL imports were queued (new, or given back)
};
inline constexpr unsigned kAllChangeTopics = 7;

struct Change {
  unsigned topics = 0;  // ChangeTopic bits
  // With kEvents: the newest event id written, or 0 when unknown (look anyway).
  int64_t newest_event_id = 0;

  [[nodiscard]] bool Has(ChangeTopic topic) const {
    return (topics & static_cast<unsigned>(topic)) != 0;
  }
  void Add(ChangeTopic topic) { topics |= static_cast<unsigned>(topic); }
};

using ChangeListener = std::function<void(const Change&)>;

// The listeners of one catalog object, by id.
class ChangeListeners final {
 public:
  // Returns the id Remove() takes (ids start at 1 and are never reused).
  int64_t Add(ChangeListener listener);
  // Once it returns, the listener is neither running nor called again.
  void Remove(int64_t id);
  // Calls every listener with `change` (nothing when change.topics is 0).
  void Tell(const Change& change) const;
  [[nodiscard]] bool empty() const;

 private:
  mutable std::mutex mu_;
  std::map<int64_t, ChangeListener> listeners_;  // guarded by mu_
  int64_t next_id_ = 1;                          // guarded by mu_
};

}  // namespace reprise::catalog
