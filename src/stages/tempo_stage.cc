#include "stages/tempo_stage.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/samplefmt.h>
}

#include "stages/audio_analysis.h"
#include "stages/params.h"

namespace reprise::stages {
namespace {

// The tempo of the beat grid: a least-squares line through the beat times against their
// beat numbers, skipping the first quarter while the tracker settles. Numbers come from
// the gaps in units of the median interval, so a beat the tracker missed does not bend
// the line. aubio's own
// bpm is read from a period quantised to hops and runs 1-1.5% fast (121.8 for 120).
std::optional<double> GridTempo(const std::vector<double>& beats) {
  size_t first = beats.size() / 4;
  if (beats.size() - first < 4) return std::nullopt;
  std::vector<double> intervals;
  for (size_t i = first + 1; i < beats.size(); ++i) intervals.push_back(beats[i] - beats[i - 1]);
  std::nth_element(intervals.begin(), intervals.begin() + intervals.size() / 2, intervals.end());
  double median = intervals[intervals.size() / 2];
  if (!(median > 0)) return std::nullopt;
  // Numbered gap by gap, not from the first beat: aubio's period is quantised to hops,
  // so the median is a little off and counting from afar would slip a beat.
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, x = 0;
  for (size_t i = first; i < beats.size(); ++i) {
    if (i > first) x += std::max(1.0, std::round((beats[i] - beats[i - 1]) / median));
    n += 1;
    sx += x;
    sy += beats[i];
    sxx += x * x;
    sxy += x * beats[i];
  }
  double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  if (!(slope > 0) || !std::isfinite(slope)) return std::nullopt;
  return 60.0 / slope;
}

class TempoRun final : public StageRun {
 public:
  TempoRun(const TempoStage::Settings& settings, AubioTempoPtr tempo, AubioFvecPtr in,
           AubioFvecPtr out)
      : settings_(settings), tempo_(std::move(tempo)), in_(std::move(in)), out_(std::move(out)) {}

  // aubio takes exactly hop_size samples per call: gather them across buffers.
  Feed OnAudio(const media::AudioBuffer& audio) override {
    const AVFrame& frame = *audio.frame;
    if (frame.nb_samples <= 0) return Feed::kMore;
    if (!started_) {
      started_ = true;
      start_seconds_ = audio.pts_seconds;
    }
    const auto* samples = reinterpret_cast<const float*>(frame.extended_data[0]);
    for (int i = 0; i < frame.nb_samples; ++i) {
      in_->data[filled_++] = samples[i];
      if (filled_ == in_->length) Step();
    }
    samples_ += frame.nb_samples;
    return Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& /*sink*/, bool /*input_ended*/) override {
    if (static_cast<double>(samples_) < TempoStage::kMinSeconds * settings_.sample_rate) {
      return Fail(ErrorCode::kUnsupportedMedia, "audio shorter than 2 s: too short for a tempo");
    }
    double bpm = FoldTempo(GridTempo(beats_).value_or(aubio_tempo_get_bpm(tempo_.get())),
                           settings_.min_bpm, settings_.max_bpm);
    StageResult result;
    result.metadata = {
        {"bpm", bpm > 0 && std::isfinite(bpm) ? nlohmann::json(bpm) : nlohmann::json(nullptr)},
        {"confidence", aubio_tempo_get_confidence(tempo_.get())},
        {"beats", beats_}};
    return result;
  }

 private:
  void Step() {
    filled_ = 0;
    aubio_tempo_do(tempo_.get(), in_.get(), out_.get());
    if (out_->data[0] != 0 && static_cast<int>(beats_.size()) < settings_.max_beats) {
      beats_.push_back(start_seconds_ + aubio_tempo_get_last_s(tempo_.get()));
    }
  }

  TempoStage::Settings settings_;
  AubioTempoPtr tempo_;
  AubioFvecPtr in_;
  AubioFvecPtr out_;
  uint_t filled_ = 0;
  bool started_ = false;
  double start_seconds_ = 0;
  int64_t samples_ = 0;
  std::vector<double> beats_;
};

bool PowerOfTwo(int value) { return value > 0 && (value & (value - 1)) == 0; }

}  // namespace

double FoldTempo(double bpm, double min_bpm, double max_bpm) {
  if (!(bpm > 0) || !std::isfinite(bpm)) return bpm;
  while (bpm < min_bpm) bpm *= 2;
  while (bpm > max_bpm) bpm /= 2;
  return bpm;
}

Result<std::unique_ptr<TempoStage>> TempoStage::Create(const nlohmann::json& overrides) {
  Settings defaults;
  auto params = MergeParams(kName,
                            {{"win_size", defaults.win_size},
                             {"hop_size", defaults.hop_size},
                             {"sample_rate", defaults.sample_rate},
                             {"min_bpm", defaults.min_bpm},
                             {"max_bpm", defaults.max_bpm},
                             {"max_beats", defaults.max_beats}},
                            overrides);
  if (!params) return Fail(params.error());
  Settings settings;
  struct Field {
    const char* name;
    int* value;
    int min;
    int max;
  };
  for (const Field& field :
       {Field{"win_size", &settings.win_size, 64, 16384},
        Field{"hop_size", &settings.hop_size, 16, 16384},
        Field{"sample_rate", &settings.sample_rate, 8000, 192000},
        Field{"min_bpm", &settings.min_bpm, 30, 400}, Field{"max_bpm", &settings.max_bpm, 30, 400},
        Field{"max_beats", &settings.max_beats, 0, 1000000}}) {
    auto value = IntParam(kName, *params, field.name, field.min, field.max);
    if (!value) return Fail(value.error());
    *field.value = *value;
  }
  if (!PowerOfTwo(settings.win_size) || !PowerOfTwo(settings.hop_size) ||
      settings.hop_size > settings.win_size) {
    return Fail(ErrorCode::kInvalidArgument,
                "stage 'tempo' params 'win_size' and 'hop_size' must be powers of two with "
                "hop_size <= win_size");
  }
  if (settings.max_bpm < 2 * settings.min_bpm) {
    return Fail(ErrorCode::kInvalidArgument,
                "stage 'tempo' param 'max_bpm' must be at least twice 'min_bpm'");
  }
  return std::unique_ptr<TempoStage>(new TempoStage(std::move(*params), settings));
}

Consumption TempoStage::Consumes() const {
  Consumption wants;
  wants.audio = AudioRequest{
      .sample_rate = settings_.sample_rate, .channels = 1, .sample_format = AV_SAMPLE_FMT_FLT};
  return wants;
}

std::optional<std::string> TempoStage::SkipReason(const media::MediaInfo& info) const {
  return AudioSkipReason(info, kMinSeconds);
}

Result<std::unique_ptr<StageRun>> TempoStage::Start(const media::MediaInfo& /*info*/) const {
  auto win = static_cast<uint_t>(settings_.win_size);
  auto hop = static_cast<uint_t>(settings_.hop_size);
  AubioTempoPtr tempo(
      new_aubio_tempo("default", win, hop, static_cast<uint_t>(settings_.sample_rate)));
  AubioFvecPtr in(new_fvec(hop));
  AubioFvecPtr out(new_fvec(1));
  if (!tempo || !in || !out) return Fail(ErrorCode::kInternal, "aubio cannot make a tempo tracker");
  return std::unique_ptr<StageRun>(
      std::make_unique<TempoRun>(settings_, std::move(tempo), std::move(in), std::move(out)));
}

}  // namespace reprise::stages
