#include "backfill/service.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backfill/driver.h"
#include "catalog/where.h"
#include "core/clock.h"

namespace reprise::backfill {

using catalog::BackfillState;

namespace {

constexpr int kHistorySamples = 200;
constexpr int kItemPage = 1000;

template <class T>
Result<std::optional<T>> ParseOptional(const std::optional<std::string>& text,
                                       Result<T> (*parse)(std::string_view),
                                       const std::string& what) {
  if (!text) return std::optional<T>{};
  auto parsed = parse(*text);
  if (!parsed) return Fail(parsed.error().Wrap(what));
  return std::optional<T>(*parsed);
}

Result<std::optional<std::string>> OptionalString(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return std::optional<std::string>{};
  if (!it->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, std::string("selection.") + key + " must be a string");
  }
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace

nlohmann::json Selection::ToJson() const {
  nlohmann::json doc = nlohmann::json::object();
  auto put = [&doc](const char* key, const std::optional<std::string>& value) {
    if (value) doc[key] = *value;
  };
  put("owner", owner);
  put("status", status);
  put("kind", kind);
  put("source", source);
  if (!ids.empty()) doc["ids"] = ids;
  put("created_after", created_after);
  put("created_before", created_before);
  put("where", where);
  return doc;
}

Result<Selection> Selection::FromJson(const nlohmann::json& doc) {
  if (!doc.is_object()) return Fail(ErrorCode::kInvalidArgument, "a selection is a JSON object");
  static const std::set<std::string> kKeys = {"owner", "status",        "kind",           "source",
                                              "ids",   "created_after", "created_before", "where"};
  for (const auto& [key, value] : doc.items()) {
    if (kKeys.count(key) == 0) {
      return Fail(ErrorCode::kInvalidArgument, "unknown selection field \"" + key + "\"");
    }
  }
  Selection selection;
  for (auto [key, field] :
       {std::pair{"owner", &selection.owner}, std::pair{"status", &selection.status},
        std::pair{"kind", &selection.kind}, std::pair{"source", &selection.source},
        std::pair{"created_after", &selection.created_after},
        std::pair{"created_before", &selection.created_before},
        std::pair{"where", &selection.where}}) {
    auto value = OptionalString(doc, key);
    if (!value) return Fail(std::move(value.error()));
    *field = std::move(*value);
  }
  if (auto ids = doc.find("ids"); ids != doc.end() && !ids->is_null()) {
    if (!ids->is_array()) return Fail(ErrorCode::kInvalidArgument, "selection.ids must be a list");
    for (const auto& id : *ids) {
      if (!id.is_string()) {
        return Fail(ErrorCode::kInvalidArgument, "selection.ids must hold strings");
      }
      selection.ids.push_back(id.get<std::string>());
    }
  }
  return selection;
}

Result<catalog::AssetFilter> Selection::ToFilter(const FilterNames& names) const {
  catalog::AssetFilter filter;
  filter.owner = owner;
  auto parsed_status = ParseOptional(status, &catalog::ParseAssetStatus, std::string(names.status));
  if (!parsed_status) return Fail(std::move(parsed_status.error()));
  filter.status = *parsed_status;
  auto parsed_kind = ParseOptional(kind, &catalog::ParseAssetKind, std::string(names.kind));
  if (!parsed_kind) return Fail(std::move(parsed_kind.error()));
  filter.kind = *parsed_kind;
  auto parsed_source = ParseOptional(source, &catalog::ParseAssetSource, std::string(names.source));
  if (!parsed_source) return Fail(std::move(parsed_source.error()));
  filter.source = *parsed_source;
  filter.ids = ids;
  auto after = ParseOptional(created_after, &ParseTimeBound, std::string(names.created_after));
  if (!after) return Fail(std::move(after.error()));
  filter.created_after = *after;
  auto before = ParseOptional(created_before, &ParseTimeBound, std::string(names.created_before));
  if (!before) return Fail(std::move(before.error()));
  filter.created_before = *before;
  if (where) {
    auto expr = catalog::ParseWhere(*where);
    if (!expr) return Fail(expr.error().Wrap(std::string(names.where)));
    filter.where = std::move(*expr);
  }
  return filter;
}

Service::Service(catalog::Catalog& catalog, blob::BlobStore& blobs,
                 const stages::Registry& registry, const Clock& clock, Logger log,
                 std::map<std::string, CostModel> costs, int default_concurrency,
                 const ai::ServiceDirectory* services)
    : catalog_(catalog),
      blobs_(blobs),
      registry_(registry),
      clock_(clock),
      log_(std::move(log)),
      costs_(std::move(costs)),
      default_concurrency_(std::max(default_concurrency, 1)),
      services_(services) {}

Result<Service::PlannedStages> Service::Recipes(const std::vector<std::string>& names) const {
  auto chosen = registry_.Select(names);
  if (!chosen) return Fail(std::move(chosen.error()));
  std::vector<const stages::Stage*> remaining = *chosen;
  for (const auto* stage : registry_.WithInputs(*chosen)) {
    if (std::find(remaining.begin(), remaining.end(), stage) == remaining.end()) {
      remaining.push_back(stage);
    }
  }
  // Consumers first: repeatedly take the first stage that no stage still to place consumes.
  std::vector<const stages::Stage*> ordered;
  auto consumed_by_remaining = [&](const stages::Stage* stage) {
    return std::any_of(remaining.begin(), remaining.end(), [&](const stages::Stage* other) {
      auto inputs = other->Inputs();
      return std::find(inputs.begin(), inputs.end(), stage->Name()) != inputs.end();
    });
  };
  while (!remaining.empty()) {
    auto next = std::find_if(remaining.begin(), remaining.end(),
                             [&](const stages::Stage* s) { return !consumed_by_remaining(s); });
    if (next == remaining.end()) next = remaining.begin();  // a cycle: Seal() refuses those
    ordered.push_back(*next);
    remaining.erase(next);
  }
  PlannedStages planned;
  planned.graph.inputs.resize(ordered.size());
  for (size_t i = 0; i < ordered.size(); ++i) {
    const auto* stage = ordered[i];
    planned.recipes.push_back({std::string(stage->Name()), registry_.Recipe(stage->Name())});
    planned.graph.input_only.push_back(std::find(chosen->begin(), chosen->end(), stage) ==
                                       chosen->end());
    for (const auto& input : stage->Inputs()) {
      for (size_t j = 0; j < ordered.size(); ++j) {
        if (ordered[j]->Name() == input) planned.graph.inputs[i].push_back(j);
      }
    }
  }
  return planned;
}

namespace {

// has(STAGE) naming no registered stage is a typo, not an empty selection: refused with
// the registered stages (docs/WHERE.md).
Result<void> CheckStagesNamed(const catalog::WhereExpr& expr, const stages::Registry& registry) {
  if (expr.kind == catalog::WhereExpr::Kind::kHas) {
    if (auto known = registry.Select({expr.stage}); !known) {
      return Fail(known.error().Wrap("--where: has(" + expr.stage + ")"));
    }
  }
  for (const auto& child : expr.children) REPRISE_TRY(CheckStagesNamed(*child, registry));
  return {};
}

// How a refusal names the state a backfill is in: "backfill 9 has already succeeded".
constexpr std::pair<BackfillState, std::string_view> kStateWords[] = {
    {BackfillState::kPlanned, "has not started"},
    {BackfillState::kRunning, "is running"},
    {BackfillState::kPaused, "is paused"},
    {BackfillState::kCancelling, "is being cancelled"},
    {BackfillState::kCancelled, "was cancelled"},
    {BackfillState::kSucceeded, "has already succeeded"},
    {BackfillState::kFailed, "has failed"},
    {BackfillState::kCompletedWithFailures, "has already completed with failures"},
};

// Why a backfill found in `found` cannot be `verb`ed (to `to`), in words: "backfill 9 has
// already succeeded; it cannot be cancelled", "backfill 9 is already paused".
std::string Refusal(const catalog::Backfill& found, BackfillState to, std::string_view verb) {
  const std::string backfill = "backfill " + std::to_string(found.id);
  if (found.state == to) return backfill + " is already " + std::string(catalog::Name(to));
  if (found.state == BackfillState::kCancelling && to == BackfillState::kCancelled) {
    return backfill + " is already being cancelled";
  }
  std::string now(catalog::Name(found.state));
  for (const auto& [state, words] : kStateWords) {
    if (state == found.state) now = words;
  }
  if (found.state == BackfillState::kFailed && !found.stop_reason.empty()) {
    now += " (" + found.stop_reason + ")";
  }
  return backfill + " " + now + "; it cannot be " + std::string(verb);
}

}  // namespace

Result<catalog::Backfill> Service::Move(int64_t id, const std::vector<BackfillState>& from,
                                        BackfillState to, std::string_view reason,
                                        std::string_view verb) {
  auto moved = catalog_.SetBackfillState(id, from, to, reason);
  if (moved || moved.error().code != ErrorCode::kConflict) return moved;
  auto found = catalog_.GetBackfill(id, {});
  if (!found) return moved;
  // Cancelling asks for "cancelled" in the words: that is what the user asked for.
  return Fail(
      ErrorCode::kConflict,
      Refusal(*found, to == BackfillState::kCancelling ? BackfillState::kCancelled : to, verb));
}

Result<catalog::AssetFilter> Service::ScopedFilter(const Selection& selection,
                                                   const std::string& scope_owner) const {
  auto filter = selection.ToFilter();
  if (!filter) return filter;
  if (filter->where) REPRISE_TRY(CheckStagesNamed(*filter->where, registry_));
  if (!scope_owner.empty()) {
    // Owner scoping: a user's backfill never selects another owner's assets.
    if (filter->owner && *filter->owner != scope_owner) {
      return Fail(ErrorCode::kNotFound, "owner " + *filter->owner + " not found");
    }
    filter->owner = scope_owner;
  }
  return filter;
}

Result<StageRuns> Service::PastRuns(const catalog::StageRecipe& stage, bool alone) {
  // Today's recipe first; when it has not run yet, any recipe's runs are a better guess
  // than none, and the plan says where they come from. Within each, runs of the stage
  // alone in its pass first when the jobs will run it alone (runs beside other stages
  // also hold their work).
  for (auto source : {HistorySource::kRecipe, HistorySource::kOtherRecipes}) {
    catalog::StageHistoryQuery query;
    query.stage = stage.stage;
    query.recipe = source == HistorySource::kRecipe ? stage.recipe : "";
    query.samples = kHistorySamples;
    for (bool only_alone : {true, false}) {
      if (only_alone && !alone) continue;
      query.alone = only_alone;
      auto past = catalog_.GetStageHistory(query);
      if (!past) return Fail(std::move(past.error()));
      if (past->samples > 0) return StageRuns{*past, source, only_alone};
    }
  }
  return StageRuns{};
}

Result<PlanReport> Service::DryRun(const Request& request, const std::string& scope_owner,
                                   int preview) {
  auto stages = Recipes(request.stages);
  if (!stages) return Fail(std::move(stages.error()));
  auto filter = ScopedFilter(request.selection, scope_owner);
  if (!filter) return Fail(std::move(filter.error()));
  PlanBuilder builder(stages->recipes, request.mode, request.include_quarantined, request.limit,
                      preview, stages->graph);
  REPRISE_TRY(
      catalog_.ScanStagePairs(stages->recipes, *filter, [&](const catalog::StagePair& pair) {
        return builder.Add(pair).action != catalog::PairDecision::kStop;
      }));
  std::map<std::string, StageRuns> history;
  for (const auto& stage : stages->recipes) {
    auto runs = PastRuns(stage, /*alone=*/stages->recipes.size() == 1);
    if (!runs) return Fail(std::move(runs.error()));
    history[stage.stage] = *runs;
  }
  Pacing pacing;
  pacing.concurrency = request.concurrency > 0 ? request.concurrency : default_concurrency_;
  pacing.rate_per_second = request.rate_per_second;
  pacing.delay_seconds = request.delay_seconds;
  pacing.poll_seconds = static_cast<double>(kForegroundPollMicros) / 1e6;
  return builder.Finish(history, costs_, pacing);
}

Result<void> Service::CheckHealth(const std::vector<std::string>& stages) {
  if (auto probed = blob::CheckReadWrite(blobs_, "health/backfill"); !probed) {
    return Fail(probed.error().Wrap("health check: blob store " + blobs_.Describe()));
  }
  // Each service once, however many stages call it, with every model they ask for.
  std::map<std::string, std::vector<std::string>> models;
  std::map<std::string, std::string> first_user;
  for (const auto& name : stages) {
    const stages::Stage* stage = registry_.Find(name);
    if (stage == nullptr) continue;
    for (const auto& use : stage->Services()) {
      auto& wanted = models[use.service];
      first_user.emplace(use.service, name);
      for (const auto& model : use.models) {
        if (std::find(wanted.begin(), wanted.end(), model) == wanted.end()) {
          wanted.push_back(model);
        }
      }
    }
  }
  for (const auto& [service, wanted] : models) {
    const std::string who =
        "health check: service " + service + " (stage " + first_user.at(service) + ")";
    if (services_ == nullptr) {
      return Fail(ErrorCode::kUnavailable, who + ": no services are configured");
    }
    ai::ServiceHealth health = ai::CheckService(*services_, service, wanted);
    if (!health.reachable) {
      return Fail(ErrorCode::kUnavailable,
                  who + " at " + health.base_url + ": " +
                      (health.error ? health.error->ToString() : std::string("no answer")));
    }
    if (!health.models_listed) continue;  // whisper.cpp: nothing to check the models against
    for (const auto& [model, present] : health.needed) {
      if (!present) {
        return Fail(ErrorCode::kNotFound,
                    who + " at " + health.base_url + " does not serve model " + model +
                        " (it lists " + fmt::format("{}", fmt::join(health.models, ", ")) + ")");
      }
    }
    log_->info("event=health_check service={} latency_ms={:.1f} models_checked={}", service,
               health.latency_ms, wanted.size());
  }
  return {};
}

Result<catalog::Backfill> Service::Start(const Request& request, const std::string& scope_owner,
                                         const PlanReport& plan) {
  auto stages = Recipes(request.stages);
  if (!stages) return Fail(std::move(stages.error()));
  auto filter = ScopedFilter(request.selection, scope_owner);
  if (!filter) return Fail(std::move(filter.error()));
  std::vector<std::string> names;
  for (const auto& stage : stages->recipes) names.push_back(stage.stage);
  REPRISE_TRY(CheckHealth(names));

  catalog::NewBackfill backfill;
  backfill.owner = scope_owner;
  backfill.stages = stages->recipes;
  backfill.mode = request.mode;
  backfill.filter = request.selection.ToJson();
  backfill.options = {
      {"concurrency", request.concurrency > 0 ? request.concurrency : default_concurrency_},
      {"rate_per_second", request.rate_per_second},
      {"delay_seconds", request.delay_seconds},
      {"priority", request.priority},
      {"max_attempts", request.max_attempts},
      {"skip_reset", request.skip_reset},
      {"include_quarantined", request.include_quarantined}};
  if (request.limit) backfill.options["limit"] = *request.limit;
  // Stages planned only as inputs of the ones asked for: a later diff plans the same way.
  nlohmann::json inputs_only = nlohmann::json::array();
  for (size_t i = 0; i < stages->recipes.size(); ++i) {
    if (stages->graph.input_only[i]) inputs_only.push_back(stages->recipes[i].stage);
  }
  if (!inputs_only.empty()) backfill.options["inputs_only"] = std::move(inputs_only);
  backfill.plan = PlanJson(plan);
  backfill.state = BackfillState::kRunning;
  Selector selector(stages->recipes, request.mode, request.include_quarantined, request.limit,
                    stages->graph);
  auto created = catalog_.CreateBackfill(backfill, *filter, std::ref(selector));
  if (!created) return created;
  log_->info("backfill={} event=created stages={} mode={} assets={}", created->id,
             created->stages.size(), catalog::Name(created->mode), selector.assets_selected());
  return created;
}

Result<catalog::Backfill> Service::Pause(int64_t id, const catalog::AssetFilter& scope) {
  REPRISE_TRY(catalog_.GetBackfill(id, scope));
  auto paused = Move(id, {BackfillState::kRunning}, BackfillState::kPaused, "", "paused");
  if (!paused) return paused;
  // Jobs that have not started go back to the plan; running ones finish.
  auto withdrawn = catalog_.WithdrawBackfillJobs(id, /*cancel=*/false);
  if (!withdrawn) return Fail(std::move(withdrawn.error()));
  return catalog_.GetBackfill(id, scope);
}

Result<catalog::Backfill> Service::Resume(int64_t id, const catalog::AssetFilter& scope) {
  auto backfill = catalog_.GetBackfill(id, scope);
  if (!backfill) return backfill;
  if (backfill->state == BackfillState::kRunning) return backfill;  // resuming its driver
  return Move(id, {BackfillState::kPaused, BackfillState::kPlanned}, BackfillState::kRunning, "",
              "resumed");
}

Result<catalog::Backfill> Service::Cancel(int64_t id, const catalog::AssetFilter& scope) {
  REPRISE_TRY(catalog_.GetBackfill(id, scope));
  auto cancelling =
      Move(id, {BackfillState::kPlanned, BackfillState::kRunning, BackfillState::kPaused},
           BackfillState::kCancelling, "cancelled on request", "cancelled");
  if (!cancelling) return cancelling;
  auto withdrawn = catalog_.WithdrawBackfillJobs(id, /*cancel=*/true);
  if (!withdrawn) return Fail(std::move(withdrawn.error()));
  // Dispatching nothing reports the jobs still holding items, without counting them all.
  catalog::DispatchRequest report_only;
  report_only.max_assets = 0;
  auto active = catalog_.DispatchBackfill(id, report_only);
  if (!active) return Fail(std::move(active.error()));
  if (active->active_jobs == 0) {
    // Nothing runs: cancelled at once, without waiting for a driver.
    return catalog_.SetBackfillState(id, {BackfillState::kCancelling}, BackfillState::kCancelled,
                                     "");
  }
  return catalog_.GetBackfill(id, scope);
}

Result<Status> Service::GetStatus(int64_t id, const catalog::AssetFilter& scope) {
  auto backfill = catalog_.GetBackfill(id, scope);
  if (!backfill) return Fail(std::move(backfill.error()));
  auto counts = catalog_.CountBackfillItems(id);
  if (!counts) return Fail(std::move(counts.error()));
  return MakeStatus(std::move(*backfill), std::move(*counts), clock_.NowMicros());
}

Status MakeStatus(catalog::Backfill backfill, catalog::BackfillCounts counts, int64_t now_micros) {
  Status status{std::move(backfill), std::move(counts), 0, now_micros};
  if (status.backfill.started_at > 0) {
    int64_t end = status.backfill.finished_at > 0 ? status.backfill.finished_at : status.now_micros;
    status.elapsed_seconds = static_cast<double>(end - status.backfill.started_at) / 1e6;
  }
  return status;
}

std::optional<double> RemainingSeconds(int64_t ended, int64_t total, double elapsed_seconds) {
  if (ended <= 0 || elapsed_seconds <= 0 || total <= ended) return std::nullopt;
  const double rate = static_cast<double>(ended) / elapsed_seconds;
  return static_cast<double>(total - ended) / rate;
}

Result<std::vector<catalog::Backfill>> Service::List(const catalog::AssetFilter& scope, int limit) {
  return catalog_.ListBackfills(scope, limit);
}

Result<Diff> Service::GetDiff(int64_t id, const catalog::AssetFilter& scope) {
  auto backfill = catalog_.GetBackfill(id, scope);
  if (!backfill) return Fail(std::move(backfill.error()));
  auto selection = Selection::FromJson(backfill->filter);
  if (!selection) return Fail(std::move(selection.error()));
  auto filter = ScopedFilter(*selection, backfill->owner);
  if (!filter) return Fail(std::move(filter.error()));
  // The frozen plan as a set of pairs, read page by page.
  std::set<std::pair<std::string, std::string>> frozen;
  for (int64_t offset = 0;; offset += kItemPage) {
    auto items = catalog_.ListBackfillItems(id, std::nullopt, offset, kItemPage);
    if (!items) return Fail(std::move(items.error()));
    for (const auto& item : *items) frozen.emplace(item.asset_id, item.stage);
    if (static_cast<int64_t>(items->size()) < kItemPage) break;
  }
  // Today's recipes: what the live filter would select now.
  std::vector<std::string> names;
  const nlohmann::json inputs_only =
      backfill->options.value("inputs_only", nlohmann::json::array());
  for (const auto& stage : backfill->stages) {
    if (std::find(inputs_only.begin(), inputs_only.end(), stage.stage) == inputs_only.end()) {
      names.push_back(stage.stage);
    }
  }
  auto stages = Recipes(names);
  if (!stages) return Fail(std::move(stages.error()));
  std::optional<int64_t> limit;
  if (auto it = backfill->options.find("limit"); it != backfill->options.end()) {
    limit = it->get<int64_t>();
  }
  bool include_quarantined = backfill->options.value("include_quarantined", false);
  Selector selector(stages->recipes, backfill->mode, include_quarantined, limit, stages->graph);
  Diff diff;
  diff.frozen = static_cast<int64_t>(frozen.size());
  std::set<std::pair<std::string, std::string>> seen;
  REPRISE_TRY(
      catalog_.ScanStagePairs(stages->recipes, *filter, [&](const catalog::StagePair& pair) {
        auto decision = selector(pair);
        if (decision.action == catalog::PairDecision::kStop) return false;
        if (decision.action != catalog::PairDecision::kSelect) return true;
        const std::string& stage = stages->recipes[pair.stage_index].stage;
        ++diff.live;
        if (frozen.count({pair.asset_id, stage}) != 0) {
          seen.emplace(pair.asset_id, stage);
        } else {
          ++diff.only_live;
          if (diff.examples.size() < 10) {
            diff.examples.push_back({pair.asset_id, stage, decision.reason,
                                     pair.FromRecipe(stages->recipes[pair.stage_index].recipe)});
          }
        }
        return true;
      }));
  diff.only_frozen = diff.frozen - static_cast<int64_t>(seen.size());
  return diff;
}

Result<std::vector<catalog::BackfillBacklog>> Service::Undispatched(
    const catalog::AssetFilter& scope) {
  // Planned ones never dispatch until started; cancelling and final ones have nothing
  // pending.
  return catalog_.CountUndispatchedBackfillItems({BackfillState::kRunning, BackfillState::kPaused},
                                                 scope);
}

Result<RollbackReport> Service::Rollback(const std::string& stage, const Selection& selection,
                                         const std::string& to_recipe,
                                         const std::string& scope_owner, bool dry_run,
                                         int preview) {
  if (registry_.Find(stage) == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "unknown stage \"" + stage + "\"");
  }
  auto filter = ScopedFilter(selection, scope_owner);
  if (!filter) return Fail(std::move(filter.error()));
  catalog::RollbackRequest request;
  request.stage = stage;
  request.to_recipe = to_recipe;
  request.dry_run = dry_run;
  request.preview = preview;
  auto result = catalog_.RollbackDerivatives(request, *filter);
  if (!result) return Fail(std::move(result.error()));
  if (!dry_run) {
    log_->info("event=rollback stage={} to_recipe={} assets={}", stage,
               to_recipe.empty() ? "previous" : to_recipe, result->rolled_back);
  }
  RollbackReport report;
  static_cast<catalog::RollbackResult&>(report) = std::move(*result);
  report.stage = stage;
  report.todays_recipe = registry_.Recipe(stage);
  for (const auto& [recipe, n] : report.to_recipes) {
    if (recipe == report.todays_recipe) continue;
    report.outdated_by_today += n;
    report.outdated_recipes.push_back(recipe);
  }
  return report;
}

std::string RollbackWarning(const RollbackReport& report, bool dry_run) {
  if (report.outdated_by_today == 0) return "";
  std::string recipes;
  for (const auto& recipe : report.outdated_recipes) {
    recipes += (recipes.empty() ? "" : ", ") + recipe;
  }
  return fmt::format(
      "{} result(s) {} built by recipe {}; today's config builds {}, so `reprise process` or a "
      "backfill {} them: set the params of [stages.{}] back to keep them",
      report.outdated_by_today, dry_run ? "it would bring back were" : "brought back were", recipes,
      report.todays_recipe, dry_run ? "would rebuild" : "will rebuild", report.stage);
}

nlohmann::json RollbackJson(const RollbackReport& result, bool dry_run) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : result.items) {
    items.push_back({{"asset_id", item.asset_id},
                     {"from_recipe", item.from_recipe},
                     {"to_recipe", item.to_recipe}});
  }
  const std::string warning = RollbackWarning(result, dry_run);
  return {{"dry_run", dry_run},
          {"assets", result.assets},
          {"rolled_back", result.rolled_back},
          {"no_current", result.no_current},
          {"no_earlier", result.no_earlier},
          {"todays_recipe", result.todays_recipe},
          {"outdated_by_todays_recipe", result.outdated_by_today},
          {"warning", warning.empty() ? nlohmann::json(nullptr) : nlohmann::json(warning)},
          {"first_items", items}};
}

