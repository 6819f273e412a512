#include "stages/recipe.h"

#include "core/hash.h"

namespace reprise::stages {

std::string ComputeRecipe(std::string_view name, int version, const nlohmann::json& params,
                          const std::vector<std::string>& input_recipes) {
  // nlohmann::json objects keep keys sorted, so dump() is canonical.
  nlohmann::json doc = {
      {"name", name}, {"version", version}, {"params", params}, {"inputs", input_recipes}};
  auto digest = Sha256Of(doc.dump());
  return HexLower(digest).substr(0, 16);
}

}  // namespace reprise::stages
