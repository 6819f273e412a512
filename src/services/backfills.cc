#include "services/backfills.h"

#include <cmath>
#include <utility>

namespace reprise::services {
namespace {

// Runs `call` with the caller's catalog scope, narrowed to `only_owner` when given.
template <class Call>
auto WithScope(const Caller& caller, const std::optional<std::string>& only_owner, Call&& call)
    -> decltype(call(catalog::AssetFilter{})) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(std::move(scope.error()));
  return call(*scope);
}

}  // namespace

Result<double> ParseRate(std::string_view text, std::string_view option) {
  const std::string given(text);
  const std::string name(option);
  std::string number = given;
  double divisor = 1;
  if (auto slash = given.find('/'); slash != std::string::npos) {
    number = given.substr(0, slash);
    std::string unit = given.substr(slash + 1);
    if (unit == "s") {
      divisor = 1;
    } else if (unit == "m") {
      divisor = 60;
    } else if (unit == "h") {
      divisor = 3600;
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  name + " " + given + ": the unit after '/' is s, m or h (e.g. 5/s, 300/m)");
    }
  }
  try {
    size_t used = 0;
    double value = std::stod(number, &used);
    if (used != number.size() || !(value > 0) || !std::isfinite(value)) throw std::out_of_range("");
    return value / divisor;
  } catch (const std::exception&) {
    return Fail(ErrorCode::kInvalidArgument,
                name + " " + given + ": expected a positive number of starts, e.g. 5/s or 300/m");
  }
}

Result<BackfillPlan> Backfills::Plan(const Caller& caller, const BackfillSpec& spec) {
  if (spec.all_stages == !spec.stages.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "name the stages to backfill, or --all-stages (\"all_stages\": true)");
  }
  auto owner = caller.OwnerForNew(spec.owner, "");
  if (!owner) return Fail(std::move(owner.error()));
  BackfillPlan plan;
  plan.owner = std::move(*owner);
  backfill::Request& request = plan.request;
  if (!spec.all_stages) request.stages = spec.stages;
  request.mode = spec.mode;
  request.include_quarantined = spec.include_quarantined;
  request.selection = spec.selection;
  request.limit = spec.limit;
  request.concurrency = spec.concurrency;
  request.rate_per_second = spec.rate_per_second;
  request.delay_seconds = spec.delay_seconds;
  request.priority = spec.priority;
  request.max_attempts = max_attempts_;
  request.skip_reset = spec.skip_reset;
  // Checked first so that a bad filter is refused before anything is scanned.
  if (auto filter = request.selection.ToFilter(*spec.filter_names); !filter) {
    return Fail(std::move(filter.error()));
  }
  auto report = service_.DryRun(request, plan.owner, spec.preview);
  if (!report) return Fail(std::move(report.error()));
  plan.report = std::move(*report);
  if (plan.report.assets_seen == 0) {
    auto explained = backfill::ExplainEmptySelection(catalog_, request.selection, plan.owner);
    if (!explained) return Fail(std::move(explained.error()));
    plan.empty_because = std::move(*explained);
  }
  return plan;
}

Result<catalog::Backfill> Backfills::Start(const Caller& caller, const BackfillPlan& plan) {
  if (!caller.admin && plan.owner != caller.owner) {
    return Fail(
        ErrorCode::kPermissionDenied,
        "a token of owner '" + caller.owner + "' cannot start a backfill for '" + plan.owner + "'");
  }
  return service_.Start(plan.request, plan.owner, plan.report);
}

Result<backfill::Status> Backfills::GetStatus(const Caller& caller, int64_t id,
                                              const std::optional<std::string>& only_owner) {
  return WithScope(caller, only_owner,
                   [&](const auto& scope) { return service_.GetStatus(id, scope); });
}

Result<BackfillStatusPage> Backfills::List(const Caller& caller,
                                           const std::optional<std::string>& only_owner,
                                           const catalog::PageRequest& page) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(std::move(scope.error()));
  auto rows = catalog_.ListBackfillsWithCounts(*scope, page);
  if (!rows) return Fail(std::move(rows.error()));
  const int64_t now = clock_.NowMicros();
  BackfillStatusPage result;
  result.next_cursor = std::move(rows->next_cursor);
  for (auto& row : rows->items) {
    result.items.push_back(
        backfill::MakeStatus(std::move(row.backfill), std::move(row.counts), now));
  }
  return result;
}

Result<catalog::Backfill> Backfills::Pause(const Caller& caller, int64_t id,
                                           const std::optional<std::string>& only_owner) {
  return WithScope(caller, only_owner,
                   [&](const auto& scope) { return service_.Pause(id, scope); });
}

Result<catalog::Backfill> Backfills::Resume(const Caller& caller, int64_t id,
                                            const std::optional<std::string>& only_owner) {
  return WithScope(caller, only_owner,
                   [&](const auto& scope) { return service_.Resume(id, scope); });
}

Result<catalog::Backfill> Backfills::Cancel(const Caller& caller, int64_t id,
                                            const std::optional<std::string>& only_owner) {
  return WithScope(caller, only_owner,
                   [&](const auto& scope) { return service_.Cancel(id, scope); });
}

Result<backfill::Diff> Backfills::GetDiff(const Caller& caller, int64_t id,
                                          const std::optional<std::string>& only_owner) {
  return WithScope(caller, only_owner,
                   [&](const auto& scope) { return service_.GetDiff(id, scope); });
}

Result<backfill::RollbackReport> Backfills::Rollback(const Caller& caller,
                                                     const RollbackSpec& spec) {
  auto owner = caller.OwnerForNew(spec.owner, "");
  if (!owner) return Fail(std::move(owner.error()));
  if (auto filter = spec.selection.ToFilter(*spec.filter_names); !filter) {
    return Fail(std::move(filter.error()));
  }
  return service_.Rollback(spec.stage, spec.selection, spec.to_recipe, *owner, spec.dry_run,
                           spec.preview);
}

nlohmann::json PlanJson(const BackfillPlan& plan) {
  nlohmann::json doc = backfill::PlanJson(plan.report);
  if (!plan.empty_because.empty()) {
    doc["empty_because"] = backfill::EmptyCausesJson(plan.empty_because);
  }
  return doc;
}

nlohmann::json StatusListJson(const BackfillStatusPage& page) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& status : page.items) items.push_back(backfill::StatusJson(status));
  return items;
}

}  // namespace reprise::services
