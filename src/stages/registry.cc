#include "stages/registry.h"

#include <functional>
#include <set>

#include "stages/recipe.h"

namespace reprise::stages {

Result<void> Registry::Add(std::unique_ptr<Stage> stage) {
  if (Find(stage->Name()) != nullptr) {
    return Fail(ErrorCode::kConflict,
                "stage '" + std::string(stage->Name()) + "' registered twice");
  }
  stages_.push_back(std::move(stage));
  return {};
}

Result<void> Registry::Seal() {
  recipes_.clear();
  std::set<std::string, std::less<>> visiting;
  std::function<Result<std::string>(const Stage&)> resolve =
      [&](const Stage& stage) -> Result<std::string> {
    std::string name(stage.Name());
    if (auto it = recipes_.find(name); it != recipes_.end()) return it->second;
    if (!visiting.insert(name).second) {
      return Fail(ErrorCode::kInvalidArgument, "stage inputs form a cycle through '" + name + "'");
    }
    std::vector<std::string> input_recipes;
    for (const auto& input : stage.Inputs()) {
      const Stage* dep = Find(input);
      if (dep == nullptr) {
        return Fail(ErrorCode::kInvalidArgument, "stage '" + name + "' consumes stage '" + input +
                                                     "', which is unknown or not enabled");
      }
      if (IndexOf(input) > IndexOf(name)) {
        return Fail(ErrorCode::kInvalidArgument, "stage '" + name + "' consumes stage '" + input +
                                                     "', which is registered after it");
      }
      auto recipe = resolve(*dep);
      if (!recipe) return Fail(recipe.error());
      input_recipes.push_back(input + "=" + *recipe);
    }
    visiting.erase(name);
    std::string recipe = ComputeRecipe(name, stage.Version(), stage.Params(), input_recipes);
    recipes_[name] = recipe;
    return recipe;
  };
  for (const auto& stage : stages_) {
    auto recipe = resolve(*stage);
    if (!recipe) return Fail(recipe.error());
  }
  return {};
}

size_t Registry::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < stages_.size(); ++i) {
    if (stages_[i]->Name() == name) return i;
  }
  return stages_.size();
}

std::vector<const Stage*> Registry::WithInputs(const std::vector<const Stage*>& stages) const {
  std::vector<bool> wanted(stages_.size(), false);
  for (const Stage* stage : stages) {
    if (size_t i = IndexOf(stage->Name()); i < wanted.size()) wanted[i] = true;
  }
  // Inputs are registered before their consumers (Seal), so one pass from the last stage
  // back reaches every input of an input.
  for (size_t i = stages_.size(); i-- > 0;) {
    if (!wanted[i]) continue;
    for (const auto& input : stages_[i]->Inputs()) {
      if (size_t j = IndexOf(input); j < wanted.size()) wanted[j] = true;
    }
  }
  std::vector<const Stage*> closure;
  for (size_t i = 0; i < stages_.size(); ++i) {
    if (wanted[i]) closure.push_back(stages_[i].get());
  }
  return closure;
}

const Stage* Registry::Find(std::string_view name) const {
  for (const auto& stage : stages_) {
    if (stage->Name() == name) return stage.get();
  }
  return nullptr;
}

std::vector<const Stage*> Registry::All() const {
  std::vector<const Stage*> all;
  all.reserve(stages_.size());
  for (const auto& stage : stages_) all.push_back(stage.get());
  return all;
}

const std::string& Registry::Recipe(std::string_view name) const {
  static const std::string kNone;
  auto it = recipes_.find(name);
  return it == recipes_.end() ? kNone : it->second;
}

Result<std::vector<const Stage*>> Registry::Select(const std::vector<std::string>& names) const {
  if (names.empty()) return All();
  std::vector<const Stage*> selected;
  for (const auto& name : names) {
    const Stage* stage = Find(name);
    if (stage == nullptr) {
      std::string known;
      for (const auto& s : stages_) known += (known.empty() ? "" : ", ") + std::string(s->Name());
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown stage '" + name + "' (known: " + known + ")");
    }
    selected.push_back(stage);
  }
  return selected;
}

}  // namespace reprise::stages
