// The Range header comes from anyone who can fetch a blob URL. Any bytes against any size
// must come back as one of the named outcomes, never crash or overflow. A partial span must
// lie inside the blob and be non-empty, and it must be a fixed point: "bytes=<first>-<last>"
// of it parses to the same span. Other outcomes carry no span; kWhole only for a blank
// header.
//
// Input: 8 bytes of size (little-endian; the top bits are sometimes cleared so small sizes
// are common), then the header.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "http/byte_range.h"

namespace {

using reprise::http::ByteSpan;
using reprise::http::ParseRange;
using reprise::http::RangeOutcome;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool Blank(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  uint64_t length = 0;
  std::memcpy(&length, data, 8);
  if ((length >> 63) == 0) length &= 0xffff;  // half the inputs: sizes below 64 KiB
  std::string_view header(reinterpret_cast<const char*>(data + 8), size - 8);

  auto range = ParseRange(header, length);
  Check(range.outcome == RangeOutcome::kWhole || range.outcome == RangeOutcome::kPartial ||
        range.outcome == RangeOutcome::kUnsatisfiable || range.outcome == RangeOutcome::kMultiple ||
        range.outcome == RangeOutcome::kMalformed);
  Check((range.outcome == RangeOutcome::kWhole) == Blank(header));
  if (range.outcome != RangeOutcome::kPartial) {
    Check(range.span == ByteSpan{});
    return 0;
  }
  const ByteSpan& span = range.span;
  Check(span.length >= 1 && span.first < length && span.length <= length - span.first);
  uint64_t last = span.first + span.length - 1;
  auto again =
      ParseRange("bytes=" + std::to_string(span.first) + "-" + std::to_string(last), length);
  Check(again.outcome == RangeOutcome::kPartial && again.span == span);
  Check(reprise::http::ContentRange(span, length) == "bytes " + std::to_string(span.first) + "-" +
                                                         std::to_string(last) + "/" +
                                                         std::to_string(length));
  return 0;
}
