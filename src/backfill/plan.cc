#include "backfill/plan.h"

#include <algorithm>
#include <utility>

namespace reprise::backfill {

using catalog::BackfillMode;
using catalog::PairDecision;
using catalog::StagePair;
using catalog::StageStatus;

namespace {

PairDecision Select(std::string reason) { return {PairDecision::kSelect, std::move(reason)}; }
PairDecision Leave(std::string reason) { return {PairDecision::kLeave, std::move(reason)}; }

// Which statuses a mode selects (skipped never: the stage does not apply).
bool Selects(BackfillMode mode, StageStatus status, bool include_quarantined) {
  switch (status) {
    case StageStatus::kMissing:
      return mode != BackfillMode::kFailed;
    case StageStatus::kOutdated:
      return mode == BackfillMode::kOutdated || mode == BackfillMode::kAll;
    case StageStatus::kFailed:
      return mode == BackfillMode::kFailed || mode == BackfillMode::kAll;
    case StageStatus::kQuarantined:
      return include_quarantined && (mode == BackfillMode::kFailed || mode == BackfillMode::kAll);
    case StageStatus::kCurrent:
      return mode == BackfillMode::kAll;
    case StageStatus::kSkipped:
      break;
  }
  return false;
}

}  // namespace

PairDecision Classify(const StagePair& pair, const std::string& today_recipe, BackfillMode mode,
                      bool include_quarantined) {
  if (pair.active) return Leave("already_active");
  const StageStatus status = catalog::StatusOf(pair, today_recipe);
  if (status == StageStatus::kSkipped) {
    PairDecision left =
        Leave(pair.latest_skip_reason.empty() ? "not_applicable" : pair.latest_skip_reason);
    left.not_applicable = true;
    return left;
  }
  std::string name(catalog::Name(status));
  if (!Selects(mode, status, include_quarantined)) return Leave(std::move(name));
  return Select(status == StageStatus::kCurrent ? "rebuild" : std::move(name));
}

PairDecision ClassifyInput(const StagePair& pair, const std::string& today_recipe,
                           BackfillMode mode, PairDecision own) {
  if (own.action == PairDecision::kSelect || pair.active) return own;
  const StageStatus status = catalog::StatusOf(pair, today_recipe);
  if (status == StageStatus::kMissing || status == StageStatus::kOutdated ||
      (status == StageStatus::kFailed &&
       (mode == BackfillMode::kFailed || mode == BackfillMode::kAll))) {
    return Select("input");
  }
  return own;
}

PairDecision Selector::operator()(const StagePair& pair) {
  const size_t index = pair.stage_index;
  if (pair.asset_id != needs_asset_) {
    needs_asset_ = pair.asset_id;
    needed_.assign(stages_.size(), false);
  }
  const std::string& recipe = stages_.at(index).recipe;
  const bool input_only = index < graph_.input_only.size() && graph_.input_only[index];
  PairDecision decision = Classify(pair, recipe, mode_, include_quarantined_);
  if (input_only && decision.action == PairDecision::kSelect) {
    // Not asked for: only as an input. Left with its status ("rebuild" is a current one).
    decision = Leave(decision.reason == "rebuild" ? "current" : decision.reason);
  }
  if (needed_.at(index)) decision = ClassifyInput(pair, recipe, mode_, std::move(decision));
  if (decision.action != PairDecision::kSelect) return decision;
  if (index < graph_.inputs.size()) {
    for (size_t input : graph_.inputs[index]) needed_.at(input) = true;
  }
  if (pair.asset_id != last_selected_asset_) {
    if (limit_ && assets_selected_ >= *limit_) {
      limited_ = true;
      return {PairDecision::kStop, ""};
    }
    ++assets_selected_;
    last_selected_asset_ = pair.asset_id;
  }
  return decision;
}

Result<std::map<std::string, CostModel>> ParseCostModels(const nlohmann::json& costs) {
  std::map<std::string, CostModel> models;
  if (costs.is_null()) return models;
  if (!costs.is_object()) return Fail(ErrorCode::kInvalidArgument, "[costs] must be a table");
  for (const auto& [stage, table] : costs.items()) {
    if (!table.is_object()) {
      return Fail(ErrorCode::kInvalidArgument, "[costs." + stage + "] must be a table");
    }
    CostModel model;
    for (const auto& [key, value] : table.items()) {
      double* field = key == "per_asset"                 ? &model.per_asset
                      : key == "per_media_minute"        ? &model.per_media_minute
                      : key == "per_1k_tokens"           ? &model.per_1k_tokens
                      : key == "tokens_per_media_minute" ? &model.tokens_per_media_minute
                                                         : nullptr;
      if (field == nullptr || !value.is_number() || value.get<double>() < 0) {
        return Fail(ErrorCode::kInvalidArgument,
                    "costs." + stage + "." + key +
                        ": expected per_asset, per_media_minute, per_1k_tokens or "
                        "tokens_per_media_minute with a number >= 0");
      }
      *field = value.get<double>();
    }
    models[stage] = model;
  }
  return models;
}

PlanBuilder::PlanBuilder(std::vector<catalog::StageRecipe> stages, BackfillMode mode,
                         bool include_quarantined, std::optional<int64_t> limit, int preview,
                         const StageGraph& graph)
    : selector_(stages, mode, include_quarantined, limit, graph), preview_(preview) {
  for (size_t i = 0; i < stages.size(); ++i) {
    const auto& stage = stages[i];
    StagePlan plan;
    plan.stage = stage.stage;
    plan.recipe = stage.recipe;
    plan.input_only = i < graph.input_only.size() && graph.input_only[i];
    report_.stages.push_back(std::move(plan));
  }
}

PairDecision PlanBuilder::Add(const StagePair& pair) {
  PairDecision decision = selector_(pair);
  if (decision.action == PairDecision::kStop) return decision;
  if (pair.asset_id != last_asset_) {
    ++report_.assets_seen;
    last_asset_ = pair.asset_id;
  }
  StagePlan& stage = report_.stages.at(pair.stage_index);
  if (decision.action == PairDecision::kLeave) {
    ++stage.left_by_reason[decision.reason];
    if (decision.not_applicable) ++stage.not_applicable[decision.reason];
    return decision;
  }
  ++stage.selected;
  ++stage.selected_by_reason[decision.reason];
  jobs_.Add(pair.asset_id, pair.stage_index, pair.duration_seconds);
  std::string from = pair.FromRecipe(stage.recipe);
  if (!from.empty() && from != stage.recipe) ++stage.outdated_from[from];
  if (pair.duration_seconds) stage.media_seconds += *pair.duration_seconds;
  ++report_.items;
  if (static_cast<int>(report_.first_items.size()) < preview_) {
    report_.first_items.push_back({pair.asset_id, stage.stage, decision.reason, std::move(from)});
  }
  return decision;
}

std::string_view Name(HistorySource source) {
  switch (source) {
    case HistorySource::kRecipe:
      return "recipe";
    case HistorySource::kOtherRecipes:
      return "other_recipes";
    case HistorySource::kNone:
      break;
  }
  return "none";
}

PlanReport PlanBuilder::Finish(const std::map<std::string, StageRuns>& history,
                               const std::map<std::string, CostModel>& costs,
                               const Pacing& pacing) {
  report_.assets_selected = selector_.assets_selected();
  report_.limited = selector_.limited();
  report_.concurrency = std::max(pacing.concurrency, 1);
  report_.rate_per_second = pacing.rate_per_second;
  report_.delay_seconds = pacing.delay_seconds;
  std::vector<StageTime> times;
  for (auto& stage : report_.stages) {
    if (auto found = history.find(stage.stage); found != history.end()) {
      stage.history = found->second.history;
      stage.history_source = found->second.source;
      stage.history_alone = found->second.alone;
    }
    const auto& past = stage.history;
    times.push_back({past.median_seconds, past.median_seconds_per_media_minute});
    stage.estimated_seconds = jobs_.StageSeconds(times.size() - 1, times.back());
    stage.estimated_bytes = past.median_bytes * static_cast<double>(stage.selected);
    const double media_minutes = stage.media_seconds / 60.0;
    if (auto cost = costs.find(stage.stage); cost != costs.end()) {
      const CostModel& model = cost->second;
      stage.estimated_cost =
          model.per_asset * static_cast<double>(stage.selected) +
          model.per_media_minute * media_minutes +
          model.per_1k_tokens * model.tokens_per_media_minute * media_minutes / 1000.0;
    }
    report_.estimated_cost += stage.estimated_cost;
    report_.estimated_bytes += stage.estimated_bytes;
  }
  const int64_t jobs = jobs_.jobs();
  report_.work_seconds = jobs_.WorkSeconds(times);
  const double per_job = jobs > 0 ? report_.work_seconds / static_cast<double>(jobs) : 0;
  report_.estimated_seconds = PacedSeconds(jobs, per_job, pacing);
  report_.pacing_seconds = PacingSeconds(jobs, pacing);
  return report_;
}

nlohmann::json PlanJson(const PlanReport& report) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& stage : report.stages) {
    nlohmann::json history = {{"samples", stage.history.samples},
                              {"source", Name(stage.history_source)},
                              {"alone", stage.history_alone}};
    stages.push_back({{"stage", stage.stage},
                      {"recipe", stage.recipe},
                      {"input_only", stage.input_only},
                      {"selected", stage.selected},
                      {"selected_by_reason", stage.selected_by_reason},
                      {"outdated_from", stage.outdated_from},
                      {"left_by_reason", stage.left_by_reason},
                      {"not_applicable", stage.not_applicable},
                      {"media_seconds", stage.media_seconds},
                      {"history", history},
                      {"estimated_seconds", stage.estimated_seconds},
                      {"estimated_cost", stage.estimated_cost},
                      {"estimated_bytes", stage.estimated_bytes}});
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : report.first_items) {
    items.push_back({{"asset_id", item.asset_id},
                     {"stage", item.stage},
                     {"reason", item.reason},
                     {"from_recipe", item.from_recipe}});
  }
  return {{"stages", stages},
          {"assets_seen", report.assets_seen},
          {"assets_selected", report.assets_selected},
          {"items", report.items},
          {"limited", report.limited},
          {"first_items", items},
          {"concurrency", report.concurrency},
          {"rate_per_second", report.rate_per_second},
          {"delay_seconds", report.delay_seconds},
          {"work_seconds", report.work_seconds},
          {"pacing_seconds", report.pacing_seconds},
          {"estimated_seconds", report.estimated_seconds},
          {"estimated_cost", report.estimated_cost},
          {"estimated_bytes", report.estimated_bytes}};
}

}  // namespace reprise::backfill
