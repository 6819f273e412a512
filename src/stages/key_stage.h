// key@1: the musical key and mode of an asset's main audio stream, with a confidence.
//
// The audio is decoded once at 22050 Hz mono float; Hann-windowed frames of `frame_size`
// samples (hop half a frame) go through a real FFT (FFTW), and the magnitude of every bin
// between 55 Hz and 5 kHz is folded onto its nearest pitch class (A4 = 440 Hz, equal
// temperament). The chromagram summed over the whole file is correlated (Pearson) with
// the 24 rotations of the Krumhansl-Kessler major and minor key profiles; the best one is
// the key.
//
// Spelling: tonics are always written with sharps ("C", "C#", ... "A#", "B"), so E-flat
// minor is reported as "D#" minor. The Camelot ("8B" = C major, "8A" = A minor) and Open
// Key ("1d" = C major, "1m" = A minor) codes do not depend on the spelling.
//
// Metadata: {key: "F#", mode: "major"|"minor", name: "F# major", camelot: "2B",
// open_key: "7d", correlation: best Pearson r (-1..1), confidence: best minus
// second-best r over all 24 keys (0..2; below ~0.05 the answer is a guess),
// chroma: [12 floats, C first, normalised to sum 1]}. Writes no files.
//
// Limits: one global key for the whole file (no modulations); tuning far from A4 = 440
// smears the chroma; relative keys (C major / A minor) share their pitches and are told
// apart only by emphasis, and music without a tonal centre (drums, speech, noise) gets a
// low confidence rather than an error. Skipped with "no_audio_stream", and "too_short"
// when the probed duration is under 2 s; an input that ends with under 2 s of audio (or
// with nothing but silence) fails with kUnsupportedMedia.
//
// Params (defaults): frame_size 8192 (a power of two, 1024..32768 samples).
#pragma once

#include <memory>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class KeyStage final : public Stage {
 public:
  static constexpr std::string_view kName = "key";
  static constexpr int kVersion = 1;
  static constexpr int kSampleRate = 22050;
  static constexpr double kMinSeconds = 2.0;

  // `overrides`: the `[stages.key]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<KeyStage>> Create(const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  KeyStage(nlohmann::json params, int frame_size)
      : params_(std::move(params)), frame_size_(frame_size) {}

  nlohmann::json params_;
  int frame_size_;
};

}  // namespace reprise::stages
