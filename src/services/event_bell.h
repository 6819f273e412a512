// EventBell: wakes the readers of the event log in this process as soon as events are
// committed (the catalog's change listener rings it, see BellListener), so a live stream
// or the webhook runner need not wait for its next poll. The catalog tells this
// process's commits on every backend and other processes' on PostgreSQL; what it cannot
// tell (another SQLite process) is found by the readers' poll.
//
// Thread-safety: every method may be called from any thread. Ring() is cheap and never
// blocks on a waiter (the catalog calls it under its lock).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "catalog/change_types.h"

namespace reprise::services {

class EventBell final {
 public:
  // Records that events up to `newest_id` exist and wakes every waiter.
  void Ring(int64_t newest_id);
  // Wakes every waiter without news (shutdown, a changed stop flag).
  void Nudge();
  // Blocks until an id above `seen` is rung, Nudge() is called, or `timeout` passes;
  // returns the newest id rung so far (0 before any).
  int64_t Wait(int64_t seen, std::chrono::microseconds timeout);
  [[nodiscard]] int64_t newest() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int64_t newest_ = 0;   // guarded by mutex_
  uint64_t nudges_ = 0;  // guarded by mutex_
};

// A listener for Catalog::AddChangeListener: rings `bell` with the newest event id when
// events were written, and nudges it when their id is unknown (the catalog may have
// missed some). `bell` must outlive the listener's registration.
catalog::ChangeListener BellListener(EventBell& bell);

}  // namespace reprise::services
