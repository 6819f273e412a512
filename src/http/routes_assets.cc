// GET /api/v1/assets, GET|DELETE /api/v1/assets/{id},
// GET /api/v1/assets/{id}/derivatives/{stage}, GET /api/v1/duplicates, GET /api/v1/search:
// thin adapters over services::AssetsService, DuplicatesService and SearchService (parse,
// call one function, answer its view).
#include <algorithm>

#include <httplib.h>

#include "http/api.h"
#include "http/conditional.h"
#include "http/query_params.h"

namespace reprise::http {
namespace {

constexpr int64_t kDefaultPage = 100;
constexpr int64_t kMaxPage = 1000;

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

// GET /api/v1/assets/{id}: the document as the service keeps it (built once per asset
// revision and signing step, then sent as stored text), with an entity tag naming that
// pair so a client polling with If-None-Match gets 304 until something changes; an id
// that names no asset yet may be a URL import still downloading.
Result<void> ShowAsset(ApiContext& context, RouteRequest& request, httplib::Response& response) {
  REPRISE_TRY(QueryParams::Of(request, {}));
  const std::string& id = request.Param("id");
  auto signing = SignForAnswer(context);
  if (!signing) return Fail(signing.error());
  auto document =
      context.app.assets().ShowText(request.caller, id, signing->sign, signing->expires);
  if (!document && document.error().code == ErrorCode::kNotFound && context.import_status) {
    auto import = context.import_status(request.caller, id);
    if (!import) return Fail(import.error());
    if (*import) {
      SendJson(response, 200, **import);
      return {};
    }
  }
  if (!document) return Fail(document.error());
  const std::string etag = "\"" + std::to_string(document->stamp.revision) + "-" +
                           std::to_string(document->stamp.expires) + "\"";
  response.set_header("ETag", etag);
  response.set_header("Cache-Control", "private, no-cache");
  if (NoneMatchHits(request.Header("If-None-Match").value_or(""), etag)) {
    response.status = 304;
    return {};
  }
  response.status = 200;
  response.set_content(*document->text, "application/json");
  return {};
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

// ?q (required), kind (comma-separated entry kinds), limit, cursor, owner (admins).
Result<nlohmann::json> Search(ApiContext& context, RouteRequest& request,
                              const QueryParams& query) {
  catalog::SearchQuery search;
  search.text = query.String("q").value_or("");
  if (search.text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "query parameter 'q': a search needs words");
  }
  if (auto kinds = query.String("kind")) {
    for (size_t from = 0; from <= kinds->size();) {
      size_t comma = std::min(kinds->find(',', from), kinds->size());
      search.kinds.push_back(kinds->substr(from, comma - from));
      from = comma + 1;
    }
  }
  auto limit = query.Int("limit", 1, catalog::kSearchMaxLimit);
  if (!limit) return Fail(limit.error());
  search.limit = static_cast<int>(limit->value_or(catalog::kSearchDefaultLimit));
  search.cursor = query.String("cursor").value_or("");
  backfill::Selection selection;
  selection.owner = query.String("owner");
  auto page = context.app.search().Search(request.caller, selection, search);
  if (!page) return Fail(QueryError(page.error()));
  return services::SearchPageJson(search.text, *page);
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
             [&context](RouteRequest& request, httplib::Response& response) {
               return ShowAsset(context, request, response);
             });
  router.Add(
      "GET", "/api/v1/assets/{id}/derivatives/{stage}",
      JsonHandler({},
                  [&context](RouteRequest& request, const QueryParams&) -> Result<nlohmann::json> {
                    auto signing = SignForAnswer(context);
                    if (!signing) return Fail(signing.error());
                    return context.app.assets().ShowDerivative(
                        request.caller, request.Param("id"), request.Param("stage"), signing->sign);
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
  router.Add("GET", "/api/v1/search",
             JsonHandler({"q", "kind", "limit", "cursor", "owner"},
                         [&context](RouteRequest& request, const QueryParams& query) {
                           return Search(context, request, query);
                         }));
}

}  // namespace reprise::http
