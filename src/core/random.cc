#include "core/random.h"

namespace reprise {

SeededRandom SeededRandom::FromEntropy() {
  std::random_device device;
  uint64_t seed = (static_cast<uint64_t>(device()) << 32) ^ device();
  return SeededRandom(seed);
}

double SeededRandom::Uniform() {
  std::lock_guard lock(mutex_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
}

}  // namespace reprise
