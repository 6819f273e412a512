#include <httplib.h>

#include "http/api.h"

namespace reprise::http {

void AddMetricsRoutes(Router& router, ApiContext& context) {
  metrics::Metrics& metrics = context.app.metrics();
  router.SetObserver([&metrics](const RouteInfo& route, int status, double seconds) {
    metrics.ObserveRequest(route.method, route.pattern, status, seconds);
  });
  router.Add(
      "GET", "/metrics",
      [&metrics](RouteRequest&, httplib::Response& response) -> Result<void> {
        response.status = 200;
        response.set_content(metrics.Scrape(), std::string(metrics::Metrics::kContentType));
        return {};
      },
      Access::kPublic);
}

}  // namespace reprise::http
