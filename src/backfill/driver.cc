#include "backfill/driver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>
#include <utility>

namespace reprise::backfill {

using catalog::BackfillState;

namespace {

double Number(const nlohmann::json& options, const char* key, double fallback) {
  auto it = options.find(key);
  return it != options.end() && it->is_number() ? it->get<double>() : fallback;
}

bool Flag(const nlohmann::json& options, const char* key) {
  auto it = options.find(key);
  return it != options.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

Driver::Driver(catalog::Catalog& catalog, const Clock& clock, Logger log, std::string driver_id,
               int64_t backfill_id, int64_t lease_micros)
    : catalog_(catalog),
      clock_(clock),
      log_(std::move(log)),
      driver_id_(std::move(driver_id)),
      backfill_id_(backfill_id),
      lease_micros_(lease_micros) {}

Driver::~Driver() { Release(); }

void Driver::Release() {
  if (!held_) return;
  held_ = false;
  if (auto released = catalog_.ReleaseBackfillDriver(backfill_id_, driver_id_); !released) {
    log_->warn("backfill={} cannot release its driver lease: {}", backfill_id_,
               released.error().ToString());
  }
}

int64_t Driver::Allowance(const catalog::Backfill& backfill) {
  const int64_t now = clock_.NowMicros();
  int64_t allowed = std::numeric_limits<int>::max();
  const double delay = Number(backfill.options, "delay_seconds", 0);
  if (delay > 0) allowed = now >= next_start_at_ ? 1 : 0;
  const double rate = Number(backfill.options, "rate_per_second", 0);
  rate_ = rate;
  if (rate > 0) {
    const double burst = std::max(1.0, rate);
    if (tokens_ < 0) {
      tokens_ = burst;
    } else {
      tokens_ = std::min(burst, tokens_ + rate * static_cast<double>(now - tokens_at_) / 1e6);
    }
    tokens_at_ = now;
    allowed = std::min<int64_t>(allowed, static_cast<int64_t>(std::floor(tokens_)));
  }
  return allowed;
}

int64_t Driver::MicrosUntilNextStart() const {
  int64_t wait = std::max<int64_t>(0, next_start_at_ - clock_.NowMicros());
  if (tokens_ >= 0 && tokens_ < 1 && rate_ > 0) {
    const int64_t since = clock_.NowMicros() - tokens_at_;
    const auto refill = static_cast<int64_t>((1 - tokens_) / rate_ * 1e6);
    wait = std::max(wait, refill - since);
  }
  return std::max<int64_t>(wait, 0);
}

void Driver::Spend(const catalog::Backfill& backfill, int64_t starts) {
  if (starts <= 0) return;
  const double delay = Number(backfill.options, "delay_seconds", 0);
  if (delay > 0) next_start_at_ = clock_.NowMicros() + static_cast<int64_t>(delay * 1e6);
  if (Number(backfill.options, "rate_per_second", 0) > 0) tokens_ -= static_cast<double>(starts);
}

Result<StepResult> Driver::Step() {
  auto backfill = catalog_.GetBackfill(backfill_id_, {});
  if (!backfill) return Fail(std::move(backfill.error()));
  StepResult result;
  result.state = backfill->state;
  if (catalog::IsFinal(backfill->state) || backfill->state == BackfillState::kPlanned) {
    result.driving = false;
    Release();
    return result;
  }
  auto claimed = catalog_.ClaimBackfillDriver(backfill_id_, driver_id_, lease_micros_);
  if (!claimed) return Fail(std::move(claimed.error()));
  if (!*claimed) {
    return Fail(ErrorCode::kConflict,
                "backfill " + std::to_string(backfill_id_) + " is driven by " + backfill->driver);
  }
  held_ = true;

  catalog::DispatchRequest request;
  request.max_assets = 0;
  request.max_active = static_cast<int>(Number(backfill->options, "concurrency", 0));
  request.priority =
      static_cast<int>(Number(backfill->options, "priority", catalog::kBackfillPriority));
  request.max_attempts = static_cast<int>(Number(backfill->options, "max_attempts", 5));
  request.force = backfill->mode == catalog::BackfillMode::kAll;
  // Quarantined content in the plan was asked for: the worker must not leave it alone.
  if (Flag(backfill->options, "include_quarantined")) request.force_reasons = {"quarantined"};
  request.mark_processing = !Flag(backfill->options, "skip_reset");
  // The catalog holds the rate's bucket (a driver taking over inherits it); this
  // driver's own bucket only says when to step next.
  request.rate_per_second = Number(backfill->options, "rate_per_second", 0);

  if (backfill->state == BackfillState::kCancelling) {
    auto withdrawn = catalog_.WithdrawBackfillJobs(backfill_id_, /*cancel=*/true);
    if (!withdrawn) return Fail(std::move(withdrawn.error()));
  }
  if (backfill->state == BackfillState::kRunning) {
    request.max_assets = static_cast<int>(std::min<int64_t>(Allowance(*backfill), 1000));
  }
  auto dispatched = catalog_.DispatchBackfill(backfill_id_, request);
  if (!dispatched) {
    // Paused or cancelled between the read and the dispatch: the next step sees it.
    if (dispatched.error().code != ErrorCode::kConflict) return Fail(std::move(dispatched.error()));
    return result;
  }
  Spend(*backfill, dispatched->jobs);
  result.dispatched_jobs = dispatched->jobs;
  result.active_jobs = dispatched->active_jobs;
  result.more_pending = dispatched->more_pending;
  if (dispatched->jobs > 0) {
    log_->debug("backfill={} event=dispatch jobs={} items={} skipped={} active={}", backfill_id_,
                dispatched->jobs, dispatched->items_queued, dispatched->items_skipped,
                dispatched->active_jobs);
  }

  std::optional<BackfillState> next;
  if (backfill->state == BackfillState::kRunning && !dispatched->more_pending &&
      dispatched->active_jobs == 0) {
    auto counts = catalog_.CountBackfillItems(backfill_id_);
    if (!counts) return Fail(std::move(counts.error()));
    next = counts->Done() == counts->total ? BackfillState::kSucceeded
                                           : BackfillState::kCompletedWithFailures;
  } else if (backfill->state == BackfillState::kCancelling && dispatched->active_jobs == 0) {
    next = BackfillState::kCancelled;
  }
  if (next) {
    auto moved = catalog_.SetBackfillState(backfill_id_, {backfill->state}, *next, "");
    if (!moved) {
      if (moved.error().code != ErrorCode::kConflict) return Fail(std::move(moved.error()));
      return result;  // changed meanwhile (paused, cancelled): the next step sees it
    }
    log_->info("backfill={} event={}", backfill_id_, catalog::Name(*next));
    result.state = *next;
    result.driving = false;
    Release();
  }
  return result;
}

Result<StepResult> DriveUntilDone(Driver& driver, int64_t poll_micros,
                                  const std::function<bool()>& stop,
                                  const std::function<void(const StepResult&)>& on_step) {
  while (true) {
    auto step = driver.Step();
    if (!step) return step;
    if (on_step) on_step(*step);
    if (!step->driving || (stop && stop())) return step;
    std::this_thread::sleep_for(std::chrono::microseconds(poll_micros));
  }
}

}  // namespace reprise::backfill
