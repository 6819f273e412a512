#include "stages/builtin.h"

#include <string>

#include "stages/probe_stage.h"
#include "stages/thumbnail_stage.h"

namespace reprise::stages {

Result<void> AddBuiltinStages(Registry& registry, const nlohmann::json& stage_config) {
  if (!stage_config.is_null() && !stage_config.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "[stages] must be a table");
  }
  const nlohmann::json none;
  auto section = [&](std::string_view name) -> const nlohmann::json& {
    if (stage_config.is_null()) return none;
    auto it = stage_config.find(name);
    return it == stage_config.end() ? none : *it;
  };
  // A table for a stage that does not exist is a typo that would otherwise be ignored.
  if (stage_config.is_object()) {
    for (const auto& [name, unused] : stage_config.items()) {
      if (name != ProbeStage::kName && name != ThumbnailStage::kName) {
        return Fail(ErrorCode::kInvalidArgument,
                    "[stages." + name + "]: unknown stage (known: probe, thumbnail)");
      }
    }
  }

  auto probe = ProbeStage::Create(section(ProbeStage::kName));
  if (!probe) return Fail(probe.error());
  REPRISE_TRY(registry.Add(std::move(*probe)));
  auto thumbnail = ThumbnailStage::Create(section(ThumbnailStage::kName));
  if (!thumbnail) return Fail(thumbnail.error());
  REPRISE_TRY(registry.Add(std::move(*thumbnail)));
  return {};
}

}  // namespace reprise::stages
