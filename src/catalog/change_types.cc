#include "catalog/change_types.h"

namespace reprise::catalog {

int64_t ChangeListeners::Add(ChangeListener listener) {
  std::lock_guard lock(mu_);
  const int64_t id = next_id_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void ChangeListeners::Remove(int64_t id) {
  std::lock_guard lock(mu_);
  listeners_.erase(id);
}

void ChangeListeners::Tell(const Change& change) const {
  if (change.topics == 0) return;
  std::lock_guard lock(mu_);
  for (const auto& [id, listener] : listeners_) listener(change);
}

bool ChangeListeners::empty() const {
  std::lock_guard lock(mu_);
  return listeners_.empty();
}

}  // namespace reprise::catalog
