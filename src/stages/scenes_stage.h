// scenes@2: the shots of a video and one keyframe picture for each, from every decoded
// frame of the shared decode pass.
//
// Frames come upright at their own size in yuv420p (so most inputs need no conversion
// in the pass); each is reduced to `analysis_width` for the ShotDetector
// (stages/shot_detector.h: content difference with an adaptive threshold, a minimum
// scene length, fades through black handled). A video with no boundary is one scene.
// Each scene's keyframe is the sharpest (variance of the luma Laplacian) of the frames
// kept from the middle half of the scene: at most kCandidates frames are kept per scene,
// scaled to `keyframe_width` as they are taken, sampled evenly by halving them and
// doubling the sampling stride when full, so memory does not grow with a scene's length. A scene's
// keyframe is encoded as soon as the scene ends and spooled to an anonymous temporary
// file (the OutputSink is handed over only in Finish()), so a long video holds only small
// per-scene records in memory.
//
// Outputs (names are stable: `semantics` and `chapters` read them):
// - "scenes.json" (application/json): {"duration": seconds, "scenes": [{"index": 0,
//   "start": 0.0, "end": 4.0, "transition": "start"|"cut"|"fade", "difference": d,
//   "motion": m, "keyframe": "scene-0000.jpg", "keyframe_time": 2.0, "sharpness": s},
//   ...]}; times in seconds from frame timestamps, each scene ending where the next
//   starts, the last at `duration` (the last frame's time plus one frame). `motion` is
//   the mean difference (0..1, the detector's measure on the analysis frames) of the
//   scene's frames from the frame before each, its first frame left out
//   (stages/scene_motion.h): near 0 for a still shot, higher the more the picture moves.
//   Version 2 added it.
// - "scene-NNNN.jpg" (image/jpeg), four digits and more when needed, index from 0.
// Metadata: {scenes, cuts, fades, duration, frames, keyframe_width, keyframe_height}.
//
// Params (defaults): threshold 3.0 (1.2..50, times the local difference level),
// min_difference 0.08 (0.005..1), min_scene_seconds 0.5 (0..600), keyframe_width 640
// (64..1920), analysis_width 96 (16..320), quality 3 (1..31).
//
// Skipped with "no_video_stream" when the input has no moving main video stream: audio
// (cover art is one picture, not shots) and still images. Fails with kUnsupportedMedia
// when no frame decodes; a video whose input ends early (truncated, corrupt) yields the
// scenes of what decoded.
#pragma once

#include <memory>

#include "core/error.h"
#include "stages/shot_detector.h"
#include "stages/stage.h"

namespace reprise::stages {

struct ScenesSettings {
  ShotDetectorOptions detector;
  int keyframe_width = 640;
  int analysis_width = 96;
  int quality = 3;
};

class ScenesStage final : public Stage {
 public:
  static constexpr std::string_view kName = "scenes";
  static constexpr int kVersion = 2;
  static constexpr std::string_view kIndexFile = "scenes.json";
  // Frames kept per scene as keyframe candidates.
  static constexpr int kCandidates = 16;

  // `overrides`: the `[stages.scenes]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<ScenesStage>> Create(const nlohmann::json& overrides);

  // "scene-0007.jpg".
  [[nodiscard]] static std::string KeyframeName(int index);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  ScenesStage(nlohmann::json params, ScenesSettings settings)
      : params_(std::move(params)), settings_(settings) {}

  nlohmann::json params_;
  ScenesSettings settings_;
};

}  // namespace reprise::stages
