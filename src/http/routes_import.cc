// URL imports and seed 004's media API (see services/import_service.h and
// services/media_service.h for the rules; this file parses, calls one service function
// and renders).
#include <httplib.h>

#include <charconv>
#include <string>

#include "http/api.h"
#include "http/json_body.h"

namespace reprise::http {
namespace {

Result<int> LimitParam(const RouteRequest& request) {
  auto text = request.Query("limit");
  if (!text) return 100;
  int limit = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (ec != std::errc() || end != text->data() + text->size() || limit < 1 || limit > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "limit must be a whole number from 1 to 1000");
  }
  return limit;
}

// The answer's signer; a signer that cannot sign reports it on its first URL.
services::SignBlobUrl Signer(const ApiContext& context) {
  auto signing = SignForAnswer(context);
  if (!signing) {
    return
        [error = signing.error()](std::string_view) -> Result<std::string> { return Fail(error); };
  }
  return std::move(signing->sign);
}

Result<void> ImportFromUrl(ApiContext& context, RouteRequest& request,
                           httplib::Response& response) {
  auto body = ParseJsonBody(request.body);
  if (!body) return Fail(body.error());
  auto fields = JsonFields::Of(*body, {"url", "name", "kind", "metadata", "parent_id", "owner"});
  if (!fields) return Fail(fields.error());
  services::ImportRequest import_request;
  auto url = fields->String("url");
  if (!url) return Fail(url.error());
  if (!*url) return Fail(ErrorCode::kInvalidArgument, "url is required");
  import_request.url = **url;
  auto name = fields->String("name");
  auto kind = fields->String("kind");
  auto metadata = fields->Object("metadata");
  auto parent = fields->String("parent_id");
  auto owner = fields->String("owner");
  if (!name) return Fail(name.error());
  if (!kind) return Fail(kind.error());
  if (!metadata) return Fail(metadata.error());
  if (!parent) return Fail(parent.error());
  if (!owner) return Fail(owner.error());
  import_request.name = *name;
  import_request.kind = *kind;
  import_request.metadata = metadata->value_or(nlohmann::json::object());
  import_request.parent_id = *parent;
  import_request.owner = *owner;
  auto import = context.app.imports().Request(request.caller, import_request);
  if (!import) return Fail(import.error());
  response.set_header("Location", "/api/v1/imports/" + import->id);
  SendJson(response, 202,
           {{"id", import->id},
            {"asset_id", import->id},
            {"import_job_id", import->id},
            {"status", "importing"},
            {"import", services::ImportJson(*import)}});
  return {};
}

Result<void> MediaImportFromUrl(ApiContext& context, RouteRequest& request,
                                httplib::Response& response) {
  auto body = ParseJsonBody(request.body);
  if (!body) return Fail(body.error());
  auto fields = JsonFields::Of(*body, {"url", "name", "type", "metadata"});
  if (!fields) return Fail(fields.error());
  auto url = fields->String("url");
  auto name = fields->String("name");
  auto type = fields->String("type");
  auto metadata = fields->Object("metadata");
  if (!url) return Fail(url.error());
  if (!*url) return Fail(ErrorCode::kInvalidArgument, "url is required");
  if (!name) return Fail(name.error());
  if (!type) return Fail(type.error());
  if (!metadata) return Fail(metadata.error());
  services::MediaImportRequest media_request{**url, *name, *type,
                                             metadata->value_or(nlohmann::json::object())};
  auto answer = context.app.media().ImportFromUrl(request.caller, media_request);
  if (!answer) return Fail(answer.error());
  response.set_header("Location", "/api/v1/media/" + (*answer)["asset_id"].get<std::string>());
  SendJson(response, 202, *answer);
  return {};
}

// GET /api/v1/assets/{id} for an import id (docs/adr/0003-import-ids.md): the real
// asset's document once the download made one, the import's asset-shaped document until
// then; nullopt ("no such asset") for ids that are no import of this caller.
Result<std::optional<nlohmann::json>> ImportAsAsset(ApiContext& context,
                                                    const services::Caller& caller,
                                                    const std::string& id) {
  if (!services::LooksLikeImportId(id)) return std::nullopt;
  auto resolved = context.app.imports().Resolve(caller, id);
  if (!resolved && resolved.error().code == ErrorCode::kNotFound) return std::nullopt;
  if (!resolved) return Fail(resolved.error());
  if (!resolved->asset) return services::ImportService::PendingAssetJson(resolved->import);
  auto detail =
      context.app.assets().Show(caller, resolved->asset->id, std::nullopt, Signer(context));
  if (!detail) return Fail(detail.error());
  return std::move(detail->json);
}

}  // namespace

void AddImportRoutes(Router& router, ApiContext& context) {
  context.import_status = [&context](const services::Caller& caller, const std::string& id) {
    return ImportAsAsset(context, caller, id);
  };
  router.Add("POST", "/api/v1/assets/import-from-url",
             [&context](RouteRequest& request, httplib::Response& response) {
               return ImportFromUrl(context, request, response);
             });
  router.Add("GET", "/api/v1/imports/{id}",
             [&context](RouteRequest& request, httplib::Response& response) -> Result<void> {
               auto import = context.app.imports().Get(request.caller, request.Param("id"));
               if (!import) return Fail(import.error());
               SendJson(response, 200, services::ImportJson(*import));
               return {};
             });
}

void AddMediaRoutes(Router& router, ApiContext& context) {
  router.Add("POST", "/api/v1/media/import-from-url",
             [&context](RouteRequest& request, httplib::Response& response) {
               return MediaImportFromUrl(context, request, response);
             });
  auto list = [&context](RouteRequest& request, httplib::Response& response) -> Result<void> {
    auto limit = LimitParam(request);
    if (!limit) return Fail(limit.error());
    catalog::PageRequest page{request.Query("cursor").value_or(""), *limit};
    auto listed = context.app.media().List(request.caller, page, Signer(context));
    if (!listed) return Fail(listed.error());
    SendJson(response, 200, *listed);
    return {};
  };
  router.Add("GET", "/api/v1/media/", list);
  router.Add("GET", "/api/v1/media", list);
  router.Add("GET", "/api/v1/media/{id}",
             [&context](RouteRequest& request, httplib::Response& response) -> Result<void> {
               auto doc =
                   context.app.media().Get(request.caller, request.Param("id"), Signer(context));
               if (!doc) return Fail(doc.error());
               SendJson(response, 200, *doc);
               return {};
             });
}

void AddIncomingWebhookRoutes(Router& router, ApiContext& context) {
  router.Add(
      "POST", "/api/v1/webhooks/{source}",
      [&context](RouteRequest& request, httplib::Response& response) -> Result<void> {
        std::string id = request.Header(kWebhookIdHeader).value_or("");
        std::string timestamp = request.Header(kWebhookTimestampHeader).value_or("");
        std::string signature = request.Header(kWebhookSignatureHeader).value_or("");
        auto receipt = context.app.webhooks().Receive(request.Param("source"),
                                                      {id, timestamp, signature}, request.body);
        if (!receipt && receipt.error().code == ErrorCode::kPermissionDenied) {
          // No credentials that hold: 401, as for a bad bearer token.
          SendError(response, receipt.error());
          response.status = 401;
          return {};
        }
        if (!receipt) return Fail(receipt.error());
        SendJson(response, 200, services::WebhookReceiver::ReceiptJson(*receipt));
        return {};
      },
      Access::kPublic);
}

}  // namespace reprise::http
