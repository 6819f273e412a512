#include "stages/builtin.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "stages/audio_stage.h"
#include "stages/chapters_stage.h"
#include "stages/cover_stage.h"
#include "stages/fingerprint_stage.h"
#include "stages/hls_stage.h"
#include "stages/key_stage.h"
#include "stages/loudness_stage.h"
#include "stages/probe_stage.h"
#include "stages/scenes_stage.h"
#include "stages/semantics_stage.h"
#include "stages/storyboard_stage.h"
#include "stages/tempo_stage.h"
#include "stages/thumbnail_stage.h"
#include "stages/transcript_stage.h"
#include "stages/waveform_stage.h"

namespace reprise::stages {
namespace {

using Factory = Result<std::unique_ptr<Stage>> (*)(const nlohmann::json& overrides,
                                                   const StageServices& services);

struct Builtin {
  std::string_view name;
  Factory create;
};

// A stage whose factory takes services gets them; the others are made from params alone.
template <class StageType>
Result<std::unique_ptr<Stage>> Make(const nlohmann::json& overrides,
                                    const StageServices& services) {
  auto stage = [&] {
    if constexpr (requires { StageType::Create(overrides, services); }) {
      return StageType::Create(overrides, services);
    } else {
      static_cast<void>(services);
      return StageType::Create(overrides);
    }
  }();
  if (!stage) return Fail(stage.error());
  return std::unique_ptr<Stage>(std::move(*stage));
}

template <class StageType>
constexpr Builtin Entry() {
  return {StageType::kName, &Make<StageType>};
}

// Registration order is the order `reprise stages` lists them in.
constexpr Builtin kBuiltins[] = {
    Entry<ProbeStage>(),       Entry<ThumbnailStage>(), Entry<CoverStage>(),
    Entry<AudioStage>(),       Entry<WaveformStage>(),  Entry<HlsStage>(),
    Entry<LoudnessStage>(),    Entry<TempoStage>(),     Entry<KeyStage>(),
    Entry<FingerprintStage>(), Entry<ScenesStage>(),    Entry<StoryboardStage>(),
    Entry<TranscriptStage>(),  Entry<SemanticsStage>(), Entry<ChaptersStage>(),
};

}  // namespace

Result<void> AddBuiltinStages(Registry& registry, const nlohmann::json& stage_config,
                              const std::vector<std::string>& enabled,
                              const StageServices& services) {
  if (!stage_config.is_null() && !stage_config.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "[stages] must be a table");
  }
  std::string names;
  for (const Builtin& builtin : kBuiltins) {
    names += (names.empty() ? "" : ", ") + std::string(builtin.name);
  }
  auto known = [](std::string_view name) {
    return std::any_of(std::begin(kBuiltins), std::end(kBuiltins),
                       [&](const Builtin& builtin) { return builtin.name == name; });
  };
  // A table or a pipeline entry naming no stage is a typo that would otherwise be ignored.
  if (stage_config.is_object()) {
    for (const auto& [name, unused] : stage_config.items()) {
      if (!known(name)) {
        return Fail(ErrorCode::kInvalidArgument,
                    "[stages." + name + "]: unknown stage (known: " + names + ")");
      }
    }
  }
  for (const auto& name : enabled) {
    if (!known(name)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "pipeline.stages: unknown stage '" + name + "' (known: " + names + ")");
    }
  }
  const nlohmann::json none;
  for (const Builtin& builtin : kBuiltins) {
    if (!enabled.empty() &&
        std::find(enabled.begin(), enabled.end(), builtin.name) == enabled.end()) {
      continue;
    }
    const nlohmann::json* section = &none;
    if (stage_config.is_object()) {
      auto it = stage_config.find(builtin.name);
      if (it != stage_config.end()) section = &*it;
    }
    auto stage = builtin.create(*section, services);
    if (!stage) return Fail(stage.error());
    REPRISE_TRY(registry.Add(std::move(*stage)));
  }
  return {};
}

}  // namespace reprise::stages
