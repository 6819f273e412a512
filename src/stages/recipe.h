// The recipe of a stage: a hash of (name, version, params, recipes of its inputs). A
// derivative is current when its stored recipe equals today's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace reprise::stages {

// First 16 hex digits of SHA-256 over the canonical JSON
// {"inputs":[...],"name":..,"params":..,"version":..} (keys sorted, no spaces).
std::string ComputeRecipe(std::string_view name, int version, const nlohmann::json& params,
                          const std::vector<std::string>& input_recipes);

}  // namespace reprise::stages
