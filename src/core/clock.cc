#include "core/clock.h"

#include <chrono>
#include <ctime>
#include <string_view>

#include <fmt/format.h>

namespace reprise {

int64_t SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SystemClock::MonotonicMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string FormatRfc3339(int64_t micros) {
  std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  int millis = static_cast<int>((micros % 1'000'000) / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

namespace {

// Reads exactly `width` digits at `at` (advancing it); -1 when they are not there.
int Digits(std::string_view text, size_t& at, size_t width) {
  if (at + width > text.size()) return -1;
  int value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[at + i];
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  at += width;
  return value;
}

bool Take(std::string_view text, size_t& at, std::string_view any_of) {
  if (at >= text.size() || any_of.find(text[at]) == std::string_view::npos) return false;
  ++at;
  return true;
}

}  // namespace

Result<int64_t> ParseTimeBound(std::string_view text) {
  auto invalid = [text] {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("invalid time \"{}\": expected an RFC 3339 time such as "
                            "2026-01-02T03:04:05Z or 2026-01-02T03:04:05+01:00, or a date "
                            "such as 2026-01-02",
                            text));
  };
  size_t at = 0;
  int year = Digits(text, at, 4);
  bool dash1 = Take(text, at, "-");
  int month = Digits(text, at, 2);
  bool dash2 = Take(text, at, "-");
  int day = Digits(text, at, 2);
  if (year < 0 || !dash1 || month < 0 || !dash2 || day < 0) return invalid();
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return invalid();
  int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  int64_t seconds = days * 86'400;
  if (at == text.size()) return seconds * 1'000'000;

  if (!Take(text, at, "Tt ")) return invalid();
  int hour = Digits(text, at, 2);
  bool colon1 = Take(text, at, ":");
  int minute = Digits(text, at, 2);
  bool colon2 = Take(text, at, ":");
  int second = Digits(text, at, 2);
  if (hour < 0 || hour > 23 || !colon1 || minute < 0 || minute > 59 || !colon2 || second < 0 ||
      second > 60) {
    return invalid();
  }
  int64_t micros = 0;
  if (Take(text, at, ".")) {
    size_t start = at;
    int64_t scale = 100'000;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      micros += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) return invalid();
  }
  int64_t offset_minutes = 0;
  if (!Take(text, at, "Zz")) {
    bool plus = at < text.size() && text[at] == '+';
    if (!Take(text, at, "+-")) return invalid();
    int offset_hours = Digits(text, at, 2);
    bool colon = Take(text, at, ":");
    int offset_mins = Digits(text, at, 2);
    if (offset_hours < 0 || offset_hours > 23 || !colon || offset_mins < 0 || offset_mins > 59) {
      return invalid();
    }
    offset_minutes = (plus ? 1 : -1) * (offset_hours * 60 + offset_mins);
  }
  if (at != text.size()) return invalid();
  seconds += hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1'000'000 + micros;
}

}  // namespace reprise
