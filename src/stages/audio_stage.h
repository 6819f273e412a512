// audio@1: the main audio stream as files people can download and play: "audio.wav"
// (audio/wav; PCM s16le at the source's sample rate and channel count, RF64 past 4 GiB)
// and "audio.mp3" (audio/mpeg; libmp3lame CBR with a Xing/LAME header carrying encoder
// delay and padding, so players trim them and the decoded length matches the source).
//
// Params (defaults): wav true, mp3 true (at least one must be on), mp3_bitrate 192
// (kb/s, CBR; an MPEG-1 Layer III rate, 32..320; capped at 160, the MPEG-2 maximum,
// when the MP3 rate is under 32 kHz), mp3_sample_rate 0 (0 keeps the source's rate when
// libmp3lame takes it and otherwise uses the highest rate it takes under it, e.g. 96 kHz
// becomes 48 kHz; or one of 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100,
// 48000). MP3 keeps mono or stereo and downmixes wider layouts to stereo.
//
// Metadata: {duration_seconds, sample_rate, channels} of the decoded source, and for each
// file made, under "wav" / "mp3": {file, bytes, duration_seconds, sample_rate, channels,
// bit_rate (bits/s)}; "mp3" adds encoder_delay (the priming samples, decoder delay
// included, that the LAME tag tells players to drop). Durations count the samples
// encoded.
//
// The WAV is written on the decode thread (a format conversion and a copy); the MP3 is
// encoded on a thread of the run's own, fed through a small bounded queue of frame
// references, so the decode loop (and stages sharing it) does not wait for LAME, and
// memory stays bounded: both files are spooled to anonymous temporary files (see
// media/output_container.h) and copied to the sink only once both are complete, in
// Finish(). A run destroyed without Finish() stops and joins its thread.
//
// Skipped with "no_audio_stream" when the input has no audio. Fails with
// kUnsupportedMedia when the audio stream decodes to nothing.
#pragma once

#include <memory>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class AudioStage final : public Stage {
 public:
  static constexpr std::string_view kName = "audio";
  static constexpr int kVersion = 1;
  static constexpr std::string_view kWavFile = "audio.wav";
  static constexpr std::string_view kMp3File = "audio.mp3";

  struct Settings {
    bool wav = true;
    bool mp3 = true;
    int mp3_bitrate_kbps = 192;
    int mp3_sample_rate = 0;  // 0: the source's, or the nearest libmp3lame takes
  };

  // `overrides`: the `[stages.audio]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<AudioStage>> Create(const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  AudioStage(nlohmann::json params, Settings settings)
      : params_(std::move(params)), settings_(settings) {}

  nlohmann::json params_;
  Settings settings_;
};

}  // namespace reprise::stages