nlohmann::json BackfillJson(const catalog::Backfill& backfill) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& stage : backfill.stages) {
    stages.push_back({{"stage", stage.stage}, {"recipe", stage.recipe}});
  }
  auto time = [](int64_t micros) {
    return micros > 0 ? nlohmann::json(FormatRfc3339(micros)) : nlohmann::json(nullptr);
  };
  return {
      {"id", backfill.id},
      {"owner", backfill.owner.empty() ? nlohmann::json(nullptr) : nlohmann::json(backfill.owner)},
      {"stages", stages},
      {"mode", catalog::Name(backfill.mode)},
      {"selection", backfill.filter},
      {"options", backfill.options},
      {"state", catalog::Name(backfill.state)},
      {"stop_reason", backfill.stop_reason},
      {"driver",
       backfill.driver.empty() ? nlohmann::json(nullptr) : nlohmann::json(backfill.driver)},
      {"created_at", time(backfill.created_at)},
      {"started_at", time(backfill.started_at)},
      {"finished_at", time(backfill.finished_at)}};
}

namespace {

bool NeedsDriver(const catalog::Backfill& backfill) {
  return backfill.state == BackfillState::kRunning || backfill.state == BackfillState::kCancelling;
}

bool Driven(const Status& status) {
  // As Catalog::ListUndrivenBackfills sees it: a lease holds up to its expiry instant.
  return !status.backfill.driver.empty() && status.backfill.driver_expires_at >= status.now_micros;
}

}  // namespace

