// probe@1: what the original contains. Its metadata is media::ToJson() of the probed
// input (container, duration, bitrate, every stream); it also reflects the asset-level
// summary (kind, duration, display size) onto the asset. It needs nothing from the
// decode pass beyond the opened input, writes no files, applies to every input and has
// no params.
#pragma once

#include <memory>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class ProbeStage final : public Stage {
 public:
  static constexpr std::string_view kName = "probe";
  static constexpr int kVersion = 1;

  // `overrides`: the `[stages.probe]` table (null when absent); it has no params to set.
  [[nodiscard]] static Result<std::unique_ptr<ProbeStage>> Create(const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override { return {}; }
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  explicit ProbeStage(nlohmann::json params) : params_(std::move(params)) {}

  nlohmann::json params_;
};

}  // namespace reprise::stages
