#include "services/media_service.h"

#include <algorithm>

#include "core/clock.h"

namespace reprise::services {
namespace {

constexpr std::string_view kThumbnailStage = "thumbnail";
constexpr std::string_view kProbeStage = "probe";

nlohmann::json TimeJson(int64_t micros) {
  return micros > 0 ? nlohmann::json(FormatRfc3339(micros)) : nlohmann::json(nullptr);
}

std::string_view MediaStatus(catalog::AssetStatus status) {
  switch (status) {
    case catalog::AssetStatus::kReady:
      return "ready";
    case catalog::AssetStatus::kFailed:
      return "failed";
    case catalog::AssetStatus::kPending:
    case catalog::AssetStatus::kProcessing:
      break;
  }
  return "uploading";
}

// codec, bitrate and frame_rate from the probe stage's result: the first video stream,
// else the first audio stream.
void AddProbeFields(const nlohmann::json& probe, nlohmann::json& metadata) {
  if (probe.contains("bit_rate")) metadata["bitrate"] = probe["bit_rate"];
  if (!probe.contains("streams") || !probe["streams"].is_array()) return;
  const nlohmann::json* chosen = nullptr;
  for (const auto& stream : probe["streams"]) {
    if (stream.value("type", "") == "video" && !stream.value("attached_picture", false)) {
      chosen = &stream;
      break;
    }
    if (chosen == nullptr && stream.value("type", "") == "audio") chosen = &stream;
  }
  if (chosen == nullptr) return;
  if (chosen->contains("codec")) metadata["codec"] = (*chosen)["codec"];
  if (chosen->contains("frame_rate")) metadata["frame_rate"] = (*chosen)["frame_rate"];
}

// The message of the newest failed attempt whose stage has no newer attempt.
std::optional<std::string> StageError(const std::vector<catalog::Derivative>& history) {
  std::vector<std::string> seen;
  for (const auto& derivative : history) {  // newest first
    if (std::find(seen.begin(), seen.end(), derivative.stage) != seen.end()) continue;
    seen.push_back(derivative.stage);
    if (derivative.state == catalog::DerivativeState::kFailed) {
      return derivative.stage + ": " + derivative.error_message;
    }
  }
  return std::nullopt;
}

}  // namespace

nlohmann::json MediaService::ImportDocument(const catalog::Import& import) {
  const bool failed = import.state == catalog::ImportState::kFailed;
  nlohmann::json metadata = import.metadata;
  if (failed) metadata["error"] = import.error_message;
  return {{"id", import.id},
          {"name", import.name},
          {"type", import.kind.empty() ? "unknown" : import.kind},
          {"status", failed ? "failed" : "uploading"},
          {"url", nullptr},
          {"thumbnail_url", nullptr},
          {"metadata", metadata},
          {"import_job_id", import.id},
          {"source_url", import.url},
          {"created_at", TimeJson(import.created_at)},
          {"updated_at", TimeJson(import.updated_at)}};
}

Result<nlohmann::json> MediaService::AssetDocument(const catalog::Asset& asset,
                                                   const std::optional<catalog::Import>& import,
                                                   const SignBlobUrl& sign) const {
  nlohmann::json metadata = import ? import->metadata : nlohmann::json::object();
  if (asset.media.duration_seconds) metadata["duration"] = *asset.media.duration_seconds;
  if (asset.media.width) metadata["width"] = *asset.media.width;
  if (asset.media.height) metadata["height"] = *asset.media.height;
  metadata["size"] = asset.size_bytes;
  if (auto probe = catalog_.GetCurrentDerivative(asset.id, kProbeStage)) {
    AddProbeFields(probe->metadata, metadata);
  } else if (probe.error().code != ErrorCode::kNotFound) {
    return Fail(probe.error());
  }
  nlohmann::json thumbnail_url = nullptr;
  if (auto thumbnail = catalog_.GetCurrentDerivative(asset.id, kThumbnailStage)) {
    if (!thumbnail->blobs.empty()) {
      auto signed_url = sign(thumbnail->blobs.front().key);
      if (!signed_url) return Fail(signed_url.error());
      thumbnail_url = *signed_url;
    }
  } else if (thumbnail.error().code != ErrorCode::kNotFound) {
    return Fail(thumbnail.error());
  }
  if (asset.status == catalog::AssetStatus::kFailed) {
    auto history = catalog_.ListDerivatives(asset.id);
    if (!history) return Fail(history.error());
    metadata["error"] = StageError(*history).value_or("processing failed");
  }
  auto url = sign(asset.original_key);
  if (!url) return Fail(url.error());
  return nlohmann::json{{"id", asset.id},
                        {"name", asset.original_name},
                        {"type", catalog::Name(asset.media.kind)},
                        {"status", MediaStatus(asset.status)},
                        {"url", *url},
                        {"thumbnail_url", thumbnail_url},
                        {"metadata", metadata},
                        {"import_job_id", import ? nlohmann::json(import->id) : nullptr},
                        {"source_url", asset.source_uri},
                        {"created_at", TimeJson(asset.created_at)},
                        {"updated_at", TimeJson(asset.updated_at)}};
}

Result<nlohmann::json> MediaService::ImportFromUrl(const Caller& caller,
                                                   const MediaImportRequest& request) const {
  ImportRequest import_request;
  import_request.url = request.url;
  import_request.name = request.name;
  import_request.kind = request.type;
  import_request.metadata = request.metadata;
  auto import = imports_.Request(caller, import_request);
  if (!import) return Fail(import.error());
  return nlohmann::json{{"asset_id", import->id},
                        {"import_job_id", import->id},
                        {"status", "uploading"},
                        {"message", "import queued; poll /api/v1/media/" + import->id}};
}

Result<nlohmann::json> MediaService::Get(const Caller& caller, std::string_view id,
                                         const SignBlobUrl& sign) const {
  if (LooksLikeImportId(id)) {
    auto resolved = imports_.Resolve(caller, id);
    if (!resolved) return Fail(resolved.error());
    if (!resolved->asset) {
      if (resolved->import.state == catalog::ImportState::kDone) {
        return Fail(ErrorCode::kNotFound,
                    "the asset of import " + std::string(id) + " was deleted");
      }
      return ImportDocument(resolved->import);
    }
    return AssetDocument(*resolved->asset, resolved->import, sign);
  }
  auto scope = caller.Scope();
  if (!scope) return Fail(scope.error());
  auto asset = catalog_.GetAsset(id, *scope);
  if (!asset) return Fail(asset.error());
  auto import = catalog_.FindImportOfAsset(asset->id);
  if (!import) return Fail(import.error());
  return AssetDocument(*asset, *import, sign);
}

Result<nlohmann::json> MediaService::List(const Caller& caller, const catalog::PageRequest& page,
                                          const SignBlobUrl& sign) const {
  auto scope = caller.Scope();
  if (!scope) return Fail(scope.error());
  nlohmann::json assets = nlohmann::json::array();
  if (page.cursor.empty()) {
    auto pending =
        catalog_.ListImports(*scope,
                             {catalog::ImportState::kQueued, catalog::ImportState::kDownloading,
                              catalog::ImportState::kFailed},
                             page.limit);
    if (!pending) return Fail(pending.error());
    for (const auto& import : *pending) assets.push_back(ImportDocument(import));
  }
  auto listed = catalog_.ListAssets(*scope, page);
  if (!listed) return Fail(listed.error());
  for (const auto& asset : listed->items) {
    auto import = catalog_.FindImportOfAsset(asset.id);
    if (!import) return Fail(import.error());
    auto doc = AssetDocument(asset, *import, sign);
    if (!doc) return Fail(doc.error());
    assets.push_back(std::move(*doc));
  }
  return nlohmann::json{
      {"assets", assets},
      {"next_cursor", listed->next_cursor.empty() ? nlohmann::json(nullptr)
                                                  : nlohmann::json(listed->next_cursor)}};
}

}  // namespace reprise::services
