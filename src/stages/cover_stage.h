// cover@1: a representative frame of a video as a poster JPEG, "cover.jpg"
// (image/jpeg), upright and sized by the thumbnail's rules (display rotation applied,
// `width` pixels wide, display aspect kept, even height).
//
// It looks at the first `scan_seconds` of the main video stream (counted from its first
// frame), taking a candidate every 0.5 s — at most `max_candidates` — and stops the
// decode there. Each candidate is scored on its luma: black (mean under 16 of 255),
// blank (mean over 240) and flat (standard deviation under 8, a solid colour or a fade
// card) frames are rejected; so are blurry ones, whose sharpness (root of the variance
// of a 4-neighbour Laplacian) is under half of the sharpest candidate's. The remaining
// candidate with the highest score — luma standard deviation times sharpness, both in
// 8-bit luma steps: contrast and detail — is the cover; when none remains, the first
// frame is (`fallback`). Only the candidates no other one beats on both score and
// sharpness are kept, so memory is a few frames at the output size.
//
// Audio with embedded cover art gets that picture, a still image gets itself (each
// scored, falling back to itself); audio without a picture is skipped with
// "no_video_stream". Fails with kUnsupportedMedia when no frame decodes.
//
// Params (defaults): width 640 (16..4096), quality 3 (mjpeg quantiser, 1 best .. 31),
// scan_seconds 10 (1..600), max_candidates 20 (1..200).
// Metadata: {width, height, pts, from_cover, score, fallback}.
#pragma once

#include <memory>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class CoverStage final : public Stage {
 public:
  static constexpr std::string_view kName = "cover";
  static constexpr int kVersion = 1;
  static constexpr std::string_view kFileName = "cover.jpg";

  // `overrides`: the `[stages.cover]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<CoverStage>> Create(const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  struct Options {
    int width = 640;
    int quality = 3;
    int scan_seconds = 10;
    int max_candidates = 20;
  };
  CoverStage(nlohmann::json params, Options options)
      : params_(std::move(params)), options_(options) {}

  nlohmann::json params_;
  Options options_;
};

}  // namespace reprise::stages
