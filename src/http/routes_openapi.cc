#include <httplib.h>

#include "http/api.h"
#include "http/openapi.h"

namespace reprise::http {

void AddOpenApiRoutes(Router& router, ApiContext&) {
  router.Add(
      "GET", "/api/v1/openapi.json",
      [](RouteRequest&, httplib::Response& response) -> Result<void> {
        response.status = 200;
        response.set_content(std::string(OpenApiDocument()), "application/json");
        return {};
      },
      Access::kPublic);
}

}  // namespace reprise::http
