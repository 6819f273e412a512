// Backfills and rollbacks as the command line and the HTTP API both ask for them: the
// rules that turn what a caller gave (flags or a JSON body) into a backfill request, the
// owner scoping of every call, and the JSON views both front ends print. `reprise
// backfill ...`, `reprise rollback` and /api/v1/backfills, /api/v1/rollbacks and
// /api/v1/samples/reprocess are thin adapters over this.
//
// Scoping: every function takes the Caller. An owner's caller plans, starts, reads and
// steers only its own backfills (another owner's id is kNotFound) and selects only its
// own assets; an admin sees every backfill and may narrow to one owner. A backfill
// started by an admin belongs to the owner it names (BackfillSpec::owner) or, without
// one, to nobody in particular (every owner's assets, like the command line's).
//
// Errors: kInvalidArgument naming the option that is wrong (an unknown stage, a bad
// filter, no stage named, a bad rate); kPermissionDenied when a non-admin names another
// owner; kNotFound for an unknown backfill or one the caller does not see; kConflict for
// a move the backfill's state does not allow (pausing a finished one), with the state in
// words; kUnavailable when the health check before a start fails. Thread-safety: as the
// backfill::Service and Catalog beneath (many threads may call at once).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "backfill/empty_selection.h"
#include "backfill/service.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "services/caller.h"

namespace reprise::services {

// A new backfill as `reprise backfill` flags or a POST /api/v1/backfills body give it.
struct BackfillSpec {
  std::vector<std::string> stages;
  bool all_stages = false;  // instead of naming stages
  catalog::BackfillMode mode = catalog::BackfillMode::kOutdated;
  bool include_quarantined = false;
  backfill::Selection selection;
  // Whose backfill it is and whose assets it selects: an admin may name any owner (none:
  // every owner's assets); a non-admin's is its own.
  std::optional<std::string> owner;
  std::optional<int64_t> limit;  // assets
  int concurrency = 0;           // 0: the default
  double rate_per_second = 0;    // 0: no limit (ParseRate reads "5/s")
  double delay_seconds = 0;
  int priority = catalog::kBackfillPriority;
  bool skip_reset = false;
  int preview = 10;  // items shown in the plan
  // How a bad filter is named: as a flag, or as a field of an API body.
  const backfill::FilterNames* filter_names = &backfill::kFlagNames;
};

// "5/s", "300/m", "2/h" or "2.5" (per second) as starts per second; kInvalidArgument
// naming `option` ("--rate", "rate") otherwise.
[[nodiscard]] Result<double> ParseRate(std::string_view text, std::string_view option);

// A dry run: what a start would do, for whom, and when nothing was selected, why.
struct BackfillPlan {
  backfill::Request request;
  std::string owner;  // the backfill's owner; empty: every owner's assets
  backfill::PlanReport report;
  std::vector<backfill::EmptyCause> empty_because;  // only when no asset was selected
};

// Rolling a stage back to an earlier result on a selection (`reprise rollback`).
struct RollbackSpec {
  std::string stage;
  backfill::Selection selection;
  std::optional<std::string> owner;  // as BackfillSpec::owner
  std::string to_recipe;             // empty: the result before the current one
  bool dry_run = false;
  int preview = 10;
  const backfill::FilterNames* filter_names = &backfill::kFlagNames;  // as BackfillSpec's
};

struct BackfillStatusPage {
  std::vector<backfill::Status> items;
  std::string next_cursor;  // empty when there is no more
};

class Backfills final {
 public:
  Backfills(backfill::Service& service, catalog::Catalog& catalog, const Clock& clock,
            int max_attempts)
      : service_(service), catalog_(catalog), clock_(clock), max_attempts_(max_attempts) {}

  // Scans the selection as a start would; changes nothing.
  [[nodiscard]] Result<BackfillPlan> Plan(const Caller& caller, const BackfillSpec& spec);
  // Starts the planned backfill (health check, frozen plan, state running); workers or
  // a foreground driver run it. kPermissionDenied when `plan` is for another owner.
  [[nodiscard]] Result<catalog::Backfill> Start(const Caller& caller, const BackfillPlan& plan);

  // `only_owner` narrows an admin to one owner (a non-admin naming another is refused).
  [[nodiscard]] Result<backfill::Status> GetStatus(
      const Caller& caller, int64_t id, const std::optional<std::string>& only_owner = {});
  // Newest first, with their counts, in one catalog read.
  [[nodiscard]] Result<BackfillStatusPage> List(const Caller& caller,
                                                const std::optional<std::string>& only_owner,
                                                const catalog::PageRequest& page);
  [[nodiscard]] Result<catalog::Backfill> Pause(const Caller& caller, int64_t id,
                                                const std::optional<std::string>& only_owner = {});
  [[nodiscard]] Result<catalog::Backfill> Resume(const Caller& caller, int64_t id,
                                                 const std::optional<std::string>& only_owner = {});
  [[nodiscard]] Result<catalog::Backfill> Cancel(const Caller& caller, int64_t id,
                                                 const std::optional<std::string>& only_owner = {});
  [[nodiscard]] Result<backfill::Diff> GetDiff(const Caller& caller, int64_t id,
                                               const std::optional<std::string>& only_owner = {});

  [[nodiscard]] Result<backfill::RollbackReport> Rollback(const Caller& caller,
                                                          const RollbackSpec& spec);

 private:
  backfill::Service& service_;
  catalog::Catalog& catalog_;
  const Clock& clock_;
  int max_attempts_;
};

// The views (`--json` and the API alike).
// The plan of `backfill --dry-run --json`: backfill::PlanJson plus, when nothing was
// selected, "empty_because".
nlohmann::json PlanJson(const BackfillPlan& plan);
// `backfill list --json` and GET /api/v1/backfills' items: StatusJson of each.
nlohmann::json StatusListJson(const BackfillStatusPage& page);

}  // namespace reprise::services
