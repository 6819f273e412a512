#include "ai/sleeper.h"

#include <thread>

namespace reprise::ai {

void RealSleeper::Sleep(std::chrono::microseconds duration) {
  if (duration.count() > 0) std::this_thread::sleep_for(duration);
}

}  // namespace reprise::ai
