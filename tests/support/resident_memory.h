// Resident memory of this process, for tests that bound what one piece of work holds
// (streaming must not grow with input size): the current resident set and its peak
// while a ResidentPeak lives.
//
// Header-only; Linux (/proc/self/statm).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <thread>

namespace reprise::testing {

inline int64_t ResidentKib() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0;
  int64_t resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE) / 1024;
}

// The highest resident set size seen while it lives (sampled every 2 ms), so a test
// can bound what one piece of work adds whatever earlier tests left as the process's
// peak.
class ResidentPeak {
 public:
  ResidentPeak() : peak_(ResidentKib()), sampler_([this] { Sample(); }) {}
  ~ResidentPeak() { Stop(); }
  int64_t Stop() {
    stop_ = true;
    if (sampler_.joinable()) sampler_.join();
    return peak_;
  }

 private:
  void Sample() {
    while (!stop_) {
      peak_ = std::max(peak_.load(), ResidentKib());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  std::atomic<int64_t> peak_;
  std::atomic<bool> stop_{false};
  std::thread sampler_;
};

// AddressSanitizer keeps freed memory in quarantine (256 MiB by default), so resident
// memory says nothing of what the code holds there.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kFreedMemoryIsQuarantined = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kFreedMemoryIsQuarantined = true;
#else
constexpr bool kFreedMemoryIsQuarantined = false;
#endif
#else
constexpr bool kFreedMemoryIsQuarantined = false;
#endif

}  // namespace reprise::testing
