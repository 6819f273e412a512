// RequestLimiter: the gate every request to an AI service passes before it is sent, so a
// deployment's limits (at most N requests at once, at most M started per minute) hold
// however many threads (and, with a shared implementation, worker processes) send.
//
// Acquire(deadline) waits until a request may start and returns a RequestPermit; the
// request is "in flight" until the permit is released (destroyed, or Release()). A
// request that is retried acquires a fresh permit for each attempt, so every attempt
// counts against both limits and nothing is held while a client backs off.
// Acquire fails with kUnavailable when the deadline (a Clock::MonotonicMicros time)
// passes first, or is certain to pass first, saying which limit held it back.
//
// ProcessRequestLimiter enforces both limits inside one process: a count of permits out
// and a sliding window of the start times of the last `requests_per_minute` permits.
// Thread-safe. The limiter must outlive its permits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "ai/sleeper.h"
#include "core/clock.h"
#include "core/error.h"

namespace reprise::ai {

// Move-only; releases its slot once, on Release() or destruction.
class RequestPermit final {
 public:
  RequestPermit() = default;
  explicit RequestPermit(std::function<void()> release) : release_(std::move(release)) {}
  RequestPermit(RequestPermit&& other) noexcept : release_(std::exchange(other.release_, {})) {}
  RequestPermit& operator=(RequestPermit&& other) noexcept {
    if (this != &other) {
      Release();
      release_ = std::exchange(other.release_, {});
    }
    return *this;
  }
  RequestPermit(const RequestPermit&) = delete;
  RequestPermit& operator=(const RequestPermit&) = delete;
  ~RequestPermit() { Release(); }

  void Release() {
    if (auto release = std::exchange(release_, {})) release();
  }

 private:
  std::function<void()> release_;
};

class RequestLimiter {
 public:
  virtual ~RequestLimiter() = default;
  // `deadline_micros` is on the limiter's clock (Clock::MonotonicMicros).
  [[nodiscard]] virtual Result<RequestPermit> Acquire(int64_t deadline_micros) = 0;
};

struct RequestLimits {
  int max_concurrent = 3;       // > 0
  int requests_per_minute = 0;  // 0: no per-minute limit
};

class ProcessRequestLimiter final : public RequestLimiter {
 public:
  // kInvalidArgument for max_concurrent < 1 or requests_per_minute < 0.
  [[nodiscard]] static Result<std::unique_ptr<ProcessRequestLimiter>> Create(RequestLimits limits,
                                                                             const Clock& clock,
                                                                             Sleeper& sleeper);

  [[nodiscard]] Result<RequestPermit> Acquire(int64_t deadline_micros) override;

  // Permits currently out.
  int in_flight() const;

 private:
  ProcessRequestLimiter(RequestLimits limits, const Clock& clock, Sleeper& sleeper)
      : limits_(limits), clock_(clock), sleeper_(sleeper) {}
  void Return();

  const RequestLimits limits_;
  const Clock& clock_;
  Sleeper& sleeper_;
  mutable std::mutex mutex_;
  std::condition_variable released_;
  int in_flight_ = 0;
  std::deque<int64_t> starts_;  // monotonic start times within the last minute, oldest first
};

}  // namespace reprise::ai
