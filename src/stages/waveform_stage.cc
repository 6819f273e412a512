#include "stages/waveform_stage.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
#include <libavutil/samplefmt.h>
}

#include "media/png_encoder.h"
#include "stages/audio_analysis.h"
#include "stages/params.h"

namespace reprise::stages {
namespace {

constexpr int kMaxSamplesPerPixel = 1 << 24;
constexpr int kMaxPixelsPerSecond = 48000;

Error ParamError(std::string_view name, const std::string& what) {
  return Error{ErrorCode::kInvalidArgument,
               "stage 'waveform' param '" + std::string(name) + "' " + what, ""};
}

// "#RRGGBB" or "#RRGGBBAA" (hex digits of either case) as RGBA; alpha 255 when absent.
Result<std::array<uint8_t, 4>> ColourParam(const nlohmann::json& params, std::string_view name) {
  const std::string text = params.at(std::string(name)).get<std::string>();
  std::array<uint8_t, 4> rgba{0, 0, 0, 255};
  bool ok = (text.size() == 7 || text.size() == 9) && text[0] == '#';
  for (size_t i = 0; ok && 1 + 2 * i < text.size(); ++i) {
    const char* first = text.data() + 1 + 2 * i;
    auto [end, ec] = std::from_chars(first, first + 2, rgba[i], 16);
    ok = ec == std::errc() && end == first + 2;
  }
  if (!ok) return Fail(ParamError(name, "must be \"#RRGGBB\" or \"#RRGGBBAA\", got " + text));
  return rgba;
}

// Streams interleaved s16 audio into (min, max) pairs per block of `samples_per_pixel`
// frames: per source channel, or over all channels when `merge`.
class PeakReducer {
 public:
  PeakReducer(int channels, int samples_per_pixel, bool merge)
      : channels_(channels),
        lanes_(merge ? 1 : channels),
        samples_per_pixel_(samples_per_pixel),
        low_(static_cast<size_t>(lanes_)),
        high_(static_cast<size_t>(lanes_)) {
    Reset();
  }

  void Add(const int16_t* samples, int64_t frames) {
    while (frames > 0) {
      int64_t take = std::min<int64_t>(frames, samples_per_pixel_ - count_);
      if (lanes_ == 1) {
        // One lane: every value of every channel counts alike, a contiguous run.
        const auto [low, high] = std::minmax_element(samples, samples + take * channels_);
        low_[0] = std::min(low_[0], *low);
        high_[0] = std::max(high_[0], *high);
      } else {
        for (int lane = 0; lane < lanes_; ++lane) {
          int16_t low = low_[static_cast<size_t>(lane)];
          int16_t high = high_[static_cast<size_t>(lane)];
          for (int64_t i = lane; i < take * channels_; i += channels_) {
            low = std::min(low, samples[i]);
            high = std::max(high, samples[i]);
          }
          low_[static_cast<size_t>(lane)] = low;
          high_[static_cast<size_t>(lane)] = high;
        }
      }
      samples += take * channels_;
      frames -= take;
      count_ += take;
      if (count_ == samples_per_pixel_) Flush();
    }
  }

  // Ends the last, shorter block; returns the pairs, block by block, lane by lane.
  std::vector<int16_t> Finish() {
    if (count_ > 0) Flush();
    return std::move(pairs_);
  }

  int lanes() const { return lanes_; }

 private:
  void Flush() {
    for (int lane = 0; lane < lanes_; ++lane) {
      pairs_.push_back(low_[static_cast<size_t>(lane)]);
      pairs_.push_back(high_[static_cast<size_t>(lane)]);
    }
    Reset();
  }
  void Reset() {
    std::fill(low_.begin(), low_.end(), std::numeric_limits<int16_t>::max());
    std::fill(high_.begin(), high_.end(), std::numeric_limits<int16_t>::min());
    count_ = 0;
  }

  int channels_;
  int lanes_;
  int64_t samples_per_pixel_;
  int64_t count_ = 0;
  std::vector<int16_t> low_;
  std::vector<int16_t> high_;
  std::vector<int16_t> pairs_;
};

// The peaks as stored: 16-bit, or divided by 256 toward zero for 8 bits.
int StoredValue(int16_t value, int bits) { return bits == 8 ? value / 256 : value; }

std::string PeaksJson(const std::vector<int16_t>& pairs, int channels, int sample_rate,
                      int samples_per_pixel, int bits) {
  const size_t length = pairs.size() / (2 * static_cast<size_t>(channels));
  std::string json = "{\"version\":2,\"channels\":" + std::to_string(channels) +
                     ",\"sample_rate\":" + std::to_string(sample_rate) +
                     ",\"samples_per_pixel\":" + std::to_string(samples_per_pixel) +
                     ",\"bits\":" + std::to_string(bits) + ",\"length\":" + std::to_string(length) +
                     ",\"data\":[";
  json.reserve(json.size() + pairs.size() * 7 + 3);
  char number[8];
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) json.push_back(',');
    auto [end, ec] = std::to_chars(number, number + sizeof(number), StoredValue(pairs[i], bits));
    json.append(number, end);
  }
  json += "]}\n";
  return json;
}

