#include "catalog/backfill_plan.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace reprise::catalog {
namespace {

using json = nlohmann::json;

constexpr size_t kMembers = 9;   // stage .. error_code
constexpr size_t kRequired = 5;  // stage .. updated_at

void AppendString(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

Result<std::vector<PlanItem>> Malformed(std::string_view why) {
  return Fail(ErrorCode::kInternal, "malformed backfill_plan.items: " + std::string(why));
}

}  // namespace

std::string EncodePlanItems(const std::vector<PlanItem>& items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '[';
    out += std::to_string(item.stage);
    out += ',';
    AppendString(out, item.reason);
    out += ',';
    AppendString(out, item.from_recipe);
    out += ',';
    AppendString(out, Name(item.outcome));
    out += ',';
    out += std::to_string(item.updated_at);
    // The optional members, up to the last one not at its default.
    size_t last = kRequired;
    if (item.job_id != 0) last = 6;
    if (item.after_derivative != 0) last = 7;
    if (!item.skip_reason.empty()) last = 8;
    if (!item.error_code.empty()) last = 9;
    if (last > 5) (out += ',') += std::to_string(item.job_id);
    if (last > 6) (out += ',') += std::to_string(item.after_derivative);
    if (last > 7) AppendString(out += ',', item.skip_reason);
    if (last > 8) AppendString(out += ',', item.error_code);
    out += ']';
  }
  out += ']';
  return out;
}

Result<std::vector<PlanItem>> DecodePlanItems(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Malformed("not JSON");
  if (!doc.is_array()) return Malformed("not an array");
  std::vector<PlanItem> items;
  items.reserve(doc.size());
  for (const auto& member : doc) {
    if (!member.is_array() || member.size() < kRequired || member.size() > kMembers) {
      return Malformed("an item is not an array of 5 to 9 members");
    }
    auto integer = [&](size_t i, int64_t& out) {
      if (i >= member.size()) return true;
      if (!member[i].is_number_integer()) return false;
      out = member[i].get<int64_t>();
      return true;
    };
    auto text_at = [&](size_t i, std::string& out) {
      if (i >= member.size()) return true;
      if (!member[i].is_string()) return false;
      out = member[i].get<std::string>();
      return true;
    };
    PlanItem item;
    std::string outcome;
    if (!integer(0, item.stage) || !text_at(1, item.reason) || !text_at(2, item.from_recipe) ||
        !text_at(3, outcome) || !integer(4, item.updated_at) || !integer(5, item.job_id) ||
        !integer(6, item.after_derivative) || !text_at(7, item.skip_reason) ||
        !text_at(8, item.error_code)) {
      return Malformed("a member has the wrong type");
    }
    if (item.stage < 0) return Malformed("a negative stage");
    auto parsed = ParseItemOutcome(outcome);
    if (!parsed) return Malformed("unknown outcome " + outcome);
    item.outcome = *parsed;
    items.push_back(std::move(item));
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const PlanItem& a, const PlanItem& b) { return a.stage < b.stage; });
  for (size_t i = 1; i < items.size(); ++i) {
    if (items[i].stage == items[i - 1].stage) return Malformed("a stage appears twice");
  }
  return items;
}

PlanRowTally TallyPlanItems(const std::vector<PlanItem>& items) {
  PlanRowTally tally;
  for (const auto& item : items) {
    if (item.outcome == ItemOutcome::kPending) ++tally.pending;
    if (item.outcome == ItemOutcome::kFailed) ++tally.failed;
  }
  return tally;
}

std::string_view CountDetail(const PlanItem& item) {
  if (item.outcome == ItemOutcome::kSkipped) return item.skip_reason;
  if (item.outcome == ItemOutcome::kFailed) return item.error_code;
  return {};
}

void PlanCountDeltas::Add(const PlanItem& item, int64_t n) {
  changes_[{std::string(Name(item.outcome)), std::string(CountDetail(item))}] += n;
}

void PlanCountDeltas::Move(const PlanItem& before, const PlanItem& after) {
  Add(before, -1);
  Add(after, 1);
}

