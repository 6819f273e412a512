#include "backfill/pump.h"

#include <chrono>
#include <utility>

namespace reprise::backfill {

Pump::Pump(catalog::Catalog& catalog, const Clock& clock, Logger log, std::string driver_id,
           int64_t poll_micros, int64_t lease_micros)
    : catalog_(catalog),
      clock_(clock),
      log_(std::move(log)),
      driver_id_(std::move(driver_id)),
      poll_micros_(poll_micros),
      lease_micros_(lease_micros) {}

Pump::~Pump() { Stop(); }

void Pump::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      lock.unlock();
      Round();
      lock.lock();
      wake_.wait_for(lock, std::chrono::microseconds(poll_micros_), [this] { return stop_; });
    }
  });
}

void Pump::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  drivers_.clear();  // each releases its lease
}

size_t Pump::Round() {
  auto undriven = catalog_.ListUndrivenBackfills();
  if (!undriven) {
    log_->warn("backfill pump: cannot list backfills: {}", undriven.error().ToString());
  } else {
    for (int64_t id : *undriven) {
      if (drivers_.count(id) != 0) continue;
      log_->info("backfill={} event=adopted driver={}", id, driver_id_);
      drivers_[id] =
          std::make_unique<Driver>(catalog_, clock_, log_, driver_id_, id, lease_micros_);
    }
  }
  int64_t dispatched = 0;
  for (auto it = drivers_.begin(); it != drivers_.end();) {
    auto step = it->second->Step();
    if (step) dispatched += step->dispatched_jobs;
    if (!step) {
      // Another driver took it (kConflict) or the catalog failed: let go, look again later.
      if (step.error().code != ErrorCode::kConflict) {
        log_->warn("backfill={} step failed: {}", it->first, step.error().ToString());
      }
      it = drivers_.erase(it);
    } else if (!step->driving) {
      it = drivers_.erase(it);
    } else {
      ++it;
    }
  }
  if (dispatched > 0 && on_dispatch_) on_dispatch_();
  return drivers_.size();
}

}  // namespace reprise::backfill
