// Plain records the catalog stores and returns. No behaviour beyond name conversion.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace reprise::catalog {

enum class AssetKind { kUnknown, kVideo, kAudio, kImage };
enum class AssetSource { kUpload, kUrl, kWebhook, kScan };
// pending: work is due; processing: a run is under way; ready: every applicable stage
// has a current result; failed: at least one stage's latest attempt failed.
enum class AssetStatus { kPending, kProcessing, kReady, kFailed };
enum class DerivativeState { kPending, kRunning, kDone, kFailed, kSkipped };

std::string_view Name(AssetKind kind);
std::string_view Name(AssetSource source);
std::string_view Name(AssetStatus status);
std::string_view Name(DerivativeState state);
Result<AssetKind> ParseAssetKind(std::string_view text);
Result<AssetSource> ParseAssetSource(std::string_view text);
Result<AssetStatus> ParseAssetStatus(std::string_view text);
Result<DerivativeState> ParseDerivativeState(std::string_view text);

// What the media summary of an asset says; filled from the probe stage.
struct MediaSummary {
  AssetKind kind = AssetKind::kUnknown;
  std::string container;  // libavformat short name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  std::optional<double> duration_seconds;
  std::optional<int> width;   // display width (rotation applied)
  std::optional<int> height;  // display height (rotation applied)
};

struct NewAsset {
  std::string id;  // derived by the caller (core/ids.h)
  std::string owner;
  AssetSource source = AssetSource::kScan;
  std::string sha256_hex;
  std::string cid;
  int64_t size_bytes = 0;
  std::string original_key;
  std::string original_name;  // file name as the user had it
  std::string source_uri;     // where it came from (path, URL)
  MediaSummary media;         // what ingest already knows
  std::optional<std::string> parent_id;
  std::map<std::string, std::string> refs;
};

struct Asset {
  std::string id;
  std::string owner;
  AssetSource source = AssetSource::kScan;
  std::string sha256_hex;
  std::string cid;
  int64_t size_bytes = 0;
  std::string original_key;
  std::string original_name;
  std::string source_uri;
  AssetStatus status = AssetStatus::kPending;
  MediaSummary media;
  std::optional<std::string> parent_id;
  std::map<std::string, std::string> refs;
  int64_t created_at = 0;  // UTC microseconds
  int64_t updated_at = 0;
};

struct InsertAssetResult {
  Asset asset;
  bool created = false;  // false: the same (owner, content) already existed
};

struct AssetFilter {
  std::optional<std::string> owner;  // owner scoping: set for every user-facing query
  std::optional<AssetStatus> status;
  std::optional<AssetKind> kind;
  std::optional<AssetSource> source;
  std::vector<std::string> ids;  // empty: any
};

struct PageRequest {
  std::string cursor;  // opaque; empty for the first page
  int limit = 100;
};

struct AssetPage {
  std::vector<Asset> items;
  std::string next_cursor;  // empty when there is no more
};

struct OutputBlob {
  std::string name;  // file name within the derivative, e.g. "thumb.jpg"
  std::string key;   // blob key
  int64_t size = 0;
  std::string content_type;  // "image/jpeg"
};

// One attempt of one stage on one asset. Rows are never overwritten by a later
// attempt: each run inserts a row; the row marked `current` is the result served.
struct Derivative {
  int64_t id = 0;
  std::string asset_id;
  std::string stage;
  int stage_version = 0;
  std::string recipe;
  nlohmann::json params = nlohmann::json::object();
  DerivativeState state = DerivativeState::kPending;
  std::string skip_reason;
  std::string error_code;  // ErrorCodeName()
  std::string error_message;
  int attempts = 0;
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<OutputBlob> blobs;
  int64_t bytes = 0;
  bool current = false;
  int64_t created_at = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;
};

// What a stage run ended with, recorded by CompleteDerivative.
struct DerivativeOutcome {
  DerivativeState state = DerivativeState::kDone;  // kDone, kFailed or kSkipped
  std::string skip_reason;
  std::optional<Error> error;
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<OutputBlob> blobs;
  // When set (the probe stage), the asset's media summary is updated in the same
  // transaction.
  std::optional<MediaSummary> asset_media;
};

// How one asset stands for one stage given today's recipe.
enum class StageStatus {
  kCurrent,   // current result built by today's recipe
  kOutdated,  // current result built by another recipe
  kMissing,   // no result at all
  kFailed,    // latest attempt with today's recipe failed
  kSkipped,   // today's recipe does not apply (skip reason recorded)
};
std::string_view Name(StageStatus status);
Result<StageStatus> ParseStageStatus(std::string_view text);

struct StageRecipe {
  std::string stage;
  std::string recipe;
};

struct StageCounts {
  int64_t current = 0;
  int64_t outdated = 0;
  int64_t missing = 0;
  int64_t failed = 0;
  int64_t skipped = 0;
};

}  // namespace reprise::catalog
