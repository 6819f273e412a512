// Pump: drives every backfill that has no live driver, inside `reprise worker` and
// `reprise serve`. A backfill started with --detach, or whose foreground run was stopped
// or killed, is picked up here once its driver lease is free or expired, so a running
// backfill continues after a restart of every process. Each backfill is claimed through
// the catalog (Catalog::ClaimBackfillDriver), so several pumps never drive one twice.
//
// Start() runs a thread that looks for undriven backfills and steps the ones it holds
// every poll interval (real time); Stop() gives their leases back and joins.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "backfill/driver.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/log.h"

namespace reprise::backfill {

class Pump {
 public:
  Pump(catalog::Catalog& catalog, const Clock& clock, Logger log, std::string driver_id,
       int64_t poll_micros = 500'000, int64_t lease_micros = 30'000'000);

  // Called after a round that enqueued jobs (set before Start()): the worker pool of
  // this process looks for them at once instead of at its next poll.
  void SetOnDispatch(std::function<void()> on_dispatch) { on_dispatch_ = std::move(on_dispatch); }
  ~Pump();
  Pump(const Pump&) = delete;
  Pump& operator=(const Pump&) = delete;

  void Start();
  void Stop();
  // One round (the thread's body; tests call it directly): adopt undriven backfills, step
  // every held one. Returns how many it holds afterwards.
  size_t Round();

 private:
  catalog::Catalog& catalog_;
  const Clock& clock_;
  Logger log_;
  std::string driver_id_;
  int64_t poll_micros_;
  int64_t lease_micros_;
  std::function<void()> on_dispatch_;
  std::map<int64_t, std::unique_ptr<Driver>> drivers_;  // only the pump thread touches it
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
};

}  // namespace reprise::backfill
