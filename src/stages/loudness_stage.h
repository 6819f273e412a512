// loudness@1: EBU R128 / ITU-R BS.1770 loudness of the main audio stream, measured with
// libebur128 on the decoded samples at the source rate and channel count (float).
//
// Metadata: {integrated_lufs, loudness_range_lu, true_peak_dbtp, sample_peak_dbfs,
// sample_rate, channels}. Peaks are the maximum over all channels. A value the
// measurement cannot give is null: integrated loudness of an all-silent input (every
// 400 ms block is under the -70 LUFS absolute gate, libebur128 reports -HUGE_VAL) and
// the peaks of digital silence (-inf dB). Loudness range follows EBU Tech 3342 over
// short-term (3 s) loudness taken every 100 ms, computed here as FFmpeg's ebur128 filter
// does rather than by libebur128's ebur128_loudness_range(), whose once-a-second blocks
// read fades 1-2 LU wide; it is 0 for audio shorter than 3 s.
//
// Limits: channels are weighted by libebur128's default map (L, R, C, LFE ignored, Ls,
// Rs in FFmpeg's order for up to 5.1); wider layouts count only those six. True peak is
// libebur128's 4x oversampled estimate (2x at 96 kHz and up), so it may read a few
// tenths of a dB off another meter's. No params.
//
// Skipped with "no_audio_stream" when there is no audio, "too_short" when the probed
// duration is under 0.4 s (one gating block). When the duration was not known and the
// decoded audio turns out shorter than that, the run fails with kUnsupportedMedia.
#pragma once

#include <memory>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class LoudnessStage final : public Stage {
 public:
  static constexpr std::string_view kName = "loudness";
  static constexpr int kVersion = 1;
  static constexpr double kMinSeconds = 0.4;

  // `overrides`: the `[stages.loudness]` table (null when absent); it has no params.
  [[nodiscard]] static Result<std::unique_ptr<LoudnessStage>> Create(
      const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  explicit LoudnessStage(nlohmann::json params) : params_(std::move(params)) {}

  nlohmann::json params_;
};

}  // namespace reprise::stages
