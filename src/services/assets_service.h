// AssetsService: listing, showing and deleting assets for a caller, the rules behind
// `reprise assets list|show|delete` and `GET|DELETE /api/v1/assets[/{id}]`.
//
// Every function takes the Caller and scopes with Caller::Scope(selection owner): a
// non-admin naming another owner is kPermissionDenied, another owner's asset is
// kNotFound. Listings run over backfill::Selection (the backfill filters, --where
// included); a filter value that does not parse is kInvalidArgument naming its option
// ("--status: ..."). When a listing selects nothing, backfill::ExplainEmptySelection says
// why (never naming owners a non-admin cannot see).
//
// Delete removes the catalog record (with its derivative rows, jobs and backfill items)
// and then its blobs: every derivative file under assets/<id>/, and the original unless
// another asset has the same content. kConflict while a job of the asset runs. A crash
// between the two leaves unreferenced blobs, never a record whose files are gone.
// Thread-safe as the catalog and blob store are.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backfill/empty_selection.h"
#include "backfill/service.h"
#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "core/log.h"
#include "services/caller.h"
#include "services/document_cache.h"
#include "services/views.h"
#include "stages/registry.h"

namespace reprise::services {

struct AssetList {
  std::vector<catalog::Asset> items;
  std::string next_cursor;                  // empty when no more match
  std::vector<backfill::EmptyCause> empty;  // why nothing matched (first page only)
};

struct AssetScan {
  int64_t shown = 0;
  std::vector<backfill::EmptyCause> empty;  // why nothing matched
};

struct AssetDetail {
  catalog::Asset asset;
  nlohmann::json json;  // AssetDetailJson
};

struct DeletedAsset {
  std::string id;
  int64_t blobs_deleted = 0;
  bool original_kept = false;  // another asset has the same content
};
// {"id", "deleted": true, "blobs_deleted", "original_kept"}
nlohmann::json DeletedAssetJson(const DeletedAsset& deleted);
// The API's page of assets: PageJson over AssetJson.
nlohmann::json AssetListJson(const AssetList& list);

class AssetsService final {
 public:
  // Built documents are kept up to this many bytes (ShowText).
  static constexpr size_t kDefaultDocumentCacheBytes = size_t{64} << 20;

  AssetsService(catalog::Catalog& catalog, blob::BlobStore& blobs, const stages::Registry& registry,
                Logger log, size_t document_cache_bytes = kDefaultDocumentCacheBytes)
      : catalog_(catalog),
        blobs_(blobs),
        registry_(registry),
        log_(std::move(log)),
        documents_(document_cache_bytes) {}

  // One page, oldest first. page.limit in 1..1000 (else kInvalidArgument); a cursor from
  // an earlier page continues it.
  [[nodiscard]] Result<AssetList> List(const Caller& caller, const backfill::Selection& selection,
                                       const catalog::PageRequest& page);
  // Every matching asset (at most `limit`, 0: all) to `visit`, page by page, without
  // holding them all.
  [[nodiscard]] Result<AssetScan> Scan(const Caller& caller, const backfill::Selection& selection,
                                       int64_t limit,
                                       const std::function<void(const catalog::Asset&)>& visit);
  // The asset with its derivatives (AssetDetailJson; with `sign`, file URLs).
  [[nodiscard]] Result<AssetDetail> Show(const Caller& caller, const std::string& id,
                                         const std::optional<std::string>& only_owner = {},
                                         const SignUrl& sign = {});
  // Show()'s document as JSON text (core/json_text.h), for answers sent as they are.
  // `sign` must give the same URL for a key on every call with the same `expires` (as
  // http::BlobUrlSigner::SignUntil does): a text built for (the asset's revision,
  // `expires`) is kept in the document cache and served again while both hold, after the
  // one catalog read that checks owner and revision. The stamp names the text: equal
  // stamps of one asset mean equal texts (an HTTP entity tag).
  struct DocumentText {
    std::shared_ptr<const std::string> text;
    DocumentCache::Stamp stamp;
  };
  [[nodiscard]] Result<DocumentText> ShowText(const Caller& caller, const std::string& id,
                                              const SignUrl& sign, int64_t expires);
  [[nodiscard]] DocumentCache::Stats document_cache_stats() const { return documents_.stats(); }
  // One entry of Show's "derivatives": kNotFound for a stage that is not registered.
  [[nodiscard]] Result<nlohmann::json> ShowDerivative(const Caller& caller, const std::string& id,
                                                      const std::string& stage,
                                                      const SignUrl& sign = {});
  [[nodiscard]] Result<DeletedAsset> Delete(const Caller& caller, const std::string& id,
                                            const std::optional<std::string>& only_owner = {});

 private:
  // The catalog filter of `selection` within the caller's scope.
  Result<catalog::AssetFilter> Filter(const Caller& caller,
                                      const backfill::Selection& selection) const;
  Result<std::vector<backfill::EmptyCause>> Explain(const Caller& caller,
                                                    const backfill::Selection& selection);

  catalog::Catalog& catalog_;
  blob::BlobStore& blobs_;
  const stages::Registry& registry_;
  Logger log_;
  DocumentCache documents_;
};

}  // namespace reprise::services
