// Registries of stages as the app builds them: the built-in stages, optionally one stage
// of the test's own, sealed.
//
// Header-only: reprise_test_support links reprise_core alone, and the binaries that use
// this already link the stages library.
#pragma once

#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "stages/builtin.h"
#include "stages/registry.h"

namespace reprise::testing {

// Adds the built-in stages configured by `stage_config` (as in the config file's
// "stages" section), then `extra` when given, and seals `registry`; on failure says
// which step failed and why. Use as ASSERT_TRUE(SealBuiltinStages(registry_, ...)).
[[nodiscard]] inline ::testing::AssertionResult SealBuiltinStages(
    stages::Registry& registry, const nlohmann::json& stage_config = nlohmann::json::object(),
    std::unique_ptr<stages::Stage> extra = nullptr) {
  if (auto added = stages::AddBuiltinStages(registry, stage_config); !added) {
    return ::testing::AssertionFailure() << "built-in stages: " << added.error().ToString();
  }
  if (extra != nullptr) {
    std::string name(extra->Name());
    if (auto added = registry.Add(std::move(extra)); !added) {
      return ::testing::AssertionFailure() << "stage " << name << ": " << added.error().ToString();
    }
  }
  if (auto sealed = registry.Seal(); !sealed) {
    return ::testing::AssertionFailure() << "sealing: " << sealed.error().ToString();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace reprise::testing
