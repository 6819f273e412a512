// Randomness comes in through a Random so tests can fix it: retry jitter and anything
// else that must not repeat across workers draws from an injected source, never from a
// global generator.
//
// Thread-safety: every implementation here may be used from many threads at once.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>

namespace reprise {

class Random {
 public:
  virtual ~Random() = default;
  // Uniform in [0, 1).
  virtual double Uniform() = 0;
};

// A Mersenne Twister behind a mutex: the same seed gives the same sequence (tests);
// FromEntropy() seeds it from the operating system (production).
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  static SeededRandom FromEntropy();

  double Uniform() override;

 private:
  std::mutex mutex_;
  std::mt19937_64 engine_;
};

}  // namespace reprise
