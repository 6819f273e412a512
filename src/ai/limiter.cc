#include "ai/limiter.h"

#include <fmt/format.h>

namespace reprise::ai {

namespace {
constexpr int64_t kMinuteMicros = 60'000'000;
}  // namespace

Result<std::unique_ptr<ProcessRequestLimiter>> ProcessRequestLimiter::Create(RequestLimits limits,
                                                                             const Clock& clock,
                                                                             Sleeper& sleeper) {
  if (limits.max_concurrent < 1) {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("max concurrent requests must be at least 1, not {}", limits.max_concurrent));
  }
  if (limits.requests_per_minute < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("requests per minute must be 0 (no limit) or more, not {}",
                            limits.requests_per_minute));
  }
  return std::unique_ptr<ProcessRequestLimiter>(new ProcessRequestLimiter(limits, clock, sleeper));
}

Result<RequestPermit> ProcessRequestLimiter::Acquire(int64_t deadline_micros) {
  const auto per_minute = static_cast<size_t>(limits_.requests_per_minute);
  std::unique_lock lock(mutex_);
  for (;;) {
    const int64_t now = clock_.MonotonicMicros();
    while (!starts_.empty() && starts_.front() <= now - kMinuteMicros) starts_.pop_front();
    const bool minute_full = per_minute > 0 && starts_.size() >= per_minute;
    if (in_flight_ < limits_.max_concurrent && !minute_full) {
      ++in_flight_;
      if (per_minute > 0) starts_.push_back(now);
      return RequestPermit([this] { Return(); });
    }
    if (minute_full) {
      const int64_t opens = starts_.front() + kMinuteMicros;
      if (opens > deadline_micros) {
        return Fail(ErrorCode::kUnavailable,
                    fmt::format("the limit of {} requests per minute is reached and the next "
                                "slot opens in {:.1f} s, after the deadline",
                                per_minute, static_cast<double>(opens - now) / 1e6));
      }
      lock.unlock();
      sleeper_.Sleep(std::chrono::microseconds(opens - now));
      lock.lock();
      continue;
    }
    if (now >= deadline_micros) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("{} requests are in flight, the limit, and none finished before "
                              "the deadline",
                              limits_.max_concurrent));
    }
    released_.wait_for(lock, std::chrono::microseconds(deadline_micros - now));
  }
}

void ProcessRequestLimiter::Return() {
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
  }
  released_.notify_one();
}

int ProcessRequestLimiter::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

}  // namespace reprise::ai
