// Waiting for a condition in tests: polls `condition` (every 2 ms, real time) until it
// holds or `timeout` passes; false on timeout. Header-only.
#pragma once

#include <chrono>
#include <thread>

namespace reprise::testing {

template <class F>
bool WaitUntil(F condition, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace reprise::testing
