#include "catalog/pair_chunk.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

namespace reprise::catalog {

PairChunk::Keys PairChunk::Sort(std::string Asset::*key) const {
  Keys sorted;
  sorted.order.reserve(assets_.size());
  for (size_t i = 0; i < assets_.size(); ++i) sorted.order.push_back(i);
  std::sort(sorted.order.begin(), sorted.order.end(),
            [&](size_t x, size_t y) { return assets_[x].*key < assets_[y].*key; });
  std::vector<std::string_view> keys;
  for (size_t i = 0; i < sorted.order.size(); ++i) {
    const std::string& value = assets_[sorted.order[i]].*key;
    if (!keys.empty() && value == keys.back()) continue;
    keys.emplace_back(value);
    sorted.runs.push_back(i);
  }
  sorted.runs.push_back(sorted.order.size());
  sorted.json = nlohmann::json(keys).dump();
  return sorted;
}

template <class Apply>
Result<void> PairChunk::ForAsset(size_t position, std::string_view stage, Apply&& apply) {
  const size_t stage_count = stages_.size();
  for (size_t s = 0; s < stage_count; ++s) {
    if (stages_[s].stage != stage) continue;
    REPRISE_TRY(apply(slots_[position * stage_count + s], s));
  }
  return {};
}

template <class Apply>
Result<void> PairChunk::ForSlots(const Keys& keys, size_t key, std::string_view stage,
                                 Apply&& apply) {
  if (key + 1 >= keys.runs.size()) {
    return Fail(ErrorCode::kInternal, "backfill scan: a lookup row out of range");
  }
  for (size_t i = keys.runs[key]; i < keys.runs[key + 1]; ++i) {
    REPRISE_TRY(ForAsset(keys.order[i], stage, apply));
  }
  return {};
}

namespace {

// Details given as values (a backend that reads every column anyway).
struct GivenDetails final : PairChunk::Details {
  std::string_view state, skip_reason, error_code;
  GivenDetails(std::string_view s, std::string_view r, std::string_view c)
      : state(s), skip_reason(r), error_code(c) {}
  [[nodiscard]] std::string_view State() const override { return state; }
  [[nodiscard]] std::string_view SkipReason() const override { return skip_reason; }
  [[nodiscard]] std::string_view ErrorCode() const override { return error_code; }
};

}  // namespace

Result<void> PairChunk::AddDerivative(const Keys& keys, size_t key, std::string_view stage,
                                      int64_t id, std::string_view recipe, bool is_current,
                                      std::string_view state, std::string_view skip_reason,
                                      std::string_view error_code) {
  return AddDerivative(keys, key, stage, id, recipe, is_current,
                       GivenDetails(state, skip_reason, error_code));
}

Result<void> PairChunk::AddDerivative(const Keys& keys, size_t key, std::string_view stage,
                                      int64_t id, std::string_view recipe, bool is_current,
                                      const Details& details) {
  return ForSlots(keys, key, stage, [&](Slot& slot, size_t s) {
    return Derive(slot, s, id, recipe, is_current, details);
  });
}

Result<void> PairChunk::AddDerivativeOfLast(std::string_view stage, int64_t id,
                                            std::string_view recipe, bool is_current,
                                            std::string_view state, std::string_view skip_reason,
                                            std::string_view error_code) {
  if (assets_.empty()) {
    return Fail(ErrorCode::kInternal, "backfill scan: a derivative row before its asset");
  }
  const GivenDetails details(state, skip_reason, error_code);
  return ForAsset(assets_.size() - 1, stage, [&](Slot& slot, size_t s) {
    return Derive(slot, s, id, recipe, is_current, details);
  });
}

Result<void> PairChunk::Derive(Slot& slot, size_t s, int64_t id, std::string_view recipe,
                               bool is_current, const Details& details) {
  const bool todays = recipe == stages_[s].recipe;
  int ref = Slot::kNone;  // the row's recipe, kept once for C and R
  auto recipe_ref = [&] {
    if (ref == Slot::kNone) {
      ref = todays ? Slot::kTodays : static_cast<int>(other_recipes_.size());
      if (!todays) other_recipes_.emplace_back(recipe);
    }
    return ref;
  };
  if (is_current) slot.current = recipe_ref();
  if (id <= slot.result_id && (!todays || id <= slot.latest_id)) return {};
  auto parsed = ParseDerivativeState(details.State());
  if (!parsed) return Fail(std::move(parsed.error()));
  if (*parsed != DerivativeState::kDone && *parsed != DerivativeState::kFailed &&
      *parsed != DerivativeState::kSkipped) {
    return {};
  }
  if (id > slot.result_id) {
    slot.result_id = id;
    slot.result = recipe_ref();
  }
  if (!todays || id <= slot.latest_id) return {};
  slot.latest_id = id;
  slot.latest = *parsed;
  slot.latest_skip_reason.assign(details.SkipReason());
  slot.latest_error_code.assign(details.ErrorCode());
  return {};
}

Result<void> PairChunk::MarkActive(const Keys& keys, size_t key, std::string_view stage) {
  return ForSlots(keys, key, stage, [](Slot& slot, size_t) -> Result<void> {
    slot.active = true;
    return {};
  });
}

Result<void> PairChunk::MarkQuarantined(const Keys& keys, size_t key, std::string_view stage,
                                        std::string_view recipe) {
  return ForSlots(keys, key, stage, [&](Slot& slot, size_t s) -> Result<void> {
    if (recipe == stages_[s].recipe) slot.quarantined = true;
    return {};
  });
}

void PairChunk::AssignRecipe(std::string& recipe, int ref, size_t stage) const {
  if (ref == Slot::kTodays) {
    recipe.assign(stages_[stage].recipe);
  } else if (ref >= 0) {
    recipe.assign(other_recipes_[static_cast<size_t>(ref)]);
  } else {
    recipe.clear();
  }
}

bool PairChunk::Visit(const Catalog::PairVisitor& visit) {
  bool more = true;
  for (size_t i = 0; more && i < assets_.size(); ++i) {
    visiting_.asset_id.assign(assets_[i].id);
    visiting_.created_at = assets_[i].created_at;
    visiting_.duration_seconds = assets_[i].duration_seconds;
    for (size_t s = 0; s < stages_.size(); ++s) {
      const Slot& slot = slots_[i * stages_.size() + s];
      visiting_.stage_index = s;
      AssignRecipe(visiting_.current_recipe, slot.current, s);
      AssignRecipe(visiting_.result_recipe, slot.result, s);
      visiting_.latest = slot.latest;
      visiting_.latest_skip_reason.assign(slot.latest_skip_reason);
      visiting_.latest_error_code.assign(slot.latest_error_code);
      visiting_.quarantined = slot.quarantined;
      visiting_.active = slot.active;
      if (!visit(visiting_)) {
        more = false;
        break;
      }
    }
  }
  assets_.clear();
  slots_.clear();
  other_recipes_.clear();
  return more;
}

}  // namespace reprise::catalog
