#include "core/clock.h"

#include <string>

#include <gtest/gtest.h>

namespace reprise {
namespace {

constexpr int64_t kSecond = 1'000'000;
// 2026-01-02T03:04:05Z
constexpr int64_t kExample = 1'767'323'045 * kSecond;

TEST(ParseTimeBound, DateIsMidnightUtc) {
  EXPECT_EQ(ParseTimeBound("1970-01-01").value(), 0);
  EXPECT_EQ(ParseTimeBound("2026-01-02").value(), kExample - (3 * 3600 + 4 * 60 + 5) * kSecond);
  EXPECT_EQ(ParseTimeBound("2024-02-29").value(), 1'709'164'800 * kSecond);
  EXPECT_EQ(ParseTimeBound("1969-12-31").value(), -86'400 * kSecond);
}

TEST(ParseTimeBound, Rfc3339WithZuluOffsetsAndFractions) {
  EXPECT_EQ(ParseTimeBound("2026-01-02T03:04:05Z").value(), kExample);
  EXPECT_EQ(ParseTimeBound("2026-01-02t03:04:05z").value(), kExample);
  EXPECT_EQ(ParseTimeBound("2026-01-02 03:04:05Z").value(), kExample);
  EXPECT_EQ(ParseTimeBound("2026-01-02T05:04:05+02:00").value(), kExample);
  EXPECT_EQ(ParseTimeBound("2026-01-01T21:34:05-05:30").value(), kExample);
  EXPECT_EQ(ParseTimeBound("2026-01-02T03:04:05.25Z").value(), kExample + 250'000);
  EXPECT_EQ(ParseTimeBound("2026-01-02T03:04:05.000001Z").value(), kExample + 1);
  // Finer than a microsecond is dropped, not rounded.
  EXPECT_EQ(ParseTimeBound("2026-01-02T03:04:05.1234569Z").value(), kExample + 123'456);
  EXPECT_EQ(ParseTimeBound("2026-01-02T03:04:60Z").value(), kExample + 55 * kSecond);
}

TEST(ParseTimeBound, RoundTripsFormatRfc3339) {
  int64_t micros = kExample + 123'000;
  EXPECT_EQ(FormatRfc3339(micros), "2026-01-02T03:04:05.123Z");
  EXPECT_EQ(ParseTimeBound(FormatRfc3339(micros)).value(), micros);
}

TEST(ParseTimeBound, RejectsEverythingElseNamingTheText) {
  for (const char* text : {"",
                           "2026",
                           "2026-1-02",
                           "2026-01-2",
                           "2026-13-01",
                           "2026-02-30",
                           "2025-02-29",
                           "2026-01-02T",
                           "2026-01-02T03:04Z",
                           "2026-01-02T03:04:05",
                           "2026-01-02T24:00:00Z",
                           "2026-01-02T03:60:00Z",
                           "2026-01-02T03:04:61Z",
                           "2026-01-02T03:04:05.Z",
                           "2026-01-02T03:04:05+0200",
                           "2026-01-02T03:04:05+24:00",
                           "2026-01-02T03:04:05Zjunk",
                           "2026-01-02junk",
                           " 2026-01-02",
                           "+2026-01-02",
                           "yesterday",
                           "1767323045"}) {
    auto parsed = ParseTimeBound(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("\"" + std::string(text) + "\""), std::string::npos)
        << parsed.error().message;
  }
}

}  // namespace
}  // namespace reprise
