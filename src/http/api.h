// The routes of `reprise serve`: the /api/v1 surface, the blob URLs and the service
// endpoints, each group in its own routes_*.cc file over the services of the App, all
// mounted on one Router by AddApiRoutes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "app/app.h"
#include "http/blob_url_signer.h"
#include "http/router.h"

namespace reprise::http {

// Seam for URL imports: GET /api/v1/assets/{id} answers for an import id too. When the
// id names no asset the route asks this (when set): a JSON document answers the request
// (the import's state, 200), nullopt means "no such import either" (404), an error is
// answered as such. Scoping is the function's: another owner's import is nullopt.
using ImportStatus = std::function<Result<std::optional<nlohmann::json>>(
    const services::Caller& caller, const std::string& id)>;

struct ApiContext {
  app::App& app;
  std::unique_ptr<BlobUrlSigner> signer;  // signs the blob URLs the API hands out
  ImportStatus import_status = {};        // set by the URL import routes; empty: none
};

// The context of `app`'s API: the URL secret from server.url_secret, else from
// DATA_DIR/url-secret, which is created (mode 0600, 32 random bytes as hex) when
// missing. kInvalidArgument for a configured secret under 32 bytes; kIo when the file
// cannot be read or written.
[[nodiscard]] Result<ApiContext> MakeApiContext(app::App& app);

// Every route group below.
void AddApiRoutes(Router& router, ApiContext& context);

// GET /healthz  200 {"status":"ok"} while the process serves requests (liveness)
// GET /readyz   200 {"status":"ready","catalog":..,"blob_store":..} when the catalog
//               answers and the blob store can be written and read back; otherwise 503
//               naming the component in details.component
void AddHealthRoutes(Router& router, ApiContext& context);
// GET /api/v1/openapi.json  the OpenAPI document (http/openapi.h), public
void AddOpenApiRoutes(Router& router, ApiContext& context);

// GET    /api/v1/tokens       admin: every token, as `reprise tokens list --json`
// POST   /api/v1/tokens       admin: {owner?, admin?, name?} -> 201, the token's view plus
//                             "token" (shown this once; Cache-Control: no-store)
// DELETE /api/v1/tokens/{id}  admin: revokes it -> 200 its view; 404 for an unknown id
void AddTokenRoutes(Router& router, ApiContext& context);

// GET    /api/v1/assets         ?status&kind&source&owner&created_after&created_before&where
//                               &cursor&limit (1..1000, default 100): {items, next_cursor,
//                               empty_selection?} of the `assets list --json` view
// GET    /api/v1/assets/{id}    the `assets show --json` document, each file with a signed url
// GET    /api/v1/assets/{id}/derivatives/{stage}   one entry of its "derivatives"
// DELETE /api/v1/assets/{id}    the asset and its files (409 while a job of it runs)
// GET    /api/v1/duplicates     ?owner&threshold: `assets duplicates --json`
void AddAssetRoutes(Router& router, ApiContext& context);

// GET  /api/v1/jobs             ?state&stage&asset&owner&cursor&limit: {items, next_cursor}
// GET  /api/v1/jobs/{id}        one job (the `jobs list --json` item)
// POST /api/v1/jobs/{id}/retry  a failed or cancelled job (409 otherwise): {retried}
// POST /api/v1/jobs/{id}/cancel {id, state}
// POST /api/v1/jobs/retry       {"stage"?, "owner"?}: every failed job matching: {retried}
// GET  /api/v1/queue            ?owner: `queue --json`
// GET  /api/v1/stages           ?owner: `stages --json`
void AddJobRoutes(Router& router, ApiContext& context);

// GET /api/v1/events  the caller's events (admin: all): server-sent events by default
//     (`id:`, `event:`, `data:` JSON; resumes after Last-Event-ID or ?last_event_id=;
//     a heartbeat comment after server.event_heartbeat_seconds of silence), or with
//     ?format=json a page {"events", "last_id"} after ?after= (limit 1..1000);
//     ?types=a,b filters; an admin may add ?owner= (JSON only)
void AddEventRoutes(Router& router, ApiContext& context);

// POST   /api/v1/webhooks/subscriptions  {url, events, secret?, owner?, description?}
//        -> 201 with the secret, shown this once
// GET    /api/v1/webhooks/subscriptions, /api/v1/webhooks/subscriptions/{id}
// DELETE /api/v1/webhooks/subscriptions/{id} -> 204
// GET    /api/v1/webhooks/subscriptions/{id}/deliveries?limit=  the delivery log
// Owner-scoped: another owner's subscription answers 404.
void AddWebhookRoutes(Router& router, ApiContext& context);

}  // namespace reprise::http
