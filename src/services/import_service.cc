#include "services/import_service.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/crypto.h"

namespace reprise::services {
namespace {

constexpr std::string_view kImportPrefix = "imp_";
constexpr size_t kImportIdChars = 20;
constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr size_t kMaxNameBytes = 255;

nlohmann::json TimeJson(int64_t micros) {
  return micros > 0 ? nlohmann::json(FormatRfc3339(micros)) : nlohmann::json(nullptr);
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

// The last segment of the URL's path ("clip.mp4" of https://x/a/clip.mp4?s=1), else "".
std::string NameFromUrl(const std::string& url) {
  auto scheme = url.find("://");
  std::string_view rest =
      scheme == std::string::npos ? url : std::string_view(url).substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("?#"));
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return "";
  rest = rest.substr(slash);
  return std::string(rest.substr(rest.rfind('/') + 1));
}

Result<std::string> CheckName(const std::string& name) {
  if (name.size() > kMaxNameBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("name is {} bytes long; at most {}", name.size(), kMaxNameBytes));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/') {
      return Fail(ErrorCode::kInvalidArgument, "name must not contain '/' or control characters");
    }
  }
  return name;
}

}  // namespace

ImportSettings ImportSettingsFrom(const Config& config, catalog::NewJob job) {
  ImportSettings settings;
  const ImportConfig& import = config.import;
  settings.fetch.max_bytes = import.max_bytes;
  settings.fetch.connect_timeout = Millis(import.connect_timeout_seconds);
  settings.fetch.total_timeout = Millis(import.timeout_seconds);
  settings.fetch.addresses.allow_private_addresses = import.allow_private_addresses;
  settings.concurrency = std::max(1, import.concurrency);
  settings.max_attempts = std::max(1, import.max_attempts);
  settings.backoff_base_micros = static_cast<int64_t>(import.backoff_base_seconds * 1e6);
  settings.backoff_max_micros = static_cast<int64_t>(import.backoff_max_seconds * 1e6);
  // A download renews its lease as bytes arrive and is cut off after low_speed_seconds
  // without them, so twice that cannot expire under a live download.
  settings.lease_micros =
      std::max<int64_t>(2 * settings.fetch.low_speed_seconds.count() * 1'000'000,
                        static_cast<int64_t>(config.queue.lease_seconds * 1e6));
  settings.poll_micros = static_cast<int64_t>(config.queue.poll_seconds * 1e6);
  settings.job = std::move(job);
  settings.default_owner = config.owner;
  return settings;
}

Result<std::string> NewImportId() {
  auto bytes = RandomBytes(kImportIdChars);
  if (!bytes) return Fail(bytes.error());
  std::string id(kImportPrefix);
  for (uint8_t b : *bytes) id += kBase32[b & 31];
  return id;
}

bool LooksLikeImportId(std::string_view text) {
  if (text.size() != kImportPrefix.size() + kImportIdChars || !text.starts_with(kImportPrefix)) {
    return false;
  }
  return std::all_of(text.begin() + kImportPrefix.size(), text.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); });
}

nlohmann::json ImportJson(const catalog::Import& import) {
  nlohmann::json error = nullptr;
  const bool waiting = import.state == catalog::ImportState::kQueued && import.retry_at > 0;
  if (import.state == catalog::ImportState::kFailed || waiting) {
    error = {{"code", import.error_code}, {"message", import.error_message}};
  }
  return {{"id", import.id},
          {"owner", import.owner},
          {"status", catalog::Name(import.state)},
          {"source", catalog::Name(import.source)},
          {"url", import.url},
          {"name", import.name},
          {"kind", import.kind.empty() ? nlohmann::json(nullptr) : nlohmann::json(import.kind)},
          {"metadata", import.metadata},
          {"parent_id", import.parent_id ? nlohmann::json(*import.parent_id) : nullptr},
          {"bytes", import.bytes},
          {"attempts", import.attempts},
          {"asset_id", import.asset_id ? nlohmann::json(*import.asset_id) : nullptr},
          {"error", error},
          {"next_attempt_at", waiting ? TimeJson(import.retry_at) : nullptr},
          {"created_at", TimeJson(import.created_at)},
          {"updated_at", TimeJson(import.updated_at)}};
}

