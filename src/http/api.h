// The routes of `reprise serve`: the /api/v1 surface, the blob URLs and the service
// endpoints, each group in its own routes_*.cc file over the services of the App, all
// mounted on one Router by AddApiRoutes.
#pragma once

#include <chrono>
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
  // How long handed-out blob URLs live at least (blob.url_expiry_seconds).
  std::chrono::seconds url_ttl = BlobUrlSigner::kDefaultTtl;
};

// The context of `app`'s API: the URL secret from server.url_secret, else from
// DATA_DIR/url-secret, which is created (mode 0600, 32 random bytes as hex) when
// missing. kInvalidArgument for a configured secret under 32 bytes; kIo when the file
// cannot be read or written.
[[nodiscard]] Result<ApiContext> MakeApiContext(app::App& app);

// How one answer signs its blob URLs: every URL in it expires at the signer's
// SharedExpiry for url_ttl (the same for a whole minute), so answers built within that
// step are byte for byte the same and a kept one (AssetsService::ShowText) stays true.
// When the blob store presigns (S3), the URL is its presigned GET, signed at
// `expires - url_ttl - kExpiryStep` (the start of the step, never after now) for
// url_ttl + kExpiryStep, so it too ends at `expires` and is the same all step long; a
// store that does not (fs) gets the server's own /blobs URL.
struct AnswerSigning {
  int64_t expires = 0;
  services::SignUrl sign;
};
[[nodiscard]] Result<AnswerSigning> SignForAnswer(const ApiContext& context);

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
// GET    /api/v1/search         ?q (required; 400 when blank)&kind (comma-separated)
//                               &limit (1..100, default 20)&cursor&owner: `search --json`
void AddAssetRoutes(Router& router, ApiContext& context);

// GET  /api/v1/jobs             ?state&stage&asset&owner&cursor&limit: {items, next_cursor}
// GET  /api/v1/jobs/{id}        one job (the `jobs list --json` item)
// POST /api/v1/jobs/{id}/retry  a failed or cancelled job (409 otherwise): {retried}
// POST /api/v1/jobs/{id}/cancel {id, state}
// POST /api/v1/jobs/retry       {"stage"?, "owner"?}: every failed job matching: {retried}
// GET  /api/v1/queue            ?owner: `queue --json`
// GET  /api/v1/stages           ?owner: `stages --json`
void AddJobRoutes(Router& router, ApiContext& context);
// POST /api/v1/backfills            the options of `reprise backfill` as JSON; dry_run
//                                    answers the plan (200), else 202 + Location
// GET  /api/v1/backfills             ?owner&cursor&limit (1..1000, default 100): {items,
//                                    next_cursor}, items as `backfill list --json`
// GET  /api/v1/backfills/{id}        `backfill status --json`
// GET  /api/v1/backfills/{id}/diff   `backfill diff --json`
// POST /api/v1/backfills/{id}/pause|resume|cancel   the backfill after the move (409
//                                    when its state does not allow it)
// POST /api/v1/rollbacks             `reprise rollback` as JSON (dry_run)
// POST /api/v1/process               enqueues what is due; 202 with the counts
void AddBackfillRoutes(Router& router, ApiContext& context);

// Seed 001's POST /api/v1/samples/reprocess: {filter_status, limit, skip_reset, dry_run,
// broken_links_only} -> {message, total_samples, status}, a backfill of every stage.
void AddReprocessRoutes(Router& router, ApiContext& context);

// POST /api/v1/assets/import-from-url {url, name?, kind?, metadata?, parent_id?, owner?}
//      202 + Location /api/v1/imports/{id}: {"id", "asset_id", "import_job_id" (all the
//      import id, docs/adr/0003-import-ids.md), "status": "importing", "import"}
// GET  /api/v1/imports/{id}   the import (services::ImportJson)
void AddImportRoutes(Router& router, ApiContext& context);

// Seed 004, verbatim (services/media_service.h): POST /api/v1/media/import-from-url,
// GET /api/v1/media/ (and without the slash), GET /api/v1/media/{id}.
void AddMediaRoutes(Router& router, ApiContext& context);

// POST /api/v1/webhooks/{source} (public; Standard Webhooks signature of the source's
// secret): 200 with the receipt; 401 for a missing or bad signature or an old timestamp
// (nothing stored); 404 for an unconfigured source (services/webhook_receiver.h).
void AddIncomingWebhookRoutes(Router& router, ApiContext& context);

// POST /api/v1/assets   an upload, read while it arrives (services/upload_service.h):
//   the body is the file itself (its name from ?name= or Content-Disposition) or
//   multipart/form-data with a `file` part and optional `name`, `kind`, `metadata` (JSON
//   object) and `parent_id` parts; raw bodies take those as query parameters, and
//   ?owner= names the owner (admins). 201 with the asset document (app::AssetDetailJson
//   plus "created": true), 200 with "created": false when the owner had the content
//   already; 413 payload_too_large past ingest.max_file_bytes (declared or as it
//   arrives), 415 for what is not media, 400 for a bad field or a body cut short.
void AddUploadRoutes(Router& router, ApiContext& context);

// GET|HEAD /blobs/{key...}?expires=&sig=   a blob by signed URL (no token): 400 for a
//   malformed URL, 403 for a wrong signature or an expired one, 404 for a missing blob.
//   Streamed from the blob store in 64 KiB pieces. One `Range` (http/byte_range.h): 206
//   with Content-Range, 416 when it selects nothing; several ranges or a malformed one
//   get the whole blob (a Range header httplib itself cannot parse is answered 416 by
//   httplib before the route runs). `ETag` (a digest of key and size: keys are never
//   rewritten with other bytes) and `If-None-Match` -> 304; Content-Type by the key's
//   extension (http/content_type.h); Accept-Ranges: bytes.
void AddBlobRoutes(Router& router, ApiContext& context);

// GET /metrics   the Prometheus text exposition of app.metrics() (metrics/metrics.h).
//   Public, like /healthz: it shows counts, route patterns, stage names and backfill
//   ids, never an asset id, an owner or a raw path, and scrapers usually hold no
//   token; keep it behind the network edge like the health checks. Also makes the
//   router report every request to the metrics.
void AddMetricsRoutes(Router& router, ApiContext& context);

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
