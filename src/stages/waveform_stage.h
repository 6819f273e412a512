// waveform@1: peaks of the main audio stream in the audiowaveform formats that
// waveform-data.js and peaks.js read, plus a PNG picture of them.
//
// The audio is decoded once as signed 16-bit at the source rate and channel count, and
// reduced as it streams to one (min, max) pair per channel per block of
// `samples_per_pixel` sample frames (the last block may be shorter); no samples are
// kept, only the peaks (4 bytes per channel per block: 10 minutes of 44.1 kHz stereo
// at 256 samples per pixel is 0.8 MB). Merged channels (the default) give one pair per
// block taken over every channel, so the envelope shows any channel's clipping where
// audiowaveform's own mono mix would average it away; split_channels keeps one pair per
// source channel.
//
// Outputs:
//  - "waveform.json" (application/json): audiowaveform JSON version 2 — version,
//    channels, sample_rate, samples_per_pixel, bits, length (pairs per channel) and
//    data, the min/max pairs, per block channel by channel.
//  - "waveform.dat" (application/octet-stream): audiowaveform binary version 2, all
//    little-endian: int32 version (2), uint32 flags (bit 0 set for 8 bits), int32
//    sample_rate, int32 samples_per_pixel, uint32 length, int32 channels, then the
//    pairs as in the JSON, int8 or int16 each.
//  - "waveform.png" (image/png): `width` x `height` RGBA, `background` filled, each
//    channel of the data in its own horizontal band (one band when merged). Column x
//    takes the min and max of the blocks that fall in its share of the length and is
//    drawn as one vertical line from max to min around the band's centre row, a value
//    v reaching v / 32768 * amplitude_scale of the half height (clipped at the edge).
//    Silence is a flat line one pixel high on the centre row.
// With 8 bits the stored values are the 16-bit ones divided by 256, truncated toward
// zero as audiowaveform does (-128..127); the picture is always drawn from 16 bits.
//
// Params (defaults): samples_per_pixel 0 and pixels_per_second 0 — at most one may be
// set; samples_per_pixel 2..16777216, or pixels_per_second 1..48000 giving
// sample_rate / pixels_per_second samples per pixel (at least 2); with neither, 256
// (audiowaveform's default zoom, enough for peaks.js to zoom in on a short sample).
// bits 16 (8 or 16), split_channels false, width 1800 (16..8192) and height 140
// (8..2048) — a sample-library row —, colour "#3C3C46FF" and background "#00000000"
// (transparent) as "#RRGGBB" or "#RRGGBBAA", amplitude_scale 1.0 (0 < scale <= 100).
// Metadata: {width, height, samples_per_pixel, length, bits, channels, sample_rate}.
//
// Skipped with "no_audio_stream" when the input has no audio. Fails with
// kUnsupportedMedia when no audio decodes or its format changes mid-stream.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

// What a waveform run is asked for, checked.
struct WaveformOptions {
  int samples_per_pixel = 0;  // 0: derived from pixels_per_second or the default
  int pixels_per_second = 0;
  int bits = 16;
  bool split_channels = false;
  int width = 1800;
  int height = 140;
  std::array<uint8_t, 4> colour{};      // RGBA
  std::array<uint8_t, 4> background{};  // RGBA
  double amplitude_scale = 1.0;
};

class WaveformStage final : public Stage {
 public:
  static constexpr std::string_view kName = "waveform";
  static constexpr int kVersion = 1;
  static constexpr std::string_view kPngName = "waveform.png";
  static constexpr std::string_view kJsonName = "waveform.json";
  static constexpr std::string_view kDatName = "waveform.dat";
  static constexpr int kDefaultSamplesPerPixel = 256;

  // `overrides`: the `[stages.waveform]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<WaveformStage>> Create(
      const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  WaveformStage(nlohmann::json params, WaveformOptions options)
      : params_(std::move(params)), options_(options) {}

  nlohmann::json params_;
  WaveformOptions options_;
};

}  // namespace reprise::stages
