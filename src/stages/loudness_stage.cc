#include "stages/loudness_stage.h"

#include <algorithm>
#include <cmath>
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

constexpr int kMode = EBUR128_MODE_I | EBUR128_MODE_S | EBUR128_MODE_TRUE_PEAK;

// -inf (silence, everything gated) is not a JSON number: it is stored as null.
nlohmann::json FiniteOrNull(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

double Decibels(double amplitude) { return 20.0 * std::log10(amplitude); }

Error MeterError(int code, const char* what) {
  return Error{ErrorCode::kInternal, std::string("libebur128 ") + what + " failed",
               "ebur128:" + std::to_string(code)};
}

// Loudness range per EBU Tech 3342 from short-term loudness taken every 100 ms, as
// FFmpeg's ebur128 filter and most meters do. libebur128's own ebur128_loudness_range()
// takes a short-term block once a second, which on a 12 s fade read 7.3 LU where
// FFmpeg reads 5.6. Blocks under -70 LUFS, then those 20 LU under their mean energy,
// are gated out; the range runs from the 10th to the 95th percentile.
double LoudnessRange(std::vector<double> blocks) {
  std::erase_if(blocks, [](double lufs) { return !(lufs > -70.0); });
  if (blocks.empty()) return 0;
  double energy = 0;
  for (double lufs : blocks) energy += std::pow(10.0, lufs / 10.0);
  double gate = 10.0 * std::log10(energy / static_cast<double>(blocks.size())) - 20.0;
  std::erase_if(blocks, [gate](double lufs) { return lufs < gate; });
  if (blocks.empty()) return 0;
  std::sort(blocks.begin(), blocks.end());
  auto at = [&blocks](double fraction) {
    return blocks[static_cast<size_t>(
        std::lround(fraction * static_cast<double>(blocks.size() - 1)))];
  };
  return at(0.95) - at(0.10);
}

class LoudnessRun final : public StageRun {
 public:
  // The meter is made from the first buffer: the requested format keeps the source's
  // rate and channels, which the probe may not know exactly.
  Feed OnAudio(const media::AudioBuffer& audio) override {
    const AVFrame& frame = *audio.frame;
    if (frame.nb_samples <= 0) return Feed::kMore;
    int channels = frame.ch_layout.nb_channels;
    if (!meter_) {
      meter_.reset(ebur128_init(static_cast<unsigned>(channels),
                                static_cast<unsigned long>(frame.sample_rate), kMode));
      if (!meter_) {
        error_ = Error{ErrorCode::kUnsupportedMedia,
                       "libebur128 refuses " + std::to_string(channels) + " channels at " +
                           std::to_string(frame.sample_rate) + " Hz",
                       ""};
        return Feed::kDone;
      }
      sample_rate_ = frame.sample_rate;
      channels_ = channels;
    } else if (frame.sample_rate != sample_rate_ || channels != channels_) {
      error_ = Error{ErrorCode::kUnsupportedMedia, "audio format changes mid-stream", ""};
      return Feed::kDone;
    }
    const auto* samples = reinterpret_cast<const float*>(frame.extended_data[0]);
    int64_t step = (sample_rate_ + 5) / 10;  // 100 ms, as libebur128 rounds it
    for (int64_t done = 0; done < frame.nb_samples;) {
      int64_t take = std::min<int64_t>(frame.nb_samples - done, step - frames_ % step);
      int rc = ebur128_add_frames_float(meter_.get(), samples + done * channels,
                                        static_cast<size_t>(take));
      if (rc != EBUR128_SUCCESS) {
        error_ = MeterError(rc, "add_frames");
        return Feed::kDone;
      }
      done += take;
      frames_ += take;
      if (frames_ % step == 0 && frames_ >= 30 * step) {
        double loudness = 0;
        rc = ebur128_loudness_shortterm(meter_.get(), &loudness);
        if (rc != EBUR128_SUCCESS) {
          error_ = MeterError(rc, "loudness_shortterm");
          return Feed::kDone;
        }
        short_term_.push_back(loudness);
      }
    }
    return Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& /*sink*/, bool /*input_ended*/) override {
    if (error_) return Fail(*error_);
    if (!meter_ || static_cast<double>(frames_) < LoudnessStage::kMinSeconds * sample_rate_) {
      return Fail(ErrorCode::kUnsupportedMedia, "audio shorter than 0.4 s: no loudness block");
    }
    double integrated = 0;
    int rc = ebur128_loudness_global(meter_.get(), &integrated);
    if (rc != EBUR128_SUCCESS) return Fail(MeterError(rc, "loudness_global"));
    double range = LoudnessRange(short_term_);
    double true_peak = 0;
    double sample_peak = 0;
    for (int channel = 0; channel < channels_; ++channel) {
      double peak = 0;
      rc = ebur128_true_peak(meter_.get(), static_cast<unsigned>(channel), &peak);
      if (rc != EBUR128_SUCCESS) return Fail(MeterError(rc, "true_peak"));
      true_peak = std::max(true_peak, peak);
      rc = ebur128_sample_peak(meter_.get(), static_cast<unsigned>(channel), &peak);
      if (rc != EBUR128_SUCCESS) return Fail(MeterError(rc, "sample_peak"));
      sample_peak = std::max(sample_peak, peak);
    }
    StageResult result;
    result.metadata = {{"integrated_lufs", FiniteOrNull(integrated)},
                       {"loudness_range_lu", FiniteOrNull(range)},
                       {"true_peak_dbtp", FiniteOrNull(Decibels(true_peak))},
                       {"sample_peak_dbfs", FiniteOrNull(Decibels(sample_peak))},
                       {"sample_rate", sample_rate_},
                       {"channels", channels_}};
    return result;
  }

 private:
  Ebur128Ptr meter_;
  int sample_rate_ = 0;
  int channels_ = 0;
  int64_t frames_ = 0;
  std::vector<double> short_term_;  // LUFS of the last 3 s, every 100 ms
  std::optional<Error> error_;
};

}  // namespace

Result<std::unique_ptr<LoudnessStage>> LoudnessStage::Create(const nlohmann::json& overrides) {
  auto params = MergeParams(kName, nlohmann::json::object(), overrides);
  if (!params) return Fail(params.error());
  return std::unique_ptr<LoudnessStage>(new LoudnessStage(std::move(*params)));
}

Consumption LoudnessStage::Consumes() const {
  Consumption wants;
  wants.audio = AudioRequest{.sample_rate = 0, .channels = 0, .sample_format = AV_SAMPLE_FMT_FLT};
  return wants;
}

std::optional<std::string> LoudnessStage::SkipReason(const media::MediaInfo& info) const {
  return AudioSkipReason(info, kMinSeconds);
}

Result<std::unique_ptr<StageRun>> LoudnessStage::Start(const media::MediaInfo& /*info*/) const {
  return std::unique_ptr<StageRun>(std::make_unique<LoudnessRun>());
}

}  // namespace reprise::stages
