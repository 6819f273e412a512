// One HTTP `Range` request header (RFC 9110 section 14) read against a representation of
// `size` bytes. Only the bytes unit and a single range are served; everything else has a
// named outcome so the blob route can answer it without further parsing:
//
//   kWhole          no header (empty value): 200 with the whole body
//   kPartial        one satisfiable range: 206, Content-Range from ContentRange(span, size)
//   kUnsatisfiable  one well-formed range that selects nothing: "bytes=<a>-" with a >= size,
//                   "bytes=-0", or any range of an empty representation: 416 with
//                   Content-Range from UnsatisfiedRange(size)
//   kMultiple       several well-formed ranges: 200 with the whole body (RFC 9110 lets a
//                   server ignore Range; we never send multipart/byteranges)
//   kMalformed      another unit, bad syntax, last < first: ignored likewise, 200
//
// Forms: "bytes=a-b" (b past the end is cut to size - 1), "bytes=a-", "bytes=-n" (the last
// n bytes; n > size means all). The unit is case-insensitive; spaces or tabs around the value
// and around list commas are allowed, empty list elements skipped. Numbers too large for 64
// bits saturate rather than wrap. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reprise::http {

enum class RangeOutcome { kWhole, kPartial, kUnsatisfiable, kMultiple, kMalformed };

// Bytes [first, first + length); length >= 1 for kPartial, 0 otherwise.
struct ByteSpan {
  uint64_t first = 0;
  uint64_t length = 0;
  bool operator==(const ByteSpan&) const = default;
};

struct RangeRequest {
  RangeOutcome outcome = RangeOutcome::kWhole;
  ByteSpan span;  // set for kPartial only
};

[[nodiscard]] RangeRequest ParseRange(std::string_view header, uint64_t size);

// "bytes 0-499/1234" for a kPartial span; "bytes */1234" for a 416 answer.
[[nodiscard]] std::string ContentRange(const ByteSpan& span, uint64_t size);
[[nodiscard]] std::string UnsatisfiedRange(uint64_t size);

std::string_view RangeOutcomeName(RangeOutcome outcome);

}  // namespace reprise::http
