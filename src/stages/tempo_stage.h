// tempo@1: the tempo of the main audio stream in beats per minute, with aubio's
// confidence and the beat positions, from aubio's default tempo tracker (spectral-flux
// onset detection, autocorrelation beat tracking) on mono float audio resampled by the
// decode pass to `sample_rate`.
//
// `bpm` is the slope of the beat grid aubio placed (a line fitted through the beat
// times), which is within 0.1 BPM on steady synthetic drums where aubio's own reading
// is 1-1.5% fast; with fewer than 4 settled beats aubio's reading is used.
//
// hop_size defaults to 256, not aubio's usual 512: aubio's tracker prefers periods
// near 43 hops, and at 512 that is 120 BPM, so a 174 BPM kick with off-beat hats
// locked onto 116 BPM (two thirds, which no octave rule can undo). At 256 the
// preference sits at 240 BPM, 174 is found, and slow tempos come out doubled (90 ->
// 180), which the octave rule below folds back.
//
// Metadata: {bpm, confidence, beats: [seconds, ...]}. `bpm` is null when aubio found no
// tempo (silence, no onsets). `confidence` is aubio's: near 0 for noise or speech, above
// ~0.1 for music with a steady beat. Beat positions are in the input's timeline (the
// first decoded sample's timestamp plus aubio's position), at most `max_beats` of them.
//
// Octave rule: beat trackers cannot tell a tempo from its half or double (a 174 BPM
// drum-and-bass loop and an 87 BPM one have the same kick grid). The reported bpm is
// folded by factors of two into [min_bpm, max_bpm]; max_bpm must be at least twice
// min_bpm so that every tempo has a place. With the defaults, 88..176, tempos of 90 to
// 174 come out as played, while a slow 70 BPM ballad is reported as 140: a range
// trades one octave error for another, and this one suits the dance and pop music a
// tempo field is mostly used for. Beats are kept as aubio placed them.
//
// Params (defaults): win_size 1024, hop_size 256 (powers of two, hop <= win),
// sample_rate 44100 (8000..192000), min_bpm 88, max_bpm 176 (30..400), max_beats 10000.
// Skipped with "no_audio_stream" when there is no audio and "too_short" when the
// probed duration is under 2 s; when the duration was unknown and less than 2 s of audio
// decodes, the run fails with kUnsupportedMedia.
#pragma once

#include <memory>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::stages {

class TempoStage final : public Stage {
 public:
  static constexpr std::string_view kName = "tempo";
  static constexpr int kVersion = 1;
  static constexpr double kMinSeconds = 2.0;

  struct Settings {
    int win_size = 1024;
    int hop_size = 256;
    int sample_rate = 44100;
    int min_bpm = 88;
    int max_bpm = 176;
    int max_beats = 10000;
  };

  // `overrides`: the `[stages.tempo]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<TempoStage>> Create(const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  TempoStage(nlohmann::json params, Settings settings)
      : params_(std::move(params)), settings_(settings) {}

  nlohmann::json params_;
  Settings settings_;
};

// Folds `bpm` by factors of two into [min_bpm, max_bpm] (max_bpm >= 2 * min_bpm); other
// values (0, not finite) come back unchanged.
double FoldTempo(double bpm, double min_bpm, double max_bpm);

}  // namespace reprise::stages
