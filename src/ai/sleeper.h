// Sleeper: how the AI clients wait (retry backoff, a full requests-per-minute window), so
// tests can replace real waiting with a fake that advances a FakeClock and records what
// was asked. Thread-safe.
#pragma once

#include <chrono>

namespace reprise::ai {

class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void Sleep(std::chrono::microseconds duration) = 0;
};

// Really waits (std::this_thread::sleep_for).
class RealSleeper final : public Sleeper {
 public:
  void Sleep(std::chrono::microseconds duration) override;
};

}  // namespace reprise::ai
