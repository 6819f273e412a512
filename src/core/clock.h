// Time comes in through a Clock so tests can drive it. Times are UTC microseconds since
// the Unix epoch (int64), the unit the catalog stores.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace reprise {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, UTC microseconds since the epoch.
  virtual int64_t NowMicros() const = 0;
  // Monotonic time for durations, microseconds from an arbitrary origin.
  virtual int64_t MonotonicMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  int64_t MonotonicMicros() const override;
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_micros = 1'700'000'000'000'000) : now_(start_micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  int64_t MonotonicMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }

 private:
  std::atomic<int64_t> now_;
};

// "2026-11-22T01:16:36.123Z"
std::string FormatRfc3339(int64_t micros);

// A point in time as users write it on a command line, in UTC micros: RFC 3339
// ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.25+02:00"; 't', 'z' and a space for
// 'T' are accepted as RFC 3339 allows; fractions finer than a microsecond are dropped) or a
// plain date ("2026-01-02", midnight UTC). Years 0000-9999; a leap second (:60) counts as
// the first second of the next minute. Anything else is kInvalidArgument.
[[nodiscard]] Result<int64_t> ParseTimeBound(std::string_view text);

}  // namespace reprise
