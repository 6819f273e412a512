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

}  // namespace reprise::http
