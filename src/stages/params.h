// Stage params: each stage's defaults merged with the `[stages.NAME]` overrides from the
// config. The merged object is what the stage reports as Params() and what its recipe
// hashes, so an unknown or mistyped override must fail loudly at start-up rather than
// silently fork recipes.
//
// Errors are kInvalidArgument and name the stage and the param.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace reprise::stages {

// `overrides` may be null (no config) or an object whose keys all exist in `defaults`
// with a value of the same JSON type (any number where the default is a float).
Result<nlohmann::json> MergeParams(std::string_view stage, const nlohmann::json& defaults,
                                   const nlohmann::json& overrides);

// An integer param of merged params, checked to lie in [min, max].
Result<int> IntParam(std::string_view stage, const nlohmann::json& params, std::string_view name,
                     int min, int max);

// A number param of merged params (integer or float), checked to lie in [min, max].
Result<double> NumberParam(std::string_view stage, const nlohmann::json& params,
                           std::string_view name, double min, double max);

// A stage table split into its params and the deployment key `service`: the name of the
// `[services.NAME]` the stage calls (stages/stage_services.h). Which endpoint serves a
// model never changes what the stage produces, so `service` stays out of Params() and
// the recipe; `service` is `default_service` when the table does not set it.
struct StageTable {
  nlohmann::json params;  // the overrides without `service` (null when there were none)
  std::string service;
};
// kInvalidArgument when `service` is set to anything but a non-empty string.
Result<StageTable> SplitServiceKey(std::string_view stage, const nlohmann::json& overrides,
                                   std::string_view default_service);

}  // namespace reprise::stages
