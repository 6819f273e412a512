#include "services/event_bell.h"

#include <algorithm>

namespace reprise::services {

void EventBell::Ring(int64_t newest_id) {
  {
    std::lock_guard lock(mutex_);
    newest_ = std::max(newest_, newest_id);
  }
  changed_.notify_all();
}

void EventBell::Nudge() {
  {
    std::lock_guard lock(mutex_);
    ++nudges_;
  }
  changed_.notify_all();
}

int64_t EventBell::Wait(int64_t seen, std::chrono::microseconds timeout) {
  std::unique_lock lock(mutex_);
  const uint64_t nudges = nudges_;
  changed_.wait_for(lock, timeout, [&] { return newest_ > seen || nudges_ != nudges; });
  return newest_;
}

catalog::ChangeListener BellListener(EventBell& bell) {
  return [&bell](const catalog::Change& change) {
    if (!change.Has(catalog::ChangeTopic::kEvents)) return;
    if (change.newest_event_id > 0) {
      bell.Ring(change.newest_event_id);
    } else {
      bell.Nudge();
    }
  };
}

int64_t EventBell::newest() const {
  std::lock_guard lock(mutex_);
  return newest_;
}

}  // namespace reprise::services
