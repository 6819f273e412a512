// Driver: moves one backfill forward. Exactly one driver holds a backfill at a time
// (Catalog::ClaimBackfillDriver, a lease renewed on every step), so a run started in the
// foreground, resumed later, or picked up by a `reprise worker` after a crash never
// dispatches an item twice.
//
// Step() does one round:
//   running     dispatch pending items into jobs (one job per asset) while the number of
//               jobs holding its items stays under the concurrency cap, no faster than
//               the start rate (a token bucket) and with the delay between starts;
//               once nothing is pending and no job holds an item, succeeded when
//               every item was processed or skipped, else completed_with_failures.
//   cancelling  withdraw queued jobs and pending items (cancelled), ask running jobs to
//               stop; cancelled once no job holds an item.
//   paused      nothing (Pause() already took back the jobs that had not started).
//   planned, final states: nothing; the lease is given back.
// Workers do the work; the catalog settles each item when its job ends.
//
// Options come from the backfill row (its `options`): concurrency, rate_per_second,
// delay_seconds, priority, max_attempts, skip_reset, and force for mode all. The rate
// and delay use the injected clock, so tests drive them with a FakeClock. The rate's
// token bucket that counts is the catalog's (DispatchRequest::rate_per_second), so a
// driver taking over a backfill another driver left cannot start more than the rate
// allows; the driver's own copy only tells MicrosUntilNextStart(). The concurrency cap
// is counted in the catalog at each dispatch too. The delay is this driver's alone.
// Thread-safety: one thread calls a Driver.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/log.h"

namespace reprise::backfill {

struct StepResult {
  catalog::BackfillState state = catalog::BackfillState::kRunning;
  int64_t dispatched_jobs = 0;  // this step
  int64_t active_jobs = 0;
  bool more_pending = false;
  bool driving = true;  // false once the backfill needs no driver (final, planned)
};

// How often a foreground run (`reprise backfill` without --detach) steps its driver at
// most apart (sooner when the pacing allows a start sooner); a slot freed by a job is
// filled at the next step, so estimates count with it.
inline constexpr int64_t kForegroundPollMicros = 100'000;

class Driver {
 public:
  Driver(catalog::Catalog& catalog, const Clock& clock, Logger log, std::string driver_id,
         int64_t backfill_id, int64_t lease_micros = 30'000'000);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // kConflict when another driver holds the backfill; catalog errors otherwise.
  [[nodiscard]] Result<StepResult> Step();
  // Gives the lease back (also done by the destructor).
  void Release();
  // How long until the delay or the rate allows the next start (0: now, or no pacing), so
  // a caller can step at that moment instead of up to a poll later.
  [[nodiscard]] int64_t MicrosUntilNextStart() const;

  [[nodiscard]] int64_t backfill_id() const { return backfill_id_; }

 private:
  // Starts allowed now by the rate and the delay (0 when none).
  int64_t Allowance(const catalog::Backfill& backfill);
  void Spend(const catalog::Backfill& backfill, int64_t starts);

  catalog::Catalog& catalog_;
  const Clock& clock_;
  Logger log_;
  std::string driver_id_;
  int64_t backfill_id_;
  int64_t lease_micros_;
  bool held_ = false;
  // Token bucket for the start rate, and the earliest next start for the delay.
  double tokens_ = -1;  // -1: not started (the bucket starts full)
  double rate_ = 0;     // as of the last Allowance()
  int64_t tokens_at_ = 0;
  int64_t next_start_at_ = 0;
};

// Steps `driver` until the backfill needs no driver, `stop()` returns true, or an error;
// between steps it waits `poll_micros` of real time. `on_step` sees each step.
Result<StepResult> DriveUntilDone(Driver& driver, int64_t poll_micros,
                                  const std::function<bool()>& stop,
                                  const std::function<void(const StepResult&)>& on_step);

}  // namespace reprise::backfill
