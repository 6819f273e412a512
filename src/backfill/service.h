// The backfill service: what `reprise backfill ...` and (later) the HTTP API call, with
// the same requests and the same JSON.
//
// A Request names stages, a mode, a selection (filters as the user gave them, kept as
// JSON so a run can be audited and diffed against what the same filters select now) and
// run options. DryRun() scans the selection exactly as a run would plan it and changes
// nothing. Start() checks each stage's health first (the blob store must be writable),
// then freezes the plan (Catalog::CreateBackfill) in state running; a Driver (driver.h)
// then dispatches it. Pause/Resume/Cancel move the persisted state machine; Status()
// gives the counters and the report.
//
// Errors: kInvalidArgument for an unknown stage, a bad filter or option (naming it);
// kNotFound for an unknown backfill or one of another owner; kConflict for a move the
// state does not allow (resuming a finished backfill); kUnavailable when the health
// check fails.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ai/service_directory.h"
#include "backfill/plan.h"
#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/log.h"
#include "stages/registry.h"

namespace reprise::backfill {

// How errors name the filters: as the command line's flags ("--where") or as the
// fields of an API body ("field 'where'").
struct FilterNames {
  std::string_view status, kind, source, created_after, created_before, where;
};
inline constexpr FilterNames kFlagNames{"--status",        "--kind",           "--source",
                                        "--created-after", "--created-before", "--where"};
inline constexpr FilterNames kFieldNames{"field 'status'",         "field 'kind'",
                                         "field 'source'",         "field 'created_after'",
                                         "field 'created_before'", "field 'where'"};

// Filters as given; every one set must hold (AND).
struct Selection {
  std::optional<std::string> owner;
  std::optional<std::string> status;
  std::optional<std::string> kind;
  std::optional<std::string> source;
  std::vector<std::string> ids;
  std::optional<std::string> created_after;   // RFC 3339 or a date
  std::optional<std::string> created_before;  // RFC 3339 or a date
  std::optional<std::string> where;           // docs/WHERE.md

  [[nodiscard]] nlohmann::json ToJson() const;
  static Result<Selection> FromJson(const nlohmann::json& doc);
  // The catalog filter; kInvalidArgument naming the filter that is wrong as `names` do.
  [[nodiscard]] Result<catalog::AssetFilter> ToFilter(const FilterNames& names = kFlagNames) const;
};

struct Request {
  std::vector<std::string> stages;  // empty: every registered stage
  catalog::BackfillMode mode = catalog::BackfillMode::kOutdated;
  bool include_quarantined = false;
  Selection selection;
  // Run options.
  std::optional<int64_t> limit;  // assets
  int concurrency = 0;           // jobs of this backfill at once; 0: the default
  double rate_per_second = 0;    // starts per second; 0: no limit
  double delay_seconds = 0;      // pause between starts
  int priority = catalog::kBackfillPriority;
  int max_attempts = 5;
  bool skip_reset = false;  // keep the asset's status until the new result is in
};

struct Status {
  catalog::Backfill backfill;
  catalog::BackfillCounts counts;
  double elapsed_seconds = 0;
  int64_t now_micros = 0;  // when it was read, for the driver's lease
};

// The status of `backfill` with `counts`, read at `now_micros`: elapsed_seconds runs
// from its start to its end, or to now while it has not ended.
Status MakeStatus(catalog::Backfill backfill, catalog::BackfillCounts counts, int64_t now_micros);

// Seconds until the items not ended yet end, at the rate items ended over
// `elapsed_seconds`; nullopt before any item ended (no rate yet) or with nothing left.
std::optional<double> RemainingSeconds(int64_t ended, int64_t total, double elapsed_seconds);

// Who moves a running or cancelling backfill forward, in one line: its driver and the
// lease left, or that nobody does (never adopted, released, or its driver's lease expired
// because the process died) and it waits for a worker (`reprise worker`, `serve`) or
// `backfill resume` to take it over. Empty in other states.
std::string DriverNote(const Status& status);

struct Diff {
  int64_t frozen = 0;              // items in the frozen plan
  int64_t live = 0;                // pairs the same filters select now
  int64_t only_live = 0;           // selected now, not in the plan
  int64_t only_frozen = 0;         // in the plan, not selected now
  std::vector<PlanItem> examples;  // a few of only_live
};

// A rollback's result, and what today's config will make of it: results it brought back
// that were built by another recipe than today's are outdated at once, so `reprise
// process` or a backfill rebuilds them unless the stage's params are set back.
struct RollbackReport : catalog::RollbackResult {
  std::string stage;
  std::string todays_recipe;
  int64_t outdated_by_today = 0;              // of rolled_back
  std::vector<std::string> outdated_recipes;  // the recipes of those, sorted
};

class Service {
 public:
  // `services` (may be null: none configured) are the clients the registry's stages call;
  // the health check asks each one the planned stages use for its models.
  Service(catalog::Catalog& catalog, blob::BlobStore& blobs, const stages::Registry& registry,
          const Clock& clock, Logger log, std::map<std::string, CostModel> costs,
          int default_concurrency, const ai::ServiceDirectory* services = nullptr);

