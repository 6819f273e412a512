// GET /api/v1/jobs, GET /api/v1/jobs/{id}, POST /api/v1/jobs/{id}/retry|cancel,
// POST /api/v1/jobs/retry (by filter), GET /api/v1/queue, GET /api/v1/stages: thin
// adapters over services::JobsService, QueueService and StagesService.
#include <httplib.h>

#include "http/api.h"
#include "http/json_body.h"
#include "http/query_params.h"
#include "services/views.h"

namespace reprise::http {
namespace {

constexpr int64_t kDefaultPage = 100;
constexpr int64_t kMaxPage = 1000;

Result<nlohmann::json> ListJobs(ApiContext& context, RouteRequest& request,
                                const QueryParams& query) {
  auto limit = query.Int("limit", 1, kMaxPage);
  if (!limit) return Fail(limit.error());
  services::JobQuery filter{query.String("state"), query.String("stage"), query.String("asset"),
                            query.String("owner")};
  auto list = context.app.jobs().List(request.caller, filter, query.String("cursor").value_or(""),
                                      limit->value_or(kDefaultPage));
  if (!list) return Fail(QueryError(list.error()));
  return services::JobListJson(*list);
}

// POST /api/v1/jobs/retry {"stage"?, "owner"?}: every failed job matching, as
// `reprise jobs retry --failed [--stage S] [--owner O]`. An empty body means no filter.
Result<nlohmann::json> RetryFailed(ApiContext& context, RouteRequest& request) {
  services::RetryQuery query;
  if (request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    auto body = ParseJsonBody(request.body);
    if (!body) return Fail(body.error());
    auto fields = JsonFields::Of(*body, {"stage", "owner"});
    if (!fields) return Fail(fields.error());
    auto stage = fields->String("stage");
    if (!stage) return Fail(stage.error());
    auto owner = fields->String("owner");
    if (!owner) return Fail(owner.error());
    query.stage = *stage;
    query.owner = *owner;
  }
  auto retried = context.app.jobs().RetryFailed(request.caller, query);
  if (!retried) return Fail(retried.error());
  return services::RetriedJson(*retried);
}

// A route on the job named by the path's {id}: `act` answers with its document.
using JobAction = std::function<Result<nlohmann::json>(services::JobsService&,
                                                       const services::Caller&, int64_t id)>;
Handler OnJob(ApiContext& context, JobAction act) {
  return JsonHandler({},
                     [&context, act = std::move(act)](
                         RouteRequest& request, const QueryParams&) -> Result<nlohmann::json> {
                       auto id = PathId(request.Param("id"), "job id");
                       if (!id) return Fail(id.error());
                       return act(context.app.jobs(), request.caller, *id);
                     });
}

}  // namespace

void AddJobRoutes(Router& router, ApiContext& context) {
  router.Add("GET", "/api/v1/jobs",
             JsonHandler({"state", "stage", "asset", "owner", "cursor", "limit"},
                         [&context](RouteRequest& request, const QueryParams& query) {
                           return ListJobs(context, request, query);
                         }));
  router.Add("GET", "/api/v1/jobs/{id}",
             OnJob(context,
                   [](services::JobsService& jobs, const services::Caller& caller,
                      int64_t id) -> Result<nlohmann::json> {
                     auto job = jobs.Get(caller, id);
                     if (!job) return Fail(job.error());
                     return services::JobJson(*job);
                   }));
  router.Add("POST", "/api/v1/jobs/retry",
             JsonHandler({}, [&context](RouteRequest& request, const QueryParams&) {
               return RetryFailed(context, request);
             }));
  router.Add("POST", "/api/v1/jobs/{id}/retry",
             OnJob(context,
                   [](services::JobsService& jobs, const services::Caller& caller,
                      int64_t id) -> Result<nlohmann::json> {
                     auto retried = jobs.Retry(caller, id);
                     if (!retried) return Fail(retried.error());
                     return services::RetriedJson(*retried);
                   }));
  router.Add("POST", "/api/v1/jobs/{id}/cancel",
             OnJob(context,
                   [](services::JobsService& jobs, const services::Caller& caller,
                      int64_t id) -> Result<nlohmann::json> {
                     auto state = jobs.Cancel(caller, id);
                     if (!state) return Fail(state.error());
                     return services::CancelledJson(id, *state);
                   }));
  router.Add(
      "GET", "/api/v1/queue",
      JsonHandler(
          {"owner"},
          [&context](RouteRequest& request, const QueryParams& query) -> Result<nlohmann::json> {
            auto view = context.app.queue().Get(request.caller, query.String("owner"));
            if (!view) return Fail(view.error());
            return services::QueueJson(*view);
          }));
  router.Add("GET", "/api/v1/stages",
             JsonHandler({"owner"}, [&context](RouteRequest& request, const QueryParams& query) {
               return context.app.stages().List(request.caller, query.String("owner"));
             }));
}

}  // namespace reprise::http
