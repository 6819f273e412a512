// thumbnail@1: a JPEG of the first decodable video frame (t=0), upright (display
// rotation applied), scaled to `width` pixels wide with the display aspect kept and an
// even height, written as "thumb.jpg" (image/jpeg). Audio with embedded cover art gets
// the cover scaled the same way; a still image gets a thumbnail of itself; audio without
// cover is skipped with reason "no_video_stream".
//
// Params (defaults): width 320 (16..4096), quality 3 (mjpeg quantiser, 1 best .. 31).
// Metadata: {width, height, pts, from_cover}. It asks the decode pass for one frame, so
// a thumbnail alone never decodes a whole video. Fails with kUnsupportedMedia when the
// input ends before any frame decodes.
#pragma once

#include <memory>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class ThumbnailStage final : public Stage {
 public:
  static constexpr std::string_view kName = "thumbnail";
  static constexpr int kVersion = 1;
  static constexpr std::string_view kFileName = "thumb.jpg";

  // `overrides`: the `[stages.thumbnail]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<ThumbnailStage>> Create(
      const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  ThumbnailStage(nlohmann::json params, int width, int quality)
      : params_(std::move(params)), width_(width), quality_(quality) {}

  nlohmann::json params_;
  int width_;
  int quality_;
};

}  // namespace reprise::stages
