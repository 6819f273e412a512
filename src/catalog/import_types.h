// Plain records of URL imports as the catalog stores them: a download requested by a
// client or by a webhook, its progress and how it ended, and the webhook deliveries
// received (for replay protection). The rules (what may be fetched, the lease, when to
// give up) live in services/import_service.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

// queued -> downloading -> done | failed; downloading -> downloading again when its
// runner's lease expires (the server was killed) and another runner takes it over;
// downloading -> queued with a retry time after a passing failure (it keeps the error).
enum class ImportState { kQueued, kDownloading, kDone, kFailed };
std::string_view Name(ImportState state);
Result<ImportState> ParseImportState(std::string_view text);

struct NewImport {
  std::string id;  // "imp_..." (services::NewImportId)
  std::string owner;
  AssetSource source = AssetSource::kUrl;  // kUrl, or kWebhook for a sender's callback
  std::string url;
  std::string name;  // the asset's name once imported; may be empty
  std::string kind;  // the kind the client announced ("video"), may be empty
  nlohmann::json metadata = nlohmann::json::object();  // the client's, given to the asset
  std::optional<std::string> parent_id;
};

struct Import {
  std::string id;
  std::string owner;
  AssetSource source = AssetSource::kUrl;
  std::string url;
  std::string name;
  std::string kind;
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<std::string> parent_id;
  ImportState state = ImportState::kQueued;
  int64_t bytes = 0;       // downloaded so far (the last progress report)
  std::string error_code;  // ErrorCodeName(), when failed
  std::string error_message;
  std::optional<std::string> asset_id;  // once done
  int attempts = 0;                     // claims so far
  int64_t retry_at = 0;     // queued after a passing failure: not claimed before (UTC micros)
  std::string lease_owner;  // while downloading
  int64_t lease_expires_at = 0;
  int64_t created_at = 0;  // UTC micros
  int64_t updated_at = 0;
};

// How a download ended: kDone with the asset, kFailed with the error, or kQueued: given
// back (no error), or to be tried again at retry_at after `error` (a passing failure).
struct ImportOutcome {
  ImportState state = ImportState::kDone;
  std::string asset_id;
  std::optional<Error> error;
  int64_t bytes = 0;
  std::optional<int64_t> retry_at;  // kQueued with an error
};

// One verified webhook delivery, remembered by (source, webhook id).
struct ReceivedWebhook {
  std::string source;      // "replicate"
  std::string webhook_id;  // the webhook-id header
  std::string event;       // what it said, for the record ("prediction succeeded")
};

}  // namespace reprise::catalog