std::string DriverNote(const Status& status) {
  const auto& backfill = status.backfill;
  if (!NeedsDriver(backfill)) return "";
  if (Driven(status)) {
    return fmt::format("driven by {} (lease {})", backfill.driver,
                       catalog::DescribeLease(backfill.driver_expires_at, status.now_micros));
  }
  if (backfill.driver.empty()) {
    return "no process drives it: waiting for a worker (`reprise worker`, `reprise serve`) or "
           "`backfill resume` to take it over";
  }
  return fmt::format("its driver {} stopped: lease {} to take it over", backfill.driver,
                     catalog::DescribeLease(backfill.driver_expires_at, status.now_micros));
}

nlohmann::json StatusJson(const Status& status) {
  const auto& counts = status.counts;
  nlohmann::json outcomes = nlohmann::json::object();
  for (auto outcome : {catalog::ItemOutcome::kPending, catalog::ItemOutcome::kQueued,
                       catalog::ItemOutcome::kProcessed, catalog::ItemOutcome::kSkipped,
                       catalog::ItemOutcome::kFailed, catalog::ItemOutcome::kCancelled}) {
    outcomes[std::string(catalog::Name(outcome))] = counts.Count(outcome);
  }
  nlohmann::json failed = nlohmann::json::object();
  for (const auto& [code, n] : counts.failed_by_code) {
    auto examples = counts.failed_examples.find(code);
    failed[code] = {
        {"count", n},
        {"examples", examples == counts.failed_examples.end() ? nlohmann::json::array()
                                                              : nlohmann::json(examples->second)}};
  }
  nlohmann::json doc = BackfillJson(status.backfill);
  doc["plan"] = status.backfill.plan;
  doc["progress"] = {{"total", counts.total},
                     {"done", counts.Done()},
                     {"ended", counts.Ended()},
                     {"outcomes", outcomes},
                     {"skipped_by_reason", counts.skipped_by_reason},
                     {"failed_by_code", failed},
                     {"active_jobs", counts.active_jobs},
                     {"elapsed_seconds", status.elapsed_seconds},
                     {"eta_seconds", nullptr}};
  if (status.backfill.state == BackfillState::kRunning) {
    if (auto eta = RemainingSeconds(counts.Ended(), counts.total, status.elapsed_seconds)) {
      doc["progress"]["eta_seconds"] = *eta;
    }
  }
  doc["driver_lease"] = nullptr;
  if (NeedsDriver(status.backfill)) {
    doc["driver_lease"] = {
        {"expires_at", status.backfill.driver.empty()
                           ? nlohmann::json(nullptr)
                           : nlohmann::json(FormatRfc3339(status.backfill.driver_expires_at))},
        {"waiting_for_worker", !Driven(status)},
        {"note", DriverNote(status)}};
  }
  return doc;
}

nlohmann::json DiffJson(const Diff& diff) {
  nlohmann::json examples = nlohmann::json::array();
  for (const auto& item : diff.examples) {
    examples.push_back(
        {{"asset_id", item.asset_id}, {"stage", item.stage}, {"reason", item.reason}});
  }
  return {{"frozen", diff.frozen},
          {"live", diff.live},
          {"only_live", diff.only_live},
          {"only_frozen", diff.only_frozen},
          {"examples", examples}};
}

}  // namespace reprise::backfill
