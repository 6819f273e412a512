// The registry of stages, filled explicitly at start-up by app/ (no static
// registration). It resolves each stage's recipe, including the recipes of the stages it
// consumes, and rejects unknown inputs and cycles.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class Registry {
 public:
  // Adds a stage; kConflict when the name is taken.
  [[nodiscard]] Result<void> Add(std::unique_ptr<Stage> stage);
  // Resolves recipes; call once after the last Add(). kInvalidArgument on an unknown
  // input, an input registered after its consumer (registration order is the order
  // stages run and are listed in), or a cycle.
  [[nodiscard]] Result<void> Seal();

  // nullptr when unknown.
  [[nodiscard]] const Stage* Find(std::string_view name) const;
  // Stages in registration order.
  [[nodiscard]] std::vector<const Stage*> All() const;
  // `stages` and every stage they consume, directly or through another, in registration
  // order (inputs before their consumers). After Seal().
  [[nodiscard]] std::vector<const Stage*> WithInputs(const std::vector<const Stage*>& stages) const;
  // Today's recipe of a registered stage (after Seal()).
  [[nodiscard]] const std::string& Recipe(std::string_view name) const;
  // Validates user-given stage names; empty input means all stages.
  [[nodiscard]] Result<std::vector<const Stage*>> Select(
      const std::vector<std::string>& names) const;

 private:
  // Registration index of `name`; the stage count when unknown.
  size_t IndexOf(std::string_view name) const;

  std::vector<std::unique_ptr<Stage>> stages_;
  std::map<std::string, std::string, std::less<>> recipes_;
};

}  // namespace reprise::stages
