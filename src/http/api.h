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

// GET    /api/v1/tokens       admin: every token, as `reprise tokens list --json`
// POST   /api/v1/tokens       admin: {owner?, admin?, name?} -> 201, the token's view plus
//                             "token" (shown this once; Cache-Control: no-store)
// DELETE /api/v1/tokens/{id}  admin: revokes it -> 200 its view; 404 for an unknown id
void AddTokenRoutes(Router& router, ApiContext& context);

}  // namespace reprise::http
