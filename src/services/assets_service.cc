#include "services/assets_service.h"

#include <algorithm>

#include "core/json_text.h"

namespace reprise::services {
namespace {

constexpr int kScanPage = 500;

}  // namespace

nlohmann::json DeletedAssetJson(const DeletedAsset& deleted) {
  return {{"id", deleted.id},
          {"deleted", true},
          {"blobs_deleted", deleted.blobs_deleted},
          {"original_kept", deleted.original_kept}};
}

nlohmann::json AssetListJson(const AssetList& list) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& asset : list.items) items.push_back(AssetJson(asset));
  return PageJson(std::move(items), list.next_cursor, list.empty);
}

Result<catalog::AssetFilter> AssetsService::Filter(const Caller& caller,
                                                   const backfill::Selection& selection) const {
  auto scope = caller.Scope(selection.owner);
  if (!scope) return Fail(scope.error());
  backfill::Selection scoped = selection;
  scoped.owner = scope->owner;
  return scoped.ToFilter();
}

Result<std::vector<backfill::EmptyCause>> AssetsService::Explain(
    const Caller& caller, const backfill::Selection& selection) {
  return backfill::ExplainEmptySelection(catalog_, selection, caller.admin ? "" : caller.owner);
}

Result<AssetList> AssetsService::List(const Caller& caller, const backfill::Selection& selection,
                                      const catalog::PageRequest& page) {
  if (page.limit < 1 || page.limit > 1000) {
    return Fail(ErrorCode::kInvalidArgument,
                "limit must lie in 1..1000, got " + std::to_string(page.limit));
  }
  auto filter = Filter(caller, selection);
  if (!filter) return Fail(filter.error());
  auto batch = catalog_.ListAssets(*filter, page);
  if (!batch) return Fail(batch.error());
  AssetList list{std::move(batch->items), std::move(batch->next_cursor), {}};
  if (list.items.empty() && page.cursor.empty()) {
    auto explained = Explain(caller, selection);
    if (!explained) return Fail(explained.error());
    list.empty = std::move(*explained);
  }
  return list;
}

Result<AssetScan> AssetsService::Scan(const Caller& caller, const backfill::Selection& selection,
                                      int64_t limit,
                                      const std::function<void(const catalog::Asset&)>& visit) {
  auto filter = Filter(caller, selection);
  if (!filter) return Fail(filter.error());
  AssetScan scan;
  catalog::PageRequest page;
  page.limit = kScanPage;
  do {
    if (limit > 0) page.limit = static_cast<int>(std::min<int64_t>(kScanPage, limit - scan.shown));
    auto batch = catalog_.ListAssets(*filter, page);
    if (!batch) return Fail(batch.error());
    for (const auto& asset : batch->items) {
      visit(asset);
      ++scan.shown;
    }
    page.cursor = batch->next_cursor;
  } while (!page.cursor.empty() && (limit == 0 || scan.shown < limit));
  if (scan.shown == 0) {
    auto explained = Explain(caller, selection);
    if (!explained) return Fail(explained.error());
    scan.empty = std::move(*explained);
  }
  return scan;
}

Result<AssetDetail> AssetsService::Show(const Caller& caller, const std::string& id,
                                        const std::optional<std::string>& only_owner,
                                        const SignUrl& sign) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  auto asset = catalog_.GetAsset(id, *scope);
  if (!asset) return Fail(asset.error());
  auto json = AssetDetailJson(catalog_, registry_, *asset, sign);
  if (!json) return Fail(json.error());
  return AssetDetail{std::move(*asset), std::move(*json)};
}

Result<AssetsService::DocumentText> AssetsService::ShowText(const Caller& caller,
                                                            const std::string& id,
                                                            const SignUrl& sign, int64_t expires) {
  auto scope = caller.Scope();
  if (!scope) return Fail(scope.error());
  auto asset = catalog_.GetAsset(id, *scope);
  if (!asset) return Fail(asset.error());
  const DocumentCache::Stamp stamp{asset->revision, expires};
  if (auto text = documents_.Find(asset->id, stamp)) return DocumentText{std::move(text), stamp};
  // Built from reads made after the revision was read: if anything changed meanwhile, the
  // revision has moved on and no later request matches this entry.
  auto json = AssetDetailJson(catalog_, registry_, *asset, sign);
  if (!json) return Fail(json.error());
  auto text = std::make_shared<const std::string>(JsonText(*json));
  documents_.Store(asset->id, stamp, text);
  return DocumentText{std::move(text), stamp};
}

Result<nlohmann::json> AssetsService::ShowDerivative(const Caller& caller, const std::string& id,
                                                     const std::string& stage,
                                                     const SignUrl& sign) {
  if (!registry_.Find(stage)) {
    return Fail(ErrorCode::kNotFound, "no stage named '" + stage + "' is registered");
  }
  auto detail = Show(caller, id, std::nullopt, sign);
  if (!detail) return Fail(detail.error());
  for (auto& entry : detail->json["derivatives"]) {
    if (entry["stage"] == stage) return std::move(entry);
  }
  return Fail(ErrorCode::kNotFound, "asset " + id + " has no stage '" + stage + "'");
}

Result<DeletedAsset> AssetsService::Delete(const Caller& caller, const std::string& id,
                                           const std::optional<std::string>& only_owner) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  auto asset = catalog_.GetAsset(id, *scope);
  if (!asset) return Fail(asset.error());
  auto shared = catalog_.DeleteAsset(id, *scope);
  if (!shared) return Fail(shared.error());
  documents_.Forget(id);

  // The record is gone: its files are unreachable now, so remove them.
  DeletedAsset deleted{id, 0, *shared};
  std::vector<std::string> keys;
  REPRISE_TRY(blobs_.List("assets/" + id + "/", [&](const blob::BlobInfo& info) {
    keys.push_back(info.key);
    return true;
  }));
  if (!deleted.original_kept && !asset->original_key.empty()) keys.push_back(asset->original_key);
  for (const auto& key : keys) {
    if (auto removed = blobs_.Delete(key); !removed) {
      return Fail(removed.error().Wrap("asset " + id + " is deleted but blob " + key + " is not"));
    }
    ++deleted.blobs_deleted;
  }
  log_->info("deleted asset {} ({} blob(s)) for {}", id, deleted.blobs_deleted, caller.token_name);
  return deleted;
}

}  // namespace reprise::services
