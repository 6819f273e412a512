// Seed 001's endpoint, verbatim: POST /api/v1/samples/reprocess. Its team reprocessed
// every sample through the whole pipeline from a script or a curl; here that is a
// backfill of every stage in mode "all" (current results rebuilt), run in the background
// by the workers of `serve`, answered at once with the seed's {message, total_samples,
// status}. Their statuses map onto reprise's: completed is ready. broken_links_only
// needs link checking, which reprise does not have yet: 501 says so.
#include <httplib.h>

#include <string>

#include "http/api.h"
#include "http/json_body.h"
#include "services/backfills.h"

namespace reprise::http {
namespace {

// The seed's sample statuses and reprise's asset statuses (either is accepted).
Result<std::string> AssetStatusFor(const std::string& filter_status) {
  if (filter_status == "completed" || filter_status == "ready") return std::string("ready");
  if (filter_status == "pending" || filter_status == "processing" || filter_status == "failed") {
    return filter_status;
  }
  return Fail(ErrorCode::kInvalidArgument,
              "field 'filter_status' is one of pending, processing, completed, failed; not '" +
                  filter_status + "'");
}

struct ReprocessRequest {
  services::BackfillSpec spec;
  bool dry_run = false;
  bool broken_links_only = false;
};

Result<ReprocessRequest> ReprocessRequestFrom(const std::string& raw) {
  auto body = ParseJsonBody(raw);
  if (!body) return Fail(std::move(body.error()));
  auto fields = JsonFields::Of(
      *body, {"filter_status", "limit", "skip_reset", "dry_run", "broken_links_only"});
  if (!fields) return Fail(std::move(fields.error()));
  ReprocessRequest request;
  request.spec.filter_names = &backfill::kFieldNames;
  request.spec.all_stages = true;
  request.spec.mode = catalog::BackfillMode::kAll;
  auto status = fields->String("filter_status");
  if (!status) return Fail(std::move(status.error()));
  if (*status) {
    auto mapped = AssetStatusFor(**status);
    if (!mapped) return Fail(std::move(mapped.error()));
    request.spec.selection.status = *mapped;
  }
  auto limit = fields->Int("limit");
  if (!limit) return Fail(std::move(limit.error()));
  if (*limit) {
    if (**limit < 1) {
      return Fail(ErrorCode::kInvalidArgument, "field 'limit' must be a positive number");
    }
    request.spec.limit = **limit;
  }
  for (auto [name, out] :
       {std::pair{"skip_reset", &request.spec.skip_reset}, std::pair{"dry_run", &request.dry_run},
        std::pair{"broken_links_only", &request.broken_links_only}}) {
    auto value = fields->Bool(name);
    if (!value) return Fail(std::move(value.error()));
    *out = value->value_or(false);
  }
  return request;
}

}  // namespace

void AddReprocessRoutes(Router& router, ApiContext& context) {
  router.Add("POST", "/api/v1/samples/reprocess",
             [&backfills = context.app.backfill_service()](
                 RouteRequest& request, httplib::Response& response) -> Result<void> {
               auto reprocess = ReprocessRequestFrom(request.body);
               if (!reprocess) return Fail(std::move(reprocess.error()));
               if (reprocess->broken_links_only) {
                 SendJson(
                     response, 501,
                     {{"error",
                       {{"code", "not_implemented"},
                        {"message",
                         "broken_links_only is not supported yet: reprise does not check links "
                         "yet; reprocess without it (every sample, or filter_status)"},
                        {"details", {{"field", "broken_links_only"}}}}}});
                 return {};
               }
               auto plan = backfills.Plan(request.caller, reprocess->spec);
               if (!plan) return Fail(std::move(plan.error()));
               const int64_t samples = plan->report.assets_selected;
               if (reprocess->dry_run) {
                 SendJson(response, 200,
                          {{"message", "Dry run: would reprocess " + std::to_string(samples) +
                                           " samples. Nothing was changed."},
                           {"total_samples", samples},
                           {"status", "dry_run"}});
                 return {};
               }
               if (plan->report.items == 0) {
                 SendJson(response, 200,
                          {{"message", "No samples to reprocess."},
                           {"total_samples", 0},
                           {"status", "completed"}});
                 return {};
               }
               auto started = backfills.Start(request.caller, *plan);
               if (!started) return Fail(std::move(started.error()));
               // Beyond the seed: where to watch it (GET /api/v1/backfills/{id}).
               response.set_header("Location", "/api/v1/backfills/" + std::to_string(started->id));
               SendJson(response, 200,
                        {{"message", "Started reprocessing " + std::to_string(samples) +
                                         " samples in the background. Check logs for progress."},
                         {"total_samples", samples},
                         {"status", "started"}});
               return {};
             });
}

}  // namespace reprise::http
