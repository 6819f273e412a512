// The stages reprise ships, registered explicitly at start-up by app/ (no static
// registration): probe, thumbnail, cover, audio, waveform, hls, loudness, tempo, key,
// fingerprint, scenes, storyboard, transcript, semantics, chapters. Call Registry::Seal()
// after the last Add.
//
// `stage_config` is the config's `[stages]` table as JSON, e.g.
// {"thumbnail": {"width": 480}}; null or an empty object means all defaults. Each stage
// merges its defaults with its table (stages/params.h). Errors are kInvalidArgument
// naming the stage and param for an unknown stage or param or a mistyped or out-of-range
// value, and kConflict when a stage of the same name is already registered.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "stages/registry.h"
#include "stages/stage_services.h"

namespace reprise::stages {

// `enabled` names the stages to register (any order; registration keeps the built-in
// order); empty means all of them. kInvalidArgument for a name that is no built-in stage.
// `services` reach the stages whose factories take them (stages/stage_services.h); it and
// what it refers to must outlive the registry. The default has no services configured.
[[nodiscard]] Result<void> AddBuiltinStages(Registry& registry, const nlohmann::json& stage_config,
                                            const std::vector<std::string>& enabled = {},
                                            const StageServices& services = {});

}  // namespace reprise::stages
