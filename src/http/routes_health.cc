#include <httplib.h>

#include "http/api.h"

namespace reprise::http {

void AddHealthRoutes(Router& router, ApiContext& context) {
  router.Add(
      "GET", "/healthz",
      [](RouteRequest&, httplib::Response& response) -> Result<void> {
        SendJson(response, 200, {{"status", "ok"}});
        return {};
      },
      Access::kPublic);

  router.Add(
      "GET", "/readyz",
      [&app = context.app](RouteRequest&, httplib::Response& response) -> Result<void> {
        auto version = app.catalog().SchemaVersion();
        if (!version) {
          SendError(response, version.error().Wrap("catalog " + app.catalog().Describe()),
                    {{"component", "catalog"}});
          response.status = 503;
          return {};
        }
        if (auto probed = blob::CheckReadWrite(app.blobs(), "health/readyz"); !probed) {
          SendError(response, probed.error().Wrap("blob store " + app.blobs().Describe()),
                    {{"component", "blob_store"}});
          response.status = 503;
          return {};
        }
        SendJson(
            response, 200,
            {{"status", "ready"},
             {"catalog", {{"backend", app.catalog().Describe()}, {"schema_version", *version}}},
             {"blob_store", {{"backend", app.blobs().Describe()}}}});
        return {};
      },
      Access::kPublic);
}

}  // namespace reprise::http
