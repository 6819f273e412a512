// The routes of `reprise serve`: the /api/v1 surface, the blob URLs and the service
// endpoints, each group in its own routes_*.cc file over the services of the App, all
// mounted on one Router by AddApiRoutes.
#pragma once

#include <memory>

#include "app/app.h"
#include "http/blob_url_signer.h"
#include "http/router.h"

namespace reprise::http {

struct ApiContext {
  app::App& app;
  std::unique_ptr<BlobUrlSigner> signer;  // signs the blob URLs the API hands out
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
