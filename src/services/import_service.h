// URL imports: a client (or a webhook sender) names a URL, the server answers at once
// with an import id, and a background runner downloads it into an asset.
//
// ImportService::Request checks what can be checked at once (http/https, host syntax,
// an IP literal the address policy refuses, the kind, the metadata, the parent asset
// visible to the caller) and stores a queued import: kInvalidArgument / kNotFound name
// the problem. The download itself happens in an ImportRunner (import_runner.h) that
// records the precise outcome: the asset once done, or the error (a dead URL says
// "http 404 from <url>", a timeout, the size limit, content that is not media).
//
// Ids: an asset's id derives from its owner and content hash, unknown until the bytes
// are in, so the import id ("imp_" + 20 base32 characters) is what the client polls
// (docs/adr/0003-import-ids.md). Resolve() answers what GET /api/v1/assets/{id} needs for
// an import id: the import, and the asset once it is done; PendingAssetJson() is the
// asset-shaped document of an import still importing (status "importing") or failed.
//
// Scoping: an import belongs to one owner; another owner's import answers kNotFound.
// Thread-safety: every method may be called from many threads at once.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/config.h"
#include "net/url_fetcher.h"
#include "services/caller.h"

namespace reprise::services {

struct ImportRequest {
  std::string url;
  std::optional<std::string> name;  // default: the last segment of the URL's path
  std::optional<std::string> kind;  // "video", "audio" or "image": what the client expects
  nlohmann::json metadata = nlohmann::json::object();  // kept with the asset
  std::optional<std::string> parent_id;
  std::optional<std::string> owner;  // an admin may import for an owner
};

// How imports are fetched and run, from the [import] and [queue] config.
struct ImportSettings {
  net::FetchOptions fetch;
  int concurrency = 2;
  int64_t lease_micros = 60'000'000;  // renewed as bytes arrive
  int max_attempts = 3;  // tries before a passing failure, or a download that keeps dying, is final
  int64_t backoff_base_micros = 5'000'000;   // a retry's delay ceiling doubles from here...
  int64_t backoff_max_micros = 300'000'000;  // ...up to here
  int64_t poll_micros = 1'000'000;           // idle runners look for work this often
  catalog::NewJob job;                       // what a new asset gets queued with
  std::string default_owner;                 // an admin's import without owner
};

// Settings from `config`; `job` is what ingest enqueues for a new asset (App::IngestJob).
ImportSettings ImportSettingsFrom(const Config& config, catalog::NewJob job);

// "imp_" + 20 characters of [a-z2-7] from the CSPRNG.
Result<std::string> NewImportId();
bool LooksLikeImportId(std::string_view text);

// GET /api/v1/imports/{id}: {"id", "status" (queued|downloading|done|failed), "url", "name",
// "kind", "metadata", "parent_id", "bytes", "attempts", "asset_id", "error", "next_attempt_at",
// "created_at", "updated_at"}. "error" ({code, message}) is set once failed, and while an
// import waits queued for its next attempt (the last attempt's error; next_attempt_at then
// says when, null otherwise).
nlohmann::json ImportJson(const catalog::Import& import);

class ImportService final {
 public:
  ImportService(catalog::Catalog& catalog, ImportSettings settings)
      : catalog_(catalog), settings_(std::move(settings)) {}

  // Validates and queues an import (see the top of this file).
  [[nodiscard]] Result<catalog::Import> Request(
      const Caller& caller, const ImportRequest& request,
      catalog::AssetSource source = catalog::AssetSource::kUrl) const;
  // kNotFound for an unknown id or another owner's import.
  [[nodiscard]] Result<catalog::Import> Get(const Caller& caller, std::string_view id) const;

  struct Resolved {
    catalog::Import import;
    std::optional<catalog::Asset> asset;  // once done (nullopt if since deleted)
  };
  // The import `id` and, once done, its asset. kNotFound as for Get.
  [[nodiscard]] Result<Resolved> Resolve(const Caller& caller, std::string_view id) const;
  // The asset-shaped document of an import without an asset yet: {"id": import id,
  // "status": "importing"|"failed", "import": ImportJson, "error" when failed, ...}.
  static nlohmann::json PendingAssetJson(const catalog::Import& import);

  // Validates each request like Request() for `owner` (those that fail are left out and
  // described in `refused`), then remembers the delivery and queues the rest in one
  // transaction. False when the delivery was seen before (nothing queued).
  [[nodiscard]] Result<bool> RecordWebhook(const catalog::ReceivedWebhook& webhook,
                                           const std::string& owner,
                                           const std::vector<ImportRequest>& requests,
                                           std::vector<catalog::Import>* queued,
                                           std::vector<std::string>* refused) const;

  // Called after an import is queued (a runner wakes up); empty to unset (before the
  // runner it calls goes away). Thread-safe.
  void SetOnQueued(std::function<void()> on_queued) {
    std::lock_guard lock(on_queued_mu_);
    on_queued_ = std::move(on_queued);
  }
  const ImportSettings& settings() const { return settings_; }

 private:
  [[nodiscard]] Result<catalog::NewImport> Validate(const ImportRequest& request,
                                                    const std::string& owner, const Caller& caller,
                                                    catalog::AssetSource source) const;
  void Queued() const {
    std::lock_guard lock(on_queued_mu_);
    if (on_queued_) on_queued_();
  }

  catalog::Catalog& catalog_;
  ImportSettings settings_;
  mutable std::mutex on_queued_mu_;
  std::function<void()> on_queued_;  // guarded by on_queued_mu_
};

}  // namespace reprise::services
