// The Range header table: every form RFC 9110 allows for one range, and the edges.
#include "http/byte_range.h"

#include <gtest/gtest.h>

#include <limits>

namespace reprise::http {
namespace {

struct Case {
  std::string_view header;
  uint64_t size;
  RangeOutcome outcome;
  ByteSpan span;  // kPartial only
};

void PrintTo(const Case& c, std::ostream* os) { *os << "'" << c.header << "' of " << c.size; }

class ByteRangeTable : public ::testing::TestWithParam<Case> {};

TEST_P(ByteRangeTable, ParsesToTheExpectedOutcome) {
  const Case& c = GetParam();
  RangeRequest got = ParseRange(c.header, c.size);
  EXPECT_EQ(RangeOutcomeName(got.outcome), RangeOutcomeName(c.outcome));
  EXPECT_EQ(got.span.first, c.span.first);
  EXPECT_EQ(got.span.length, c.span.length);
}

using enum RangeOutcome;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

INSTANTIATE_TEST_SUITE_P(
    Forms, ByteRangeTable,
    ::testing::Values(
        // Absent.
        Case{"", 100, kWhole, {}}, Case{"  \t", 100, kWhole, {}},
        // a-b, cut to the end.
        Case{"bytes=0-0", 100, kPartial, {0, 1}}, Case{"bytes=0-99", 100, kPartial, {0, 100}},
        Case{"bytes=10-19", 100, kPartial, {10, 10}}, Case{"bytes=99-99", 100, kPartial, {99, 1}},
        Case{"bytes=90-1000", 100, kPartial, {90, 10}},
        Case{"bytes=0-18446744073709551615", 100, kPartial, {0, 100}},
        Case{"bytes=0-99999999999999999999999", 100, kPartial, {0, 100}},
        // Past 2^64 saturates: 2^64 + 5 must not wrap to 5, nor 2^64 + 1 to 1.
        Case{"bytes=0-18446744073709551616", 100, kPartial, {0, 100}},
        // a-
        Case{"bytes=0-", 100, kPartial, {0, 100}}, Case{"bytes=99-", 100, kPartial, {99, 1}},
        Case{"bytes=100-", 100, kUnsatisfiable, {}}, Case{"bytes=100-200", 100, kUnsatisfiable, {}},
        Case{"bytes=99999999999999999999999-", 100, kUnsatisfiable, {}},
        Case{"bytes=18446744073709551621-", 100, kUnsatisfiable, {}},
        // -n
        Case{"bytes=-1", 100, kPartial, {99, 1}}, Case{"bytes=-100", 100, kPartial, {0, 100}},
        Case{"bytes=-500", 100, kPartial, {0, 100}},
        Case{"bytes=-99999999999999999999999", 100, kPartial, {0, 100}},
        Case{"bytes=-18446744073709551617", 100, kPartial, {0, 100}},
        Case{"bytes=-0", 100, kUnsatisfiable, {}},
        // Empty and huge representations.
        Case{"bytes=0-0", 0, kUnsatisfiable, {}}, Case{"bytes=-5", 0, kUnsatisfiable, {}},
        Case{"bytes=0-", 0, kUnsatisfiable, {}}, Case{"bytes=-1", kMax, kPartial, {kMax - 1, 1}},
        Case{"bytes=0-", kMax, kPartial, {0, kMax}},
        // Spelling the RFC allows.
        Case{"Bytes=5-9", 100, kPartial, {5, 5}}, Case{" bytes=5-9\t", 100, kPartial, {5, 5}},
        Case{"bytes=5-9, ", 100, kPartial, {5, 5}}, Case{"bytes=,5-9", 100, kPartial, {5, 5}},
        // Several ranges: served whole.
        Case{"bytes=0-1,5-6", 100, kMultiple, {}}, Case{"bytes=0-1, -5", 100, kMultiple, {}},
        Case{"bytes=200-300,400-", 100, kMultiple, {}},
        // Garbage: ignored.
        Case{"bytes=", 100, kMalformed, {}}, Case{"bytes=,", 100, kMalformed, {}},
        Case{"bytes=-", 100, kMalformed, {}}, Case{"bytes=5", 100, kMalformed, {}},
        Case{"bytes=9-5", 100, kMalformed, {}}, Case{"bytes=a-b", 100, kMalformed, {}},
        Case{"bytes=+1-2", 100, kMalformed, {}}, Case{"bytes=1 -2", 100, kMalformed, {}},
        Case{"bytes=1--2", 100, kMalformed, {}}, Case{"bytes = 1-2", 100, kMalformed, {}},
        Case{"bytes=0-1,x", 100, kMalformed, {}}, Case{"items=0-1", 100, kMalformed, {}},
        Case{"bytes 0-1", 100, kMalformed, {}}, Case{"0-1", 100, kMalformed, {}},
        Case{"bytes=0x10-20", 100, kMalformed, {}}));

TEST(ContentRange, WritesPartialAndUnsatisfiedForms) {
  EXPECT_EQ(ContentRange({0, 1}, 100), "bytes 0-0/100");
  EXPECT_EQ(ContentRange({90, 10}, 100), "bytes 90-99/100");
  EXPECT_EQ(UnsatisfiedRange(100), "bytes */100");
}

}  // namespace
}  // namespace reprise::http
