#include "stages/key_stage.h"

#include <array>
#include <cmath>
#include <mutex>
#include <numbers>
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

constexpr double kLowHz = 55.0;
constexpr double kHighHz = 5000.0;

// Sharps throughout: the header documents the spelling.
constexpr std::array<const char*, 12> kPitchNames = {"C",  "C#", "D",  "D#", "E",  "F",
                                                     "F#", "G",  "G#", "A",  "A#", "B"};

// Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
constexpr std::array<double, 12> kMajorProfile = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09,
                                                  2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
constexpr std::array<double, 12> kMinorProfile = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53,
                                                  2.54, 4.75, 3.98, 2.69, 3.34, 3.17};

struct KeyChoice {
  int tonic = 0;
  bool minor = false;
  double correlation = -2;
};

double Pearson(const std::array<double, 12>& chroma, const std::array<double, 12>& profile,
               int tonic) {
  double mean_x = 0;
  double mean_y = 0;
  for (int i = 0; i < 12; ++i) {
    mean_x += chroma[(tonic + i) % 12];
    mean_y += profile[i];
  }
  mean_x /= 12;
  mean_y /= 12;
  double xy = 0;
  double xx = 0;
  double yy = 0;
  for (int i = 0; i < 12; ++i) {
    double x = chroma[(tonic + i) % 12] - mean_x;
    double y = profile[i] - mean_y;
    xy += x * y;
    xx += x * x;
    yy += y * y;
  }
  return xx > 0 && yy > 0 ? xy / std::sqrt(xx * yy) : 0;
}

// Camelot wheel number 1..12 of a key: C major and A minor are 8, each step round the
// circle of fifths adds one; a minor key shares its relative major's number.
int CamelotNumber(int tonic, bool minor) {
  int major_tonic = minor ? (tonic + 3) % 12 : tonic;
  return (major_tonic * 7 + 7) % 12 + 1;
}

nlohmann::json KeyMetadata(const KeyChoice& best, double second_best,
                           const std::array<double, 12>& chroma) {
  std::string key = kPitchNames[best.tonic];
  std::string mode = best.minor ? "minor" : "major";
  int camelot = CamelotNumber(best.tonic, best.minor);
  int open_key = (camelot + 4) % 12 + 1;  // Open Key 1 is Camelot 8
  double total = 0;
  for (double value : chroma) total += value;
  nlohmann::json normalised = nlohmann::json::array();
  for (double value : chroma) normalised.push_back(total > 0 ? value / total : 0.0);
  return {{"key", key},
          {"mode", mode},
          {"name", key + " " + mode},
          {"camelot", std::to_string(camelot) + (best.minor ? "A" : "B")},
          {"open_key", std::to_string(open_key) + (best.minor ? "m" : "d")},
          {"correlation", best.correlation},
          {"confidence", best.correlation - second_best},
          {"chroma", std::move(normalised)}};
}

