// /api/v1/backfills, /api/v1/rollbacks and /api/v1/process over services::Backfills and
// services::Process: each handler reads its body strictly (JsonFields), calls one service
// function with the request's caller and answers the view `reprise ... --json` prints.
#include <httplib.h>

#include <cstdint>
#include <string>

#include "http/api.h"
#include "http/json_body.h"
#include "http/query_params.h"
#include "services/backfills.h"
#include "services/process.h"
#include "services/views.h"

namespace reprise::http {
namespace {

constexpr int64_t kDefaultPage = 100;
constexpr int64_t kMaxPage = 1000;

// Reads one optional field into `out` (left alone when absent).
template <class T>
Result<void> Read(Result<std::optional<T>> field, T& out) {
  if (!field) return Fail(std::move(field.error()));
  if (*field) out = std::move(**field);
  return {};
}
template <class T>
Result<void> Read(Result<std::optional<T>> field, std::optional<T>& out) {
  if (!field) return Fail(std::move(field.error()));
  out = std::move(*field);
  return {};
}

Result<void> ReadSelection(const JsonFields& fields, backfill::Selection& selection,
                           std::optional<std::string>& owner) {
  REPRISE_TRY(Read(fields.String("owner"), owner));
  REPRISE_TRY(Read(fields.String("status"), selection.status));
  REPRISE_TRY(Read(fields.String("kind"), selection.kind));
  REPRISE_TRY(Read(fields.String("source"), selection.source));
  REPRISE_TRY(Read(fields.Strings("ids"), selection.ids));
  REPRISE_TRY(Read(fields.String("created_after"), selection.created_after));
  REPRISE_TRY(Read(fields.String("created_before"), selection.created_before));
  REPRISE_TRY(Read(fields.String("where"), selection.where));
  return {};
}

// An optional integer field within [least, most], into `out` when present.
template <class T>
Result<void> ReadInt(const JsonFields& fields, std::string_view name, int64_t least, int64_t most,
                     T& out) {
  auto value = fields.Int(name);
  if (!value) return Fail(std::move(value.error()));
  if (!*value) return {};
  if (**value < least || **value > most) {
    return Fail(ErrorCode::kInvalidArgument, "field '" + std::string(name) + "' must be from " +
                                                 std::to_string(least) + " to " +
                                                 std::to_string(most));
  }
  out = static_cast<T>(**value);
  return {};
}

// "rate": "5/s" as on the command line, or a number of starts per second.
Result<void> ReadRate(const JsonFields& fields, double& out) {
  auto rate = fields.Raw("rate");
  if (!rate || rate->is_null()) return {};
  if (!rate->is_string() && !rate->is_number()) {
    return Fail(ErrorCode::kInvalidArgument,
                "field 'rate' should be starts per second or minute (\"5/s\", \"300/m\") or a "
                "number of starts per second");
  }
  auto parsed = services::ParseRate(rate->is_string() ? rate->get<std::string>() : rate->dump(),
                                    "field 'rate'");
  if (!parsed) return Fail(std::move(parsed.error()));
  out = *parsed;
  return {};
}

// POST /api/v1/backfills: the options of `reprise backfill` as JSON.
Result<services::BackfillSpec> BackfillSpecFrom(const nlohmann::json& body, bool& dry_run) {
  auto fields = JsonFields::Of(
      body, {"stages",        "all_stages",     "mode",     "force",      "include_quarantined",
             "owner",         "status",         "kind",     "source",     "ids",
             "created_after", "created_before", "where",    "limit",      "concurrency",
             "rate",          "delay",          "priority", "skip_reset", "dry_run",
             "preview"});
  if (!fields) return Fail(std::move(fields.error()));
  services::BackfillSpec spec;
  spec.filter_names = &backfill::kFieldNames;
  REPRISE_TRY(Read(fields->Strings("stages"), spec.stages));
  REPRISE_TRY(Read(fields->Bool("all_stages"), spec.all_stages));
  std::optional<std::string> mode;
  REPRISE_TRY(Read(fields->String("mode"), mode));
  if (mode) {
    auto parsed = catalog::ParseBackfillMode(*mode);
    if (!parsed) return Fail(parsed.error().Wrap("field 'mode'"));
    spec.mode = *parsed;
  }
  bool force = false;
  REPRISE_TRY(Read(fields->Bool("force"), force));
  if (force) {
    if (mode && spec.mode != catalog::BackfillMode::kAll) {
      return Fail(ErrorCode::kInvalidArgument,
                  "field 'force' rebuilds everything selected (mode \"all\"); it cannot go with "
                  "mode \"" +
                      *mode + "\"");
    }
    spec.mode = catalog::BackfillMode::kAll;
  }
  REPRISE_TRY(Read(fields->Bool("include_quarantined"), spec.include_quarantined));
  REPRISE_TRY(ReadSelection(*fields, spec.selection, spec.owner));
  int64_t limit = 0;
  REPRISE_TRY(ReadInt(*fields, "limit", 1, INT64_MAX, limit));
  if (limit > 0) spec.limit = limit;
  REPRISE_TRY(ReadInt(*fields, "concurrency", 1, 1 << 20, spec.concurrency));
  REPRISE_TRY(ReadRate(*fields, spec.rate_per_second));
  REPRISE_TRY(Read(fields->Number("delay"), spec.delay_seconds));
  if (!(spec.delay_seconds >= 0 && spec.delay_seconds <= 86400)) {
    return Fail(ErrorCode::kInvalidArgument, "field 'delay' is seconds from 0 to 86400");
  }
  REPRISE_TRY(ReadInt(*fields, "priority", -1'000'000, 1'000'000, spec.priority));
  REPRISE_TRY(Read(fields->Bool("skip_reset"), spec.skip_reset));
  REPRISE_TRY(Read(fields->Bool("dry_run"), dry_run));
  REPRISE_TRY(ReadInt(*fields, "preview", 0, 1000, spec.preview));
  return spec;
}

Result<services::RollbackSpec> RollbackSpecFrom(const nlohmann::json& body) {
  auto fields =
      JsonFields::Of(body, {"stage", "to_recipe", "dry_run", "preview", "owner", "status", "kind",
                            "source", "ids", "created_after", "created_before", "where"});
  if (!fields) return Fail(std::move(fields.error()));
  services::RollbackSpec spec;
  spec.filter_names = &backfill::kFieldNames;
  REPRISE_TRY(Read(fields->String("stage"), spec.stage));
  if (spec.stage.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "field 'stage' names the stage to roll back");
  }
  REPRISE_TRY(Read(fields->String("to_recipe"), spec.to_recipe));
  REPRISE_TRY(Read(fields->Bool("dry_run"), spec.dry_run));
  REPRISE_TRY(ReadInt(*fields, "preview", 0, 1000, spec.preview));
  REPRISE_TRY(ReadSelection(*fields, spec.selection, spec.owner));
  return spec;
}

Result<services::ProcessSpec> ProcessSpecFrom(const std::string& raw) {
  services::ProcessSpec spec;
  if (raw.find_first_not_of(" \t\r\n") == std::string::npos) return spec;  // all defaults
  auto body = ParseJsonBody(raw);
  if (!body) return Fail(std::move(body.error()));
  auto fields = JsonFields::Of(*body, {"stages", "owner", "retry_failed"});
  if (!fields) return Fail(std::move(fields.error()));
  REPRISE_TRY(Read(fields->Strings("stages"), spec.stages));
  REPRISE_TRY(Read(fields->String("owner"), spec.owner));
  REPRISE_TRY(Read(fields->Bool("retry_failed"), spec.retry_failed));
  return spec;
}

// GET /api/v1/backfills: `backfill list --json`'s items, a page at a time.
Result<nlohmann::json> ListBackfills(services::Backfills& backfills, RouteRequest& request,
                                     const QueryParams& query) {
  auto limit = query.Int("limit", 1, kMaxPage);
  if (!limit) return Fail(std::move(limit.error()));
  catalog::PageRequest page;
  page.limit = static_cast<int>(limit->value_or(kDefaultPage));
  page.cursor = query.String("cursor").value_or("");
  auto listed = backfills.List(request.caller, query.String("owner"), page);
  if (!listed) return Fail(QueryError(std::move(listed.error())));
  return services::PageJson(services::StatusListJson(*listed), listed->next_cursor);
}

// A route on one backfill: {id} parsed, `call` made for the request's caller, its result
// answered as `view` shows it.
template <class Call, class View>
Handler OnBackfill(Call call, View view) {
  return JsonHandler(
      {}, [call, view](RouteRequest& request, const QueryParams&) -> Result<nlohmann::json> {
        auto id = PathId(request.Param("id"), "backfill id");
        if (!id) return Fail(std::move(id.error()));
        auto result = call(request.caller, *id);
        if (!result) return Fail(std::move(result.error()));
        return view(*result);
      });
}

}  // namespace

