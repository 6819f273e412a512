#include "stages/probe_stage.h"

#include "stages/media_summary.h"
#include "stages/params.h"

namespace reprise::stages {
namespace {

class ProbeRun final : public StageRun {
 public:
  explicit ProbeRun(const media::MediaInfo& info) : info_(info) {}

  Result<StageResult> Finish(OutputSink& /*sink*/, bool /*input_ended*/) override {
    StageResult result;
    result.metadata = media::ToJson(info_);
    result.asset_media = Summarize(info_);
    return result;
  }

 private:
  media::MediaInfo info_;
};

}  // namespace

Result<std::unique_ptr<ProbeStage>> ProbeStage::Create(const nlohmann::json& overrides) {
  auto params = MergeParams(kName, nlohmann::json::object(), overrides);
  if (!params) return Fail(params.error());
  return std::unique_ptr<ProbeStage>(new ProbeStage(std::move(*params)));
}

std::optional<std::string> ProbeStage::SkipReason(const media::MediaInfo& /*info*/) const {
  return std::nullopt;
}

Result<std::unique_ptr<StageRun>> ProbeStage::Start(const media::MediaInfo& info) const {
  return std::unique_ptr<StageRun>(std::make_unique<ProbeRun>(info));
}

}  // namespace reprise::stages
