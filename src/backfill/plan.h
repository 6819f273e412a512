// Which (asset, stage) pairs a backfill selects, and the dry-run report of a selection.
//
// Classify() is the one rule, applied per pair to what the catalog reports
// (catalog::StagePair). A pair a job holds now is left as "already_active"; every other
// pair has the status catalog::StatusOf gives it, in the vocabulary of
// catalog::StageStatus that `reprise stages` counts with:
//   missing      never attempted (no result of any recipe)
//   outdated     the latest result came from another recipe than today's, whatever its
//                outcome: built, failed, or skipped
//   failed       today's recipe's latest attempt failed
//   skipped      today's recipe decided the stage does not apply (its skip reason)
//   current      built by today's recipe
//   quarantined  today's recipe failed on this content too often
// Per mode:
//   outdated  selects missing and outdated                   (reasons "missing", "outdated")
//   missing   selects missing only                           ("missing")
//   failed    selects failed, and quarantined only with include_quarantined
//                                                            ("failed", "quarantined")
//   all       selects every pair but skipped ones, quarantined ones only with
//             include_quarantined   ("rebuild" for current ones, else the status name)
// Every pair a mode does not select is left with its status name as the reason ("current",
// "outdated", "missing", "failed", "quarantined"), or, when the stage does not apply, with
// the stage's own skip reason ("no_video_stream", ...) and marked not applicable
// (PairDecision::not_applicable, StagePlan::not_applicable) — in every mode, mode all
// included: forcing a rebuild cannot make a stage apply.
//
// An older recipe's skip or failure is outdated, so mode outdated selects it: under
// today's recipe the stage may decide differently (a new param can make it apply, or
// succeed), and until it has run with today's recipe nothing says it would not. Its item
// names that older recipe as from_recipe (StagePair::FromRecipe). Failures of today's
// recipe are not retried by mode outdated: that is what mode failed is for.
//
// Selector adds the limit: at most `limit` assets, counted when their first pair is
// selected; the scan stops at the first pair of the asset after the last one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "backfill/estimate.h"
#include "catalog/backfill_types.h"
#include "catalog/catalog.h"
#include "core/error.h"

namespace reprise::backfill {

catalog::PairDecision Classify(const catalog::StagePair& pair, const std::string& today_recipe,
                               catalog::BackfillMode mode, bool include_quarantined);

// How the stages of a plan relate, by index into its stages: the stages each consumes,
// and which are in the plan only as inputs of others (not asked for). Consumers come
// before their inputs in a plan's stages, so the pairs of one asset reach the selector
// consumers first.
struct StageGraph {
  std::vector<std::vector<size_t>> inputs;
  std::vector<bool> input_only;
};

// An input of a stage selected for an asset is selected too (reason "input") when it is
// missing or outdated, or failed in modes failed and all: a consumer is built from its
// inputs under today's recipes, in the same job. A stage in the plan only as an input is
// selected for nothing else.
catalog::PairDecision ClassifyInput(const catalog::StagePair& pair, const std::string& today_recipe,
                                    catalog::BackfillMode mode, catalog::PairDecision own);

class Selector {
 public:
  Selector(std::vector<catalog::StageRecipe> stages, catalog::BackfillMode mode,
           bool include_quarantined, std::optional<int64_t> limit, StageGraph graph = {})
      : stages_(std::move(stages)),
        mode_(mode),
        include_quarantined_(include_quarantined),
        limit_(limit),
        graph_(std::move(graph)) {}

  catalog::PairDecision operator()(const catalog::StagePair& pair);

  [[nodiscard]] int64_t assets_selected() const { return assets_selected_; }
  // True when the limit cut the scan short.
  [[nodiscard]] bool limited() const { return limited_; }

 private:
  std::vector<catalog::StageRecipe> stages_;
  catalog::BackfillMode mode_;
  bool include_quarantined_;
  std::optional<int64_t> limit_;
  StageGraph graph_;
  std::string needs_asset_;   // the asset needed_ is about
  std::vector<bool> needed_;  // stages a selected consumer of needs_asset_ consumes
  int64_t assets_selected_ = 0;
  std::string last_selected_asset_;
  bool limited_ = false;
};

// A paid stage's price list ([costs.STAGE] in the config): per asset, per media minute,
// and per 1,000 tokens with the tokens a media minute makes.
struct CostModel {
  double per_asset = 0;
  double per_media_minute = 0;
  double per_1k_tokens = 0;
  double tokens_per_media_minute = 0;
};
// kInvalidArgument for an unknown key or a negative or non-numeric value.
Result<std::map<std::string, CostModel>> ParseCostModels(const nlohmann::json& costs);

// Whose past runs a stage's estimate comes from: today's recipe's; other recipes' when
// today's has none yet (a recipe change can make a stage much slower or faster); or
// none at all, when the stage's time is left out of the estimate.
enum class HistorySource { kRecipe, kOtherRecipes, kNone };
std::string_view Name(HistorySource source);  // "recipe", "other_recipes", "none"

struct StageRuns {
  catalog::StageHistory history;
  HistorySource source = HistorySource::kNone;
  bool alone = false;  // only runs in which the stage was alone in its pass
};

struct StagePlan {
  std::string stage;
  std::string recipe;
  bool input_only = false;  // in the plan only as an input of another stage (StageGraph)
  int64_t selected = 0;
  std::map<std::string, int64_t> selected_by_reason;
  std::map<std::string, int64_t> outdated_from;  // FromRecipe -> selected pairs moving from it
  std::map<std::string, int64_t> left_by_reason;
  // The part of left_by_reason the stage does not apply to, by skip reason.
  std::map<std::string, int64_t> not_applicable;
  double media_seconds = 0;  // of the selected pairs' assets (where known)
  catalog::StageHistory history;
  HistorySource history_source = HistorySource::kNone;
  bool history_alone = false;
  double estimated_seconds = 0;  // of work, as if the stage ran alone
  double estimated_cost = 0;
  double estimated_bytes = 0;
};

struct PlanItem {
  std::string asset_id;
  std::string stage;
  std::string reason;
  std::string from_recipe;
};

struct PlanReport {
  std::vector<StagePlan> stages;
  int64_t assets_seen = 0;
  int64_t assets_selected = 0;
  int64_t items = 0;
  bool limited = false;
  std::vector<PlanItem> first_items;
  int concurrency = 1;
  double rate_per_second = 0;
  double delay_seconds = 0;
  double work_seconds = 0;       // of all jobs, one decode pass per asset (estimate.h)
  double pacing_seconds = 0;     // the least the rate and the delay allow, work aside
  double estimated_seconds = 0;  // wall time of the run, paced (estimate.h)
  double estimated_cost = 0;
  double estimated_bytes = 0;
};

// Counts a selection pair by pair (the same Selector a real run uses), keeping the first
// `preview` selected items, then fills the estimates from the stages' history.
class PlanBuilder {
 public:
  PlanBuilder(std::vector<catalog::StageRecipe> stages, catalog::BackfillMode mode,
              bool include_quarantined, std::optional<int64_t> limit, int preview,
              const StageGraph& graph = {});

  // Feed every scanned pair; returns the selector's decision.
  catalog::PairDecision Add(const catalog::StagePair& pair);
  // Estimates from history (per stage), costs and the run's pacing.
  PlanReport Finish(const std::map<std::string, StageRuns>& history,
                    const std::map<std::string, CostModel>& costs, const Pacing& pacing);

 private:
  Selector selector_;
  JobTally jobs_;
  PlanReport report_;
  int preview_;
  std::string last_asset_;
};

nlohmann::json PlanJson(const PlanReport& report);

}  // namespace reprise::backfill