class KeyRun final : public StageRun {
 public:
  KeyRun(int frame_size, FftwRealBuffer input, FftwComplexBuffer output, FftwPlanPtr plan)
      : frame_size_(frame_size),
        input_(std::move(input)),
        output_(std::move(output)),
        plan_(std::move(plan)),
        window_(frame_size),
        pitch_class_(frame_size / 2 + 1, -1) {
    for (int i = 0; i < frame_size; ++i) {
      window_[i] = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * i / (frame_size - 1));
    }
    for (int bin = 1; bin <= frame_size / 2; ++bin) {
      double hz = static_cast<double>(bin) * KeyStage::kSampleRate / frame_size;
      if (hz < kLowHz || hz > kHighHz) continue;
      auto midi = static_cast<int>(std::lround(69 + 12 * std::log2(hz / 440.0)));
      pitch_class_[bin] = midi % 12;  // MIDI 60 is C, so 0 is C
    }
    pending_.reserve(frame_size * 2);
  }

  Feed OnAudio(const media::AudioBuffer& audio) override {
    const auto* samples = reinterpret_cast<const float*>(audio.frame->data[0]);
    pending_.insert(pending_.end(), samples, samples + audio.frame->nb_samples);
    samples_seen_ += audio.frame->nb_samples;
    const size_t hop = frame_size_ / 2;
    size_t start = 0;
    while (pending_.size() - start >= static_cast<size_t>(frame_size_)) {
      AddFrame(pending_.data() + start);
      start += hop;
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(start));
    return Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& /*sink*/, bool /*input_ended*/) override {
    if (samples_seen_ < KeyStage::kMinSeconds * KeyStage::kSampleRate) {
      return Fail(ErrorCode::kUnsupportedMedia, "too_short: under 2 s of audio to find a key in");
    }
    double total = 0;
    for (double value : chroma_) total += value;
    if (!(total > 0)) {
      return Fail(ErrorCode::kUnsupportedMedia, "silent: no pitched content to find a key in");
    }
    KeyChoice best;
    double second_best = -2;
    for (int minor = 0; minor < 2; ++minor) {
      for (int tonic = 0; tonic < 12; ++tonic) {
        double r = Pearson(chroma_, minor ? kMinorProfile : kMajorProfile, tonic);
        if (r > best.correlation) {
          second_best = best.correlation;
          best = {tonic, minor == 1, r};
        } else if (r > second_best) {
          second_best = r;
        }
      }
    }
    StageResult result;
    result.metadata = KeyMetadata(best, second_best, chroma_);
    return result;
  }

 private:
  void AddFrame(const float* frame) {
    for (int i = 0; i < frame_size_; ++i) input_[i] = frame[i] * window_[i];
    fftw_execute(plan_.get());
    for (int bin = 1; bin <= frame_size_ / 2; ++bin) {
      if (pitch_class_[bin] < 0) continue;
      chroma_[pitch_class_[bin]] += std::hypot(output_[bin][0], output_[bin][1]);
    }
  }

  int frame_size_;
  FftwRealBuffer input_;
  FftwComplexBuffer output_;
  FftwPlanPtr plan_;
  std::vector<double> window_;
  std::vector<int> pitch_class_;  // per FFT bin; -1 outside kLowHz..kHighHz
  std::vector<float> pending_;    // samples not yet in a full frame
  int64_t samples_seen_ = 0;
  std::array<double, 12> chroma_{};
};

}  // namespace

Result<std::unique_ptr<KeyStage>> KeyStage::Create(const nlohmann::json& overrides) {
  auto params = MergeParams(kName, {{"frame_size", 8192}}, overrides);
  if (!params) return Fail(params.error());
  auto frame_size = IntParam(kName, *params, "frame_size", 1024, 32768);
  if (!frame_size) return Fail(frame_size.error());
  if ((*frame_size & (*frame_size - 1)) != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "stage 'key' param 'frame_size' must be a power of "
                "two, got " +
                    std::to_string(*frame_size));
  }
  return std::unique_ptr<KeyStage>(new KeyStage(std::move(*params), *frame_size));
}

Consumption KeyStage::Consumes() const {
  Consumption wants;
  wants.audio =
      AudioRequest{.sample_rate = kSampleRate, .channels = 1, .sample_format = AV_SAMPLE_FMT_FLT};
  return wants;
}

std::optional<std::string> KeyStage::SkipReason(const media::MediaInfo& info) const {
  return AudioSkipReason(info, kMinSeconds);
}

Result<std::unique_ptr<StageRun>> KeyStage::Start(const media::MediaInfo& /*info*/) const {
  FftwRealBuffer input(fftw_alloc_real(frame_size_));
  FftwComplexBuffer output(fftw_alloc_complex(frame_size_ / 2 + 1));
  if (!input || !output) return Fail(ErrorCode::kInternal, "key: cannot allocate FFT buffers");
  FftwPlanPtr plan;
  {
    std::lock_guard lock(FftwPlannerMutex());
    plan.reset(fftw_plan_dft_r2c_1d(frame_size_, input.get(), output.get(), FFTW_ESTIMATE));
  }
  if (!plan) return Fail(ErrorCode::kInternal, "key: FFTW could not plan the FFT");
  return std::unique_ptr<StageRun>(
      std::make_unique<KeyRun>(frame_size_, std::move(input), std::move(output), std::move(plan)));
}

}  // namespace reprise::stages
