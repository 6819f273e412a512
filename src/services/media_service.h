// Seed 004's media API, verbatim, over assets and URL imports: what the generator team's
// frontend and scripts called, so they work against reprise unchanged.
//
//   POST /api/v1/media/import-from-url {url, name, type, metadata}
//        -> {"asset_id", "import_job_id", "status": "uploading", "message"}
//   GET  /api/v1/media/          -> {"assets": [media document...], "next_cursor"}
//   GET  /api/v1/media/{id}      -> one media document
//
// A media document: {"id", "name", "type" (video|audio|image|unknown), "status"
// (uploading|ready|failed, as the seed's polling code reads it), "url" (the original,
// signed), "thumbnail_url" (the thumbnail stage's picture, signed; null until there is
// one), "metadata" (the client's metadata plus duration, width, height, codec, bitrate,
// frame_rate, size, and "error" when failed), "import_job_id", "created_at",
// "updated_at"}. The id the import answers as asset_id is the import's own id
// (docs/adr/0003-import-ids.md): polled, it reads "uploading" while the download and the
// stages run, then the asset's document (with the asset's real id) once ready.
//
// The list holds the caller's imports that have no asset yet (newest first, on the first
// page only) and then a page of the caller's assets. Another owner's id is kNotFound.
// Thread-safety: as the catalog.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "services/caller.h"
#include "services/import_service.h"

namespace reprise::services {

// Signs a blob key into a URL a browser can fetch (http::BlobUrlSigner::Sign).
using SignBlobUrl = std::function<Result<std::string>(std::string_view key)>;

struct MediaImportRequest {
  std::string url;
  std::optional<std::string> name;
  std::optional<std::string> type;  // video, audio, image
  nlohmann::json metadata = nlohmann::json::object();
};

class MediaService final {
 public:
  MediaService(catalog::Catalog& catalog, const ImportService& imports)
      : catalog_(catalog), imports_(imports) {}

  [[nodiscard]] Result<nlohmann::json> ImportFromUrl(const Caller& caller,
                                                     const MediaImportRequest& request) const;
  [[nodiscard]] Result<nlohmann::json> Get(const Caller& caller, std::string_view id,
                                           const SignBlobUrl& sign) const;
  [[nodiscard]] Result<nlohmann::json> List(const Caller& caller, const catalog::PageRequest& page,
                                            const SignBlobUrl& sign) const;

 private:
  [[nodiscard]] Result<nlohmann::json> AssetDocument(const catalog::Asset& asset,
                                                     const std::optional<catalog::Import>& import,
                                                     const SignBlobUrl& sign) const;
  static nlohmann::json ImportDocument(const catalog::Import& import);

  catalog::Catalog& catalog_;
  const ImportService& imports_;
};

}  // namespace reprise::services