Result<void> AddCountRow(BackfillCounts& counts, std::string_view outcome,
                         const std::string& detail, int64_t n) {
  if (n == 0) return {};
  auto parsed = ParseItemOutcome(outcome);
  if (!parsed) return Fail(std::move(parsed.error()));
  counts.total += n;
  counts.by_outcome[*parsed] += n;
  if (*parsed == ItemOutcome::kSkipped) counts.skipped_by_reason[detail] += n;
  if (*parsed == ItemOutcome::kFailed) counts.failed_by_code[detail] += n;
  return {};
}

bool AddFailedExamples(BackfillCounts& counts, const std::string& asset_id,
                       const std::vector<PlanItem>& items) {
  for (const auto& item : items) {
    if (item.outcome != ItemOutcome::kFailed) continue;
    auto& examples = counts.failed_examples[item.error_code];
    if (examples.size() < 3 &&
        std::find(examples.begin(), examples.end(), asset_id) == examples.end()) {
      examples.push_back(asset_id);
    }
  }
  for (const auto& [code, n] : counts.failed_by_code) {
    auto it = counts.failed_examples.find(code);
    if (it == counts.failed_examples.end() ||
        static_cast<int64_t>(it->second.size()) < std::min<int64_t>(n, 3)) {
      return false;
    }
  }
  return true;
}

Result<bool> PlanItemPage::Add(int64_t seq, std::string_view asset_id,
                               const std::vector<PlanItem>& items) {
  for (const auto& item : items) {
    if (static_cast<int64_t>(items_.size()) >= limit_) return false;
    if (outcome_ && item.outcome != *outcome_) continue;
    if (skip_ > 0) {
      --skip_;
      continue;
    }
    if (item.stage >= static_cast<int64_t>(stages_.size())) {
      return Fail(ErrorCode::kInternal, "a backfill plan item names stage " +
                                            std::to_string(item.stage) + " of " +
                                            std::to_string(stages_.size()));
    }
    const StageRecipe& stage = stages_[static_cast<size_t>(item.stage)];
    BackfillItem out;
    out.asset_id = std::string(asset_id);
    out.stage = stage.stage;
    out.reason = item.reason;
    out.from_recipe = item.from_recipe;
    out.to_recipe = stage.recipe;
    out.outcome = item.outcome;
    out.skip_reason = item.skip_reason;
    out.error_code = item.error_code;
    out.job_id = item.job_id;
    out.updated_at = item.updated_at;
    items_.emplace_back(seq, std::move(out));
  }
  return static_cast<int64_t>(items_.size()) < limit_;
}

Result<void> SettleHeldItems(PlanRow& row, const std::vector<StageRecipe>& stages,
                             const std::vector<std::string>& held_stages, int64_t job_id,
                             int64_t now, JobState job_state, std::string_view error_code,
                             const LookAtHeldItem& look, PlanCountDeltas& counts) {
  for (auto& item : row.items) {
    if (item.outcome != ItemOutcome::kQueued || item.stage >= static_cast<int64_t>(stages.size())) {
      continue;
    }
    const StageRecipe& stage = stages[static_cast<size_t>(item.stage)];
    if (std::find(held_stages.begin(), held_stages.end(), stage.stage) == held_stages.end()) {
      continue;
    }
    auto seen = look(stage, item);
    if (!seen) return Fail(std::move(seen.error()));
    const ItemEnd end = EndOfQueuedItem(seen->attempt, seen->is_current, job_state, error_code);
    auto outcome = ParseItemOutcome(end.outcome);
    if (!outcome) return Fail(std::move(outcome.error()));
    const PlanItem before = item;
    item.outcome = *outcome;
    item.skip_reason = end.skip_reason;
    item.error_code = end.error_code;
    item.job_id = job_id;
    item.updated_at = now;
    counts.Move(before, item);
  }
  return {};
}

std::vector<BackfillItem> PlanItemPage::Take() {
  std::vector<BackfillItem> items;
  items.reserve(items_.size());
  for (auto& [seq, item] : items_) items.push_back(std::move(item));
  items_.clear();
  return items;
}

}  // namespace reprise::catalog
