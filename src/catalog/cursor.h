// Page cursors, the same on every catalog backend. A cursor is opaque to callers: they
// pass back the next_cursor of a previous page unchanged.
//
// - assets (ListAssets): the hex of "<created_at>:<id>" of the last asset returned;
// - jobs (ListJobs): the hex of "job:<id>" of the last job returned;
// - backfills (ListBackfillsWithCounts): the decimal id of the last backfill returned.
//
// The decoders refuse anything else with kInvalidArgument; an empty backfill cursor is
// the first page (nullopt), an empty asset or job cursor is the backend's to handle
// (it means "from the start" and is never decoded).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace reprise::catalog {

struct AssetCursor {
  int64_t created_at = 0;
  std::string id;
};
std::string EncodeAssetCursor(int64_t created_at, std::string_view id);
[[nodiscard]] Result<AssetCursor> DecodeAssetCursor(std::string_view cursor);

std::string EncodeJobCursor(int64_t job_id);
[[nodiscard]] Result<int64_t> DecodeJobCursor(std::string_view cursor);

std::string EncodeBackfillCursor(int64_t backfill_id);
[[nodiscard]] Result<std::optional<int64_t>> DecodeBackfillCursor(std::string_view cursor);

}  // namespace reprise::catalog