nlohmann::json ImportService::PendingAssetJson(const catalog::Import& import) {
  const bool failed = import.state == catalog::ImportState::kFailed;
  nlohmann::json doc = {
      {"id", import.id},
      {"owner", import.owner},
      {"status", failed ? "failed" : "importing"},
      {"source", catalog::Name(import.source)},
      {"source_uri", import.url},
      {"original_name", import.name},
      {"kind", import.kind.empty() ? "unknown" : import.kind},
      {"metadata", import.metadata},
      {"parent_id", import.parent_id ? nlohmann::json(*import.parent_id) : nullptr},
      {"derivatives", nlohmann::json::array()},
      {"error", nullptr},
      {"import", ImportJson(import)},
      {"created_at", TimeJson(import.created_at)},
      {"updated_at", TimeJson(import.updated_at)},
  };
  if (failed) doc["error"] = {{"code", import.error_code}, {"message", import.error_message}};
  return doc;
}

Result<catalog::NewImport> ImportService::Validate(const ImportRequest& request,
                                                   const std::string& owner, const Caller& caller,
                                                   catalog::AssetSource source) const {
  auto url = net::CheckFetchUrl(request.url, settings_.fetch);
  if (!url) return Fail(url.error());
  catalog::NewImport import;
  auto id = NewImportId();
  if (!id) return Fail(id.error());
  import.id = std::move(*id);
  import.owner = owner;
  import.source = source;
  import.url = std::move(*url);
  auto name = CheckName(request.name.value_or(NameFromUrl(import.url)));
  if (!name) return Fail(name.error());
  import.name = std::move(*name);
  if (request.kind) {
    auto kind = catalog::ParseAssetKind(*request.kind);
    if (!kind || *kind == catalog::AssetKind::kUnknown) {
      return Fail(ErrorCode::kInvalidArgument,
                  "kind '" + *request.kind + "' is not one of video, audio, image");
    }
    import.kind = *request.kind;
  }
  if (!request.metadata.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "metadata must be a JSON object");
  }
  import.metadata = request.metadata;
  if (request.parent_id) {
    auto scope = caller.Scope();
    if (!scope) return Fail(scope.error());
    auto parent = catalog_.GetAsset(*request.parent_id, *scope);
    if (!parent || parent->owner != owner) {
      if (parent || parent.error().code == ErrorCode::kNotFound) {
        return Fail(ErrorCode::kNotFound, "parent asset " + *request.parent_id + " not found");
      }
      return Fail(parent.error());
    }
    import.parent_id = request.parent_id;
  }
  return import;
}

Result<catalog::Import> ImportService::Request(const Caller& caller, const ImportRequest& request,
                                               catalog::AssetSource source) const {
  auto owner = caller.OwnerForNew(request.owner, settings_.default_owner);
  if (!owner) return Fail(owner.error());
  auto import = Validate(request, *owner, caller, source);
  if (!import) return Fail(import.error());
  auto inserted = catalog_.InsertImport(*import);
  if (inserted) Queued();
  return inserted;
}

Result<catalog::Import> ImportService::Get(const Caller& caller, std::string_view id) const {
  auto scope = caller.Scope();
  if (!scope) return Fail(scope.error());
  return catalog_.GetImport(id, *scope);
}

Result<ImportService::Resolved> ImportService::Resolve(const Caller& caller,
                                                       std::string_view id) const {
  auto import = Get(caller, id);
  if (!import) return Fail(import.error());
  Resolved resolved{std::move(*import), std::nullopt};
  if (resolved.import.state == catalog::ImportState::kDone && resolved.import.asset_id) {
    catalog::AssetFilter scope;
    scope.owner = resolved.import.owner;
    auto asset = catalog_.GetAsset(*resolved.import.asset_id, scope);
    if (asset) {
      resolved.asset = std::move(*asset);
    } else if (asset.error().code != ErrorCode::kNotFound) {
      return Fail(asset.error());
    }
  }
  return resolved;
}

Result<bool> ImportService::RecordWebhook(const catalog::ReceivedWebhook& webhook,
                                          const std::string& owner,
                                          const std::vector<ImportRequest>& requests,
                                          std::vector<catalog::Import>* queued,
                                          std::vector<std::string>* refused) const {
  const Caller caller = Caller::Owner(owner, "webhook " + webhook.source);
  std::vector<catalog::NewImport> imports;
  for (const auto& request : requests) {
    auto import = Validate(request, owner, caller, catalog::AssetSource::kWebhook);
    if (!import) {
      if (refused) refused->push_back(import.error().message);
      continue;
    }
    imports.push_back(std::move(*import));
  }
  auto recorded = catalog_.RecordWebhook(webhook, imports);
  if (!recorded) return Fail(recorded.error());
  if (*recorded && queued) {
    for (const auto& import : imports) {
      auto stored = catalog_.GetImport(import.id, {});
      if (!stored) return Fail(stored.error());
      queued->push_back(std::move(*stored));
    }
  }
  if (*recorded && !imports.empty()) Queued();
  return recorded;
}

}  // namespace reprise::services
