// GET /api/v1/assets, GET|DELETE /api/v1/assets/{id},
// GET /api/v1/assets/{id}/derivatives/{stage}, GET /api/v1/duplicates: thin adapters over
// services::AssetsService and DuplicatesService (parse, call one function, answer its view).
#include <httplib.h>

#include "http/api.h"
#include "http/query_params.h"

namespace reprise::http {
namespace {

constexpr int64_t kDefaultPage = 100;
constexpr int64_t kMaxPage = 1000;

services::SignUrl Signer(const ApiContext& context) {
  return [&signer = *context.signer](std::string_view key) { return signer.Sign(key); };
}

Result<nlohmann::json> ListAssets(ApiContext& context, RouteRequest& request,
                                  const QueryParams& query) {
  backfill::Selection selection;
  selection.status = query.String("status");
  selection.kind = query.String("kind");
  selection.source = query.String("source");
  selection.owner = query.String("owner");
  selection.created_after = query.String("created_after");
  selection.created_before = query.String("created_before");
  selection.where = query.String("where");
  auto limit = query.Int("limit", 1, kMaxPage);
  if (!limit) return Fail(limit.error());
  catalog::PageRequest page;
  page.cursor = query.String("cursor").value_or("");
  page.limit = static_cast<int>(limit->value_or(kDefaultPage));
  auto list = context.app.assets().List(request.caller, selection, page);
  if (!list) return Fail(QueryError(list.error()));
  return services::AssetListJson(*list);
}

Result<nlohmann::json> ShowAsset(ApiContext& context, RouteRequest& request) {
  const std::string& id = request.Param("id");
  auto detail = context.app.assets().Show(request.caller, id, std::nullopt, Signer(context));
  if (!detail && detail.error().code == ErrorCode::kNotFound && context.import_status) {
    // Not an asset (yet): perhaps a URL import still downloading.
    auto import = context.import_status(request.caller, id);
    if (!import) return Fail(import.error());
    if (*import) return std::move(**import);
  }
  if (!detail) return Fail(detail.error());
  return std::move(detail->json);
}

Result<nlohmann::json> Duplicates(ApiContext& context, RouteRequest& request,
                                  const QueryParams& query) {
  auto threshold = query.Number("threshold");
  if (!threshold) return Fail(threshold.error());
  auto report =
      context.app.duplicates().Find(request.caller, query.String("owner"),
                                    threshold->value_or(services::kDefaultDuplicateThreshold));
  if (!report && report.error().code == ErrorCode::kInvalidArgument) {
    return Fail(report.error().Wrap("query parameter 'threshold'"));
  }
  if (!report) return Fail(report.error());
  return services::DuplicatesJson(*report);
}

}  // namespace

void AddAssetRoutes(Router& router, ApiContext& context) {
  router.Add("GET", "/api/v1/assets",
             JsonHandler({"status", "kind", "source", "owner", "created_after", "created_before",
                          "where", "cursor", "limit"},
                         [&context](RouteRequest& request, const QueryParams& query) {
                           return ListAssets(context, request, query);
                         }));
  router.Add("GET", "/api/v1/assets/{id}",
             JsonHandler({}, [&context](RouteRequest& request, const QueryParams&) {
               return ShowAsset(context, request);
             }));
  router.Add("GET", "/api/v1/assets/{id}/derivatives/{stage}",
             JsonHandler({}, [&context](RouteRequest& request, const QueryParams&) {
               return context.app.assets().ShowDerivative(request.caller, request.Param("id"),
                                                          request.Param("stage"), Signer(context));
             }));
  router.Add(
      "DELETE", "/api/v1/assets/{id}",
      JsonHandler({},
                  [&context](RouteRequest& request, const QueryParams&) -> Result<nlohmann::json> {
                    auto deleted = context.app.assets().Delete(request.caller, request.Param("id"));
                    if (!deleted) return Fail(deleted.error());
                    return services::DeletedAssetJson(*deleted);
                  }));
  router.Add("GET", "/api/v1/duplicates",
             JsonHandler({"owner", "threshold"},
                         [&context](RouteRequest& request, const QueryParams& query) {
                           return Duplicates(context, request, query);
                         }));
}

}  // namespace reprise::http
