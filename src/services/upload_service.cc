#include "services/upload_service.h"

namespace reprise::services {
namespace {

constexpr size_t kMaxNameBytes = 1024;
constexpr size_t kMaxMetadataKeyBytes = 128;

Error TooLargeError(int64_t bytes, int64_t limit, bool declared) {
  return Error{ErrorCode::kInvalidArgument,
               std::string(declared ? "the upload declares " : "the upload passed ") +
                   std::to_string(bytes) + " bytes; uploads take at most " + std::to_string(limit) +
                   " (ingest.max_file_bytes)",
               std::string(kTooLargeOrigin)};
}

// The client's metadata as refs: strings as they are, other values as compact JSON.
void KeepMetadata(const nlohmann::json& metadata, std::map<std::string, std::string>& refs) {
  if (!metadata.is_object()) return;
  for (const auto& [key, value] : metadata.items()) {
    refs[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
}

}  // namespace

bool TooLarge(const Error& error) {
  return error.code == ErrorCode::kInvalidArgument && error.origin == kTooLargeOrigin;
}

Result<void> CheckUploadFields(const UploadFields& fields) {
  if (fields.name.size() > kMaxNameBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "name: at most " + std::to_string(kMaxNameBytes) + " bytes");
  }
  if (!fields.metadata.is_null()) {
    if (!fields.metadata.is_object()) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string("metadata: expected an object, got ") + fields.metadata.type_name());
    }
    if (fields.metadata.size() > kMaxMetadataEntries) {
      return Fail(ErrorCode::kInvalidArgument,
                  "metadata: at most " + std::to_string(kMaxMetadataEntries) + " members");
    }
    for (const auto& [key, value] : fields.metadata.items()) {
      if (key.empty() || key.size() > kMaxMetadataKeyBytes) {
        return Fail(
            ErrorCode::kInvalidArgument,
            "metadata: member names take 1 to " + std::to_string(kMaxMetadataKeyBytes) + " bytes");
      }
    }
  }
  if (fields.parent_id && fields.parent_id->empty()) {
    return Fail(ErrorCode::kInvalidArgument, "parent_id: empty");
  }
  return {};
}

Upload::Upload(const UploadDeps& deps, Caller caller)
    : deps_(deps),
      caller_(std::move(caller)),
      ingestor_(deps_.catalog, deps_.blobs, deps_.clock, deps_.log) {}

Result<std::unique_ptr<Upload>> Upload::Begin(const UploadDeps& deps, const Caller& caller,
                                              const std::optional<std::string>& requested_owner,
                                              const std::string& name, int64_t declared_bytes) {
  auto owner = caller.OwnerForNew(requested_owner, deps.default_owner);
  if (!owner) return Fail(owner.error());
  if (deps.max_bytes > 0 && declared_bytes > deps.max_bytes) {
    return Fail(TooLargeError(declared_bytes, deps.max_bytes, true));
  }
  std::unique_ptr<Upload> upload(new Upload(deps, caller));
  ingest::StreamInfo info;
  info.name = "upload " + (name.empty() ? std::string("(unnamed)") : name);
  info.original_name = name;
  ingest::Options options;
  options.owner = std::move(*owner);
  options.source = catalog::AssetSource::kUpload;
  options.max_file_bytes = deps.max_bytes;
  options.job = deps.job;
  upload->session_.emplace(upload->ingestor_.BeginStream(info, options));
  return upload;
}

Result<bool> Upload::Write(std::span<const std::byte> data) { return session_->Write(data); }

Result<UploadResult> Upload::Finish(const UploadFields& fields) {
  REPRISE_TRY(CheckUploadFields(fields));
  ingest::ItemResult item = session_->Finish([&](catalog::NewAsset& asset) -> Result<void> {
    if (fields.kind && asset.media.kind != *fields.kind) {
      return Fail(ErrorCode::kUnsupportedMedia,
                  "expected " + std::string(catalog::Name(*fields.kind)) + ", the upload is " +
                      std::string(catalog::Name(asset.media.kind)));
    }
    if (fields.parent_id) {
      auto scope = caller_.Scope();
      if (!scope) return Fail(scope.error());
      auto parent = deps_.catalog.GetAsset(*fields.parent_id, *scope);
      if (!parent) {
        if (parent.error().code != ErrorCode::kNotFound) return Fail(parent.error());
        return Fail(ErrorCode::kNotFound, "parent_id: no asset " + *fields.parent_id);
      }
      asset.parent_id = fields.parent_id;
    }
    if (!fields.name.empty()) asset.original_name = fields.name;
    KeepMetadata(fields.metadata, asset.refs);
    return {};
  });
  switch (item.outcome) {
    case ingest::Outcome::kAdded:
    case ingest::Outcome::kExisted:
      return UploadResult{std::move(*item.asset), item.outcome == ingest::Outcome::kAdded,
                          item.bytes};
    case ingest::Outcome::kSkipped:
      if (item.skip_reason == "too_large") {
        return Fail(TooLargeError(item.bytes, deps_.max_bytes, false));
      }
      return Fail(ErrorCode::kUnsupportedMedia,
                  item.path + " is not media: no audio, video or image stream was recognised");
    case ingest::Outcome::kError:
      break;
  }
  return Fail(item.error.value_or(Error{ErrorCode::kInternal, item.path + " failed", ""}));
}

}  // namespace reprise::services
