// Uploads: one media file sent by a client (an HTTP `POST /api/v1/assets`), ingested
// while it arrives. The front end pushes the body chunk by chunk into an Upload; each
// chunk is hashed and written to the blob store in the same pass (ingest::StreamSession),
// so memory stays one buffer whatever the size and the body is never read twice. Then
// the stored copy is probed and the asset recorded with its job, as for `reprise ingest`.
//
// Rules:
// - the owner is the caller's (Caller::OwnerForNew: an admin may name one, else the
//   configured default owner);
// - the limit is the configured maximum (ingest.max_file_bytes, 0: none): a declared
//   length over it is refused before any byte is read, and a body without one is cut
//   off at the chunk that passes it. Both are TooLarge() errors and store nothing;
// - bytes that are not media (or broken media) are kUnsupportedMedia and leave nothing
//   behind; a `kind` the client insists on that the probe does not find is the same;
// - `parent_id` must name an asset the caller sees (kNotFound otherwise);
// - `metadata` is a JSON object of at most kMaxMetadataEntries members: it is kept in
//   the asset's refs (strings as they are, other values as compact JSON), as the
//   catalog has no column of its own for client metadata yet;
// - content this owner already has is not stored twice: the existing asset comes back
//   with created = false, and the fields of this upload are not applied to it.
//
// Thread-safety: an Upload is used by one thread (the request's); uploads run
// concurrently, each with its own ingest session over the shared catalog and store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "ingest/ingest.h"
#include "services/caller.h"

namespace reprise::services {

// What an upload needs from the application.
struct UploadDeps {
  catalog::Catalog& catalog;
  blob::BlobStore& blobs;
  const Clock& clock;
  Logger log;
  int64_t max_bytes = 0;      // ingest.max_file_bytes; 0: no limit
  std::string default_owner;  // config.owner, for admins that name none
  catalog::NewJob job;        // what a new asset gets queued (App::IngestJob)
};

// What the client says about the upload, besides its bytes.
struct UploadFields {
  std::string name;                        // the client's file name; may be empty
  std::optional<catalog::AssetKind> kind;  // the kind the client expects
  nlohmann::json metadata;                 // null, or an object
  std::optional<std::string> parent_id;
};

struct UploadResult {
  catalog::Asset asset;
  bool created = false;  // false: this owner already had the content
  int64_t bytes = 0;
};

inline constexpr size_t kMaxMetadataEntries = 64;

// An upload over the limit: kInvalidArgument with this origin. The HTTP front end
// answers it as 413 payload_too_large.
inline constexpr std::string_view kTooLargeOrigin = "limit:max_file_bytes";
[[nodiscard]] bool TooLarge(const Error& error);

// The fields' own checks, before any byte is read: metadata an object of at most
// kMaxMetadataEntries members, names not too long. kInvalidArgument naming the field.
[[nodiscard]] Result<void> CheckUploadFields(const UploadFields& fields);

class Upload final {
 public:
  // Starts an upload for `caller` (as `requested_owner` when an admin names one).
  // `declared_bytes` is the length the client announced, -1 when unknown. Errors:
  // kPermissionDenied (another owner), TooLarge() (declared over the limit), the blob
  // store's.
  [[nodiscard]] static Result<std::unique_ptr<Upload>> Begin(
      const UploadDeps& deps, const Caller& caller,
      const std::optional<std::string>& requested_owner, const std::string& name,
      int64_t declared_bytes);

  // Takes the next bytes. True while within the limit; false from the chunk that passes
  // it (stop reading: nothing is stored any more, Finish() answers TooLarge()). The
  // store's errors.
  [[nodiscard]] Result<bool> Write(std::span<const std::byte> data);
  [[nodiscard]] int64_t bytes() const { return session_->bytes(); }

  // Ends the upload: commits, probes and records (see the top of this file). Call once.
  [[nodiscard]] Result<UploadResult> Finish(const UploadFields& fields);

 private:
  Upload(const UploadDeps& deps, Caller caller);

  UploadDeps deps_;
  Caller caller_;
  ingest::Ingestor ingestor_;  // one per upload: an Ingestor serves one call at a time
  std::optional<ingest::StreamSession> session_;  // set by Begin()
};

}  // namespace reprise::services
