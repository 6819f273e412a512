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
// GET /api/v1/openapi.json  the OpenAPI document (http/openapi.h), public
void AddOpenApiRoutes(Router& router, ApiContext& context);

// POST /api/v1/backfills            the options of `reprise backfill` as JSON; dry_run
//                                    answers the plan (200), else 202 + Location
// GET  /api/v1/backfills             `backfill list --json` (?limit, ?cursor, ?owner);
//                                    the next page in Link / X-Next-Cursor
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

}  // namespace reprise::http