void AddBackfillRoutes(Router& router, ApiContext& context) {
  services::Backfills& backfills = context.app.backfill_service();
  services::Process& process = context.app.process_service();

  router.Add(
      "POST", "/api/v1/backfills",
      [&backfills](RouteRequest& request, httplib::Response& response) -> Result<void> {
        auto body = ParseJsonBody(request.body);
        if (!body) return Fail(std::move(body.error()));
        bool dry_run = false;
        auto spec = BackfillSpecFrom(*body, dry_run);
        if (!spec) return Fail(std::move(spec.error()));
        auto plan = backfills.Plan(request.caller, *spec);
        if (!plan) return Fail(std::move(plan.error()));
        if (dry_run) {
          SendJson(response, 200, services::PlanJson(*plan));
          return {};
        }
        if (plan->report.items == 0) {
          // As `backfill --yes --json` with nothing to do: no backfill, the plan.
          SendJson(response, 200, {{"backfill", nullptr}, {"plan", services::PlanJson(*plan)}});
          return {};
        }
        auto started = backfills.Start(request.caller, *plan);
        if (!started) return Fail(std::move(started.error()));
        response.set_header("Location", "/api/v1/backfills/" + std::to_string(started->id));
        SendJson(response, 202, backfill::BackfillJson(*started));
        return {};
      });

  router.Add("GET", "/api/v1/backfills",
             JsonHandler({"owner", "cursor", "limit"},
                         [&backfills](RouteRequest& request, const QueryParams& query) {
                           return ListBackfills(backfills, request, query);
                         }));

  using services::Caller;
  router.Add("GET", "/api/v1/backfills/{id}",
             OnBackfill([&backfills](const Caller& caller,
                                     int64_t id) { return backfills.GetStatus(caller, id); },
                        backfill::StatusJson));
  router.Add("GET", "/api/v1/backfills/{id}/diff",
             OnBackfill([&backfills](const Caller& caller,
                                     int64_t id) { return backfills.GetDiff(caller, id); },
                        backfill::DiffJson));
  router.Add("POST", "/api/v1/backfills/{id}/pause",
             OnBackfill([&backfills](const Caller& caller,
                                     int64_t id) { return backfills.Pause(caller, id); },
                        backfill::BackfillJson));
  router.Add("POST", "/api/v1/backfills/{id}/resume",
             OnBackfill([&backfills](const Caller& caller,
                                     int64_t id) { return backfills.Resume(caller, id); },
                        backfill::BackfillJson));
  router.Add("POST", "/api/v1/backfills/{id}/cancel",
             OnBackfill([&backfills](const Caller& caller,
                                     int64_t id) { return backfills.Cancel(caller, id); },
                        backfill::BackfillJson));

  router.Add("POST", "/api/v1/rollbacks",
             [&backfills](RouteRequest& request, httplib::Response& response) -> Result<void> {
               auto body = ParseJsonBody(request.body);
               if (!body) return Fail(std::move(body.error()));
               auto spec = RollbackSpecFrom(*body);
               if (!spec) return Fail(std::move(spec.error()));
               auto report = backfills.Rollback(request.caller, *spec);
               if (!report) return Fail(std::move(report.error()));
               SendJson(response, 200, backfill::RollbackJson(*report, spec->dry_run));
               return {};
             });

  router.Add("POST", "/api/v1/process",
             [&process](RouteRequest& request, httplib::Response& response) -> Result<void> {
               auto spec = ProcessSpecFrom(request.body);
               if (!spec) return Fail(std::move(spec.error()));
               auto counts = process.Enqueue(request.caller, *spec);
               if (!counts) return Fail(std::move(counts.error()));
               SendJson(response, 202, services::EnqueueCountsJson(*counts));
               return {};
             });
}

}  // namespace reprise::http
