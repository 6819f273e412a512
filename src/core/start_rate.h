// A start rate as users write it: "60/min" means at most 60 starts within any minute
// (a sliding window, not a token bucket: no burst above the count). Used by the global
// stage limits ([stages.NAME] rate, catalog/stage_limits.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace reprise {

// At most `starts` starts within any `window_micros`.
struct StartRate {
  int starts = 0;  // 0: no rate limit
  int64_t window_micros = 0;

  [[nodiscard]] bool limited() const { return starts > 0; }
  friend bool operator==(const StartRate&, const StartRate&) = default;
};

// "60/min", "5/s", "100/h" (also "/m", "/sec", "/second", "/minute", "/hour"): a
// positive whole number of starts per unit. kInvalidArgument naming `what` otherwise.
[[nodiscard]] Result<StartRate> ParseStartRate(std::string_view text, std::string_view what);
// "60/min" back ("" when not limited), for display.
[[nodiscard]] std::string FormatStartRate(const StartRate& rate);

}  // namespace reprise
