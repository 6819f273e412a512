// EventBell: wakes the readers of the event log in this process as soon as this process
// commits an event (the catalog's listener rings it), so a live stream or the webhook
// runner need not wait for its next poll. Other processes' events are found by polling;
// the bell only makes the common case prompt.
//
// Thread-safety: every method may be called from any thread. Ring() is cheap and never
// blocks on a waiter (the catalog calls it under its lock).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

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

}  // namespace reprise::services
