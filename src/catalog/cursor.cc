#include "catalog/cursor.h"

#include <charconv>
#include <span>
#include <system_error>
#include <vector>

#include "core/hash.h"

namespace reprise::catalog {
namespace {

tl::unexpected<Error> BadCursor() {
  return Fail(ErrorCode::kInvalidArgument,
              "invalid page cursor: pass back the next_cursor of a previous page unchanged");
}

std::string Hex(std::string_view plain) {
  return HexLower(std::span(reinterpret_cast<const uint8_t*>(plain.data()), plain.size()));
}

// Empty on malformed input (a valid cursor is never empty).
std::string Unhex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  if (!bytes) return {};
  return std::string(bytes->begin(), bytes->end());
}

// The whole of `text` as a decimal int64, or nullopt.
std::optional<int64_t> WholeNumber(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

std::string EncodeAssetCursor(int64_t created_at, std::string_view id) {
  return Hex(std::to_string(created_at) + ":" + std::string(id));
}

Result<AssetCursor> DecodeAssetCursor(std::string_view cursor) {
  const std::string plain = Unhex(cursor);
  const size_t colon = plain.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == plain.size()) return BadCursor();
  auto created_at = WholeNumber(std::string_view(plain).substr(0, colon));
  if (!created_at) return BadCursor();
  AssetCursor decoded{*created_at, plain.substr(colon + 1)};
  if (decoded.id.find('\0') != std::string::npos) return BadCursor();
  return decoded;
}

std::string EncodeJobCursor(int64_t job_id) { return Hex("job:" + std::to_string(job_id)); }

Result<int64_t> DecodeJobCursor(std::string_view cursor) {
  const std::string plain = Unhex(cursor);
  constexpr std::string_view kPrefix = "job:";
  if (plain.size() <= kPrefix.size() || plain.compare(0, kPrefix.size(), kPrefix) != 0) {
    return BadCursor();
  }
  auto id = WholeNumber(std::string_view(plain).substr(kPrefix.size()));
  if (!id || *id <= 0) return BadCursor();
  return *id;
}

std::string EncodeBackfillCursor(int64_t backfill_id) { return std::to_string(backfill_id); }

Result<std::optional<int64_t>> DecodeBackfillCursor(std::string_view cursor) {
  if (cursor.empty()) return std::optional<int64_t>{};
  auto id = WholeNumber(cursor);
  if (!id || *id < 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "invalid backfill cursor \"" + std::string(cursor) + "\"");
  }
  return id;
}

}  // namespace reprise::catalog
