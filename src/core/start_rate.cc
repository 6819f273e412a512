#include "core/start_rate.h"

#include <charconv>

namespace reprise {
namespace {

constexpr int64_t kSecond = 1'000'000;

struct Unit {
  std::string_view name;
  int64_t micros;
};

constexpr Unit kUnits[] = {
    {"s", kSecond},        {"sec", kSecond},         {"second", kSecond},
    {"m", 60 * kSecond},   {"min", 60 * kSecond},    {"minute", 60 * kSecond},
    {"h", 3600 * kSecond}, {"hour", 3600 * kSecond},
};

}  // namespace

Result<StartRate> ParseStartRate(std::string_view text, std::string_view what) {
  const std::string shown = std::string(what) + " \"" + std::string(text) + "\"";
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                shown + ": expected starts per unit, e.g. 60/min, 5/s or 100/h");
  }
  const std::string_view number = text.substr(0, slash);
  const std::string_view unit = text.substr(slash + 1);
  int starts = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), starts);
  if (ec != std::errc() || end != number.data() + number.size() || starts < 1) {
    return Fail(ErrorCode::kInvalidArgument,
                shown + ": the number of starts must be a whole number above 0");
  }
  for (const Unit& known : kUnits) {
    if (known.name == unit) return StartRate{starts, known.micros};
  }
  return Fail(ErrorCode::kInvalidArgument, shown + ": the unit after '/' is s, min or h");
}

std::string FormatStartRate(const StartRate& rate) {
  if (!rate.limited()) return "";
  const std::string count = std::to_string(rate.starts) + "/";
  if (rate.window_micros == 3600 * kSecond) return count + "h";
  if (rate.window_micros == 60 * kSecond) return count + "min";
  if (rate.window_micros == kSecond) return count + "s";
  return count + std::to_string(rate.window_micros / 1000) + "ms";
}

}  // namespace reprise