void PutLittleEndian(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::string PeaksDat(const std::vector<int16_t>& pairs, int channels, int sample_rate,
                     int samples_per_pixel, int bits) {
  const size_t length = pairs.size() / (2 * static_cast<size_t>(channels));
  std::string dat;
  dat.reserve(24 + pairs.size() * static_cast<size_t>(bits / 8));
  PutLittleEndian(dat, 2, 4);  // version
  PutLittleEndian(dat, bits == 8 ? 1u : 0u, 4);
  PutLittleEndian(dat, static_cast<uint32_t>(sample_rate), 4);
  PutLittleEndian(dat, static_cast<uint32_t>(samples_per_pixel), 4);
  PutLittleEndian(dat, static_cast<uint32_t>(length), 4);
  PutLittleEndian(dat, static_cast<uint32_t>(channels), 4);
  for (int16_t value : pairs) {
    PutLittleEndian(dat, static_cast<uint32_t>(StoredValue(value, bits)), bits / 8);
  }
  return dat;
}

// The picture of `pairs` (block by block, `lanes` pairs each) as an RGBA frame.
media::FramePtr DrawPeaks(const std::vector<int16_t>& pairs, int lanes,
                          const WaveformOptions& options) {
  media::FramePtr picture = media::NewFrame();
  picture->width = options.width;
  picture->height = options.height;
  picture->format = AV_PIX_FMT_RGBA;
  if (av_frame_get_buffer(picture.get(), 0) < 0) return nullptr;
  for (int y = 0; y < options.height; ++y) {
    uint8_t* row = picture->data[0] + static_cast<ptrdiff_t>(y) * picture->linesize[0];
    for (int x = 0; x < options.width; ++x) std::memcpy(row + 4 * x, options.background.data(), 4);
  }
  const int64_t length = static_cast<int64_t>(pairs.size()) / (2 * lanes);
  if (length == 0) return picture;
  for (int lane = 0; lane < lanes; ++lane) {
    const int top = lane * options.height / lanes;
    const int band = (lane + 1) * options.height / lanes - top;
    // Row of a 16-bit value: the centre row for 0, the band's edges at full scale.
    auto row_of = [&](int value) {
      double level = std::clamp(value / 32768.0 * options.amplitude_scale, -1.0, 1.0);
      return top + static_cast<int>(std::lround((1.0 - level) * (band - 1) / 2.0));
    };
    for (int x = 0; x < options.width; ++x) {
      int64_t first = x * length / options.width;
      int64_t last = std::max(first + 1, (x + 1) * length / options.width);
      int low = std::numeric_limits<int16_t>::max();
      int high = std::numeric_limits<int16_t>::min();
      for (int64_t block = first; block < last; ++block) {
        size_t at = static_cast<size_t>((block * lanes + lane) * 2);
        low = std::min<int>(low, pairs[at]);
        high = std::max<int>(high, pairs[at + 1]);
      }
      for (int y = row_of(high); y <= row_of(low); ++y) {
        std::memcpy(picture->data[0] + static_cast<ptrdiff_t>(y) * picture->linesize[0] + 4 * x,
                    options.colour.data(), 4);
      }
    }
  }
  return picture;
}

class WaveformRun final : public StageRun {
 public:
  explicit WaveformRun(const WaveformOptions& options) : options_(options) {}

  // The reducer is made from the first buffer: the requested format keeps the source's
  // rate and channels, which the probe may not know exactly.
  Feed OnAudio(const media::AudioBuffer& audio) override {
    const AVFrame& frame = *audio.frame;
    if (frame.nb_samples <= 0) return Feed::kMore;
    const int channels = frame.ch_layout.nb_channels;
    if (!reducer_) {
      if (channels <= 0 || frame.sample_rate <= 0) {
        error_ = Error{ErrorCode::kUnsupportedMedia, "audio without channels or sample rate", ""};
        return Feed::kDone;
      }
      sample_rate_ = frame.sample_rate;
      channels_ = channels;
      samples_per_pixel_ = options_.samples_per_pixel;
      if (samples_per_pixel_ == 0 && options_.pixels_per_second > 0) {
        samples_per_pixel_ = std::max(2, sample_rate_ / options_.pixels_per_second);
      }
      if (samples_per_pixel_ == 0) samples_per_pixel_ = WaveformStage::kDefaultSamplesPerPixel;
      reducer_.emplace(channels_, samples_per_pixel_, !options_.split_channels);
    } else if (frame.sample_rate != sample_rate_ || channels != channels_) {
      error_ = Error{ErrorCode::kUnsupportedMedia, "audio format changes mid-stream", ""};
      return Feed::kDone;
    }
    reducer_->Add(reinterpret_cast<const int16_t*>(frame.extended_data[0]), frame.nb_samples);
    return Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
    if (error_) return Fail(*error_);
    if (!reducer_) return Fail(ErrorCode::kUnsupportedMedia, "no decodable audio for a waveform");
    const int lanes = reducer_->lanes();
    std::vector<int16_t> pairs = reducer_->Finish();
    media::FramePtr picture = DrawPeaks(pairs, lanes, options_);
    if (!picture) return Fail(ErrorCode::kInternal, "out of memory drawing the waveform");
    auto png = media::EncodePng(*picture);
    if (!png) return Fail(png.error());

    const int bits = options_.bits;
    REPRISE_TRY(WriteOutput(sink, WaveformStage::kPngName, "image/png", *png));
    REPRISE_TRY(WriteOutput(sink, WaveformStage::kJsonName, "application/json",
                            PeaksJson(pairs, lanes, sample_rate_, samples_per_pixel_, bits)));
    REPRISE_TRY(WriteOutput(sink, WaveformStage::kDatName, "application/octet-stream",
                            PeaksDat(pairs, lanes, sample_rate_, samples_per_pixel_, bits)));
    StageResult result;
    result.metadata = {{"width", options_.width},
                       {"height", options_.height},
                       {"samples_per_pixel", samples_per_pixel_},
                       {"length", pairs.size() / (2 * static_cast<size_t>(lanes))},
                       {"bits", bits},
                       {"channels", lanes},
                       {"sample_rate", sample_rate_}};
    return result;
  }

 private:
  WaveformOptions options_;
  std::optional<PeakReducer> reducer_;
  int sample_rate_ = 0;
  int channels_ = 0;
  int samples_per_pixel_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<std::unique_ptr<WaveformStage>> WaveformStage::Create(const nlohmann::json& overrides) {
  auto params = MergeParams(kName,
                            {{"samples_per_pixel", 0},
                             {"pixels_per_second", 0},
                             {"bits", 16},
                             {"split_channels", false},
                             {"width", 1800},
                             {"height", 140},
                             {"colour", "#3C3C46FF"},
                             {"background", "#00000000"},
                             {"amplitude_scale", 1.0}},
                            overrides);
  if (!params) return Fail(params.error());
  WaveformOptions options;
  auto samples_per_pixel = IntParam(kName, *params, "samples_per_pixel", 0, kMaxSamplesPerPixel);
  if (!samples_per_pixel) return Fail(samples_per_pixel.error());
  if (*samples_per_pixel == 1) {
    return Fail(ParamError("samples_per_pixel", "must be 0 (automatic) or at least 2, got 1"));
  }
  options.samples_per_pixel = *samples_per_pixel;
  auto pixels_per_second = IntParam(kName, *params, "pixels_per_second", 0, kMaxPixelsPerSecond);
  if (!pixels_per_second) return Fail(pixels_per_second.error());
  options.pixels_per_second = *pixels_per_second;
  if (options.samples_per_pixel > 0 && options.pixels_per_second > 0) {
    return Fail(ParamError("pixels_per_second", "cannot be set together with samples_per_pixel"));
  }
  auto bits = IntParam(kName, *params, "bits", 8, 16);
  if (!bits) return Fail(bits.error());
  if (*bits != 8 && *bits != 16) {
    return Fail(ParamError("bits", "must be 8 or 16, got " + std::to_string(*bits)));
  }
  options.bits = *bits;
  options.split_channels = (*params)["split_channels"].get<bool>();
  auto width = IntParam(kName, *params, "width", 16, 8192);
  if (!width) return Fail(width.error());
  options.width = *width;
  auto height = IntParam(kName, *params, "height", 8, 2048);
  if (!height) return Fail(height.error());
  options.height = *height;
  auto colour = ColourParam(*params, "colour");
  if (!colour) return Fail(colour.error());
  options.colour = *colour;
  auto background = ColourParam(*params, "background");
  if (!background) return Fail(background.error());
  options.background = *background;
  options.amplitude_scale = (*params)["amplitude_scale"].get<double>();
  if (!(options.amplitude_scale > 0 && options.amplitude_scale <= 100)) {
    return Fail(ParamError("amplitude_scale",
                           "must be in (0, 100], got " + (*params)["amplitude_scale"].dump()));
  }
  return std::unique_ptr<WaveformStage>(new WaveformStage(std::move(*params), options));
}

Consumption WaveformStage::Consumes() const {
  Consumption wants;
  wants.audio = AudioRequest{.sample_rate = 0, .channels = 0, .sample_format = AV_SAMPLE_FMT_S16};
  return wants;
}

std::optional<std::string> WaveformStage::SkipReason(const media::MediaInfo& info) const {
  return AudioSkipReason(info, 0);
}

Result<std::unique_ptr<StageRun>> WaveformStage::Start(const media::MediaInfo& /*info*/) const {
  return std::unique_ptr<StageRun>(std::make_unique<WaveformRun>(options_));
}

}  // namespace reprise::stages