  [[nodiscard]] Result<PlanReport> DryRun(const Request& request, const std::string& scope_owner,
                                          int preview);
  // Health check, then the frozen plan, in state running. `plan` (a dry run) is stored
  // with it for the record; the items come from a fresh scan in the same transaction.
  [[nodiscard]] Result<catalog::Backfill> Start(const Request& request,
                                                const std::string& scope_owner,
                                                const PlanReport& plan);
  [[nodiscard]] Result<catalog::Backfill> Pause(int64_t id, const catalog::AssetFilter& scope);
  [[nodiscard]] Result<catalog::Backfill> Resume(int64_t id, const catalog::AssetFilter& scope);
  [[nodiscard]] Result<catalog::Backfill> Cancel(int64_t id, const catalog::AssetFilter& scope);
  [[nodiscard]] Result<Status> GetStatus(int64_t id, const catalog::AssetFilter& scope);
  [[nodiscard]] Result<std::vector<catalog::Backfill>> List(const catalog::AssetFilter& scope,
                                                            int limit);
  [[nodiscard]] Result<Diff> GetDiff(int64_t id, const catalog::AssetFilter& scope);

  // Makes an earlier successful result of `stage` current again on the selected assets
  // (Catalog::RollbackDerivatives); kInvalidArgument for an unknown stage.
  [[nodiscard]] Result<RollbackReport> Rollback(const std::string& stage,
                                                const Selection& selection,
                                                const std::string& to_recipe,
                                                const std::string& scope_owner, bool dry_run,
                                                int preview);

  // Items of running and paused backfills not dispatched yet, per backfill (over the
  // assets of scope.owner when set): work a detached backfill has not put into the
  // queue yet, which `reprise queue` shows beside the jobs.
  [[nodiscard]] Result<std::vector<catalog::BackfillBacklog>> Undispatched(
      const catalog::AssetFilter& scope);

  // The health check Start() runs: the blob store takes a write and gives it back, and
  // every service a planned stage calls answers its models list (seed 000's first step)
  // and lists the models the stage asks for. kUnavailable for a store or service that
  // does not answer, kNotFound for a model the service does not list; each names the
  // stage, the service and what it said.
  [[nodiscard]] Result<void> CheckHealth(const std::vector<std::string>& stages);

 private:
  // The stages a backfill of `names` plans: those and their inputs (StageGraph), consumers
  // before their inputs, otherwise in the order given.
  struct PlannedStages {
    std::vector<catalog::StageRecipe> recipes;
    StageGraph graph;
  };
  Result<PlannedStages> Recipes(const std::vector<std::string>& names) const;
  // The stage's past runs for estimates: today's recipe's, else other recipes'; with
  // `alone` (the jobs run this stage only), its runs alone in their pass first.
  Result<StageRuns> PastRuns(const catalog::StageRecipe& stage, bool alone);
  Result<catalog::AssetFilter> ScopedFilter(const Selection& selection,
                                            const std::string& scope_owner) const;
  // SetBackfillState, with a refusal (kConflict) that says in words why the backfill
  // cannot be `verb` ("cancelled") from the state it is in.
  Result<catalog::Backfill> Move(int64_t id, const std::vector<catalog::BackfillState>& from,
                                 catalog::BackfillState to, std::string_view reason,
                                 std::string_view verb);

  catalog::Catalog& catalog_;
  blob::BlobStore& blobs_;
  const stages::Registry& registry_;
  const Clock& clock_;
  Logger log_;
  std::map<std::string, CostModel> costs_;
  int default_concurrency_;
  const ai::ServiceDirectory* services_;
};

// The backfill, its plan, its progress (outcomes, skip reasons, error codes with example
// assets, active jobs, elapsed_seconds and, while it runs, eta_seconds) and its driver's
// lease. elapsed_seconds (until it ends), eta_seconds and driver_lease are measured
// against the time the status was read.
nlohmann::json StatusJson(const Status& status);
nlohmann::json BackfillJson(const catalog::Backfill& backfill);
nlohmann::json DiffJson(const Diff& diff);
// Empty when today's recipe keeps every result the rollback brought back (or would).
std::string RollbackWarning(const RollbackReport& report, bool dry_run);
nlohmann::json RollbackJson(const RollbackReport& result, bool dry_run);

}  // namespace reprise::backfill
