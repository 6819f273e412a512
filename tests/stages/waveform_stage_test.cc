#include "stages/waveform_stage.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/pixfmt.h>
}

#include "media/decode_pass.h"
#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

// A stereo signal whose channels differ (a loud low tone left, a quieter mix right), so
// merged and split peaks are told apart.
constexpr const char* kStereoGraph =
    "aevalsrc='0.8*sin(2*PI*220*t)*(0.5+0.5*sin(2*PI*0.7*t))|"
    "0.3*sin(2*PI*331*t)+0.1*sin(2*PI*1900*t)':s=44100:d=3";

struct Dat {
  int32_t version = 0;
  uint32_t flags = 0;
  int32_t sample_rate = 0;
  int32_t samples_per_pixel = 0;
  uint32_t length = 0;
  int32_t channels = 0;
  std::vector<int> data;
};

uint32_t LittleEndian(const std::string& bytes, size_t at) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i)
    value |= uint32_t{static_cast<uint8_t>(bytes.at(at + i))} << (8 * i);
  return value;
}

// Reads an audiowaveform version 2 .dat as waveform-data.js does.
Dat ParseDat(const std::string& bytes) {
  Dat dat;
  if (bytes.size() < 24) {
    ADD_FAILURE() << "a .dat of " << bytes.size() << " bytes has no version 2 header";
    return dat;
  }
  dat.version = static_cast<int32_t>(LittleEndian(bytes, 0));
  dat.flags = LittleEndian(bytes, 4);
  dat.sample_rate = static_cast<int32_t>(LittleEndian(bytes, 8));
  dat.samples_per_pixel = static_cast<int32_t>(LittleEndian(bytes, 12));
  dat.length = LittleEndian(bytes, 16);
  dat.channels = static_cast<int32_t>(LittleEndian(bytes, 20));
  if ((dat.flags & 1u) != 0) {
    for (size_t at = 24; at < bytes.size(); ++at)
      dat.data.push_back(static_cast<int8_t>(bytes[at]));
  } else {
    for (size_t at = 24; at + 1 < bytes.size(); at += 2) {
      dat.data.push_back(static_cast<int16_t>(static_cast<uint8_t>(bytes[at]) |
                                              (static_cast<uint8_t>(bytes[at + 1]) << 8)));
    }
  }
  return dat;
}

// The decoded samples of `path` as the ffmpeg CLI gives them, interleaved s16.
std::vector<int16_t> CliSamples(const std::string& path) {
  testing::CommandResult run =
      testing::RunCommand({"ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path, "-f",
                           "s16le", "-c:a", "pcm_s16le", "-"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::vector<int16_t> samples(run.out.size() / 2);
  std::memcpy(samples.data(), run.out.data(), samples.size() * 2);
  return samples;
}

// The straightforward computation: for each block of `samples_per_pixel` frames, the
// min and max per channel (or over all of them when merged), the last block shorter.
std::vector<int> ExpectedPeaks(const std::vector<int16_t>& samples, int channels,
                               int samples_per_pixel, bool merged, int bits) {
  size_t frames = samples.size() / static_cast<size_t>(channels);
  int lanes = merged ? 1 : channels;
  std::vector<int> peaks;
  for (size_t start = 0; start < frames; start += static_cast<size_t>(samples_per_pixel)) {
    size_t end = std::min(frames, start + static_cast<size_t>(samples_per_pixel));
    for (int lane = 0; lane < lanes; ++lane) {
      int low = 32767;
      int high = -32768;
      for (size_t frame = start; frame < end; ++frame) {
        for (int channel = 0; channel < channels; ++channel) {
          if (!merged && channel != lane) continue;
          int value = samples[frame * static_cast<size_t>(channels) + static_cast<size_t>(channel)];
          low = std::min(low, value);
          high = std::max(high, value);
        }
      }
      // 8 bits: audiowaveform's documented value / 256, truncated toward zero.
      peaks.push_back(bits == 8 ? low / 256 : low);
      peaks.push_back(bits == 8 ? high / 256 : high);
    }
  }
  return peaks;
}

// The PNG decoded to RGBA at its own size.
media::FramePtr DecodeRgba(const std::string& png) {
  auto reader = OpenMemoryReader(png, "waveform.png");
  auto frame =
      media::DecodeFirstVideoFrame(*reader, media::VideoRequest{.width = 0,
                                                                .even_height = false,
                                                                .apply_rotation = false,
                                                                .pixel_format = AV_PIX_FMT_RGBA});
  EXPECT_TRUE(frame.has_value()) << (frame ? "" : frame.error().ToString());
  return frame ? std::move(*frame) : nullptr;
}

bool PixelIs(const AVFrame& rgba, int x, int y, const uint8_t (&want)[4]) {
  return std::memcmp(rgba.data[0] + static_cast<ptrdiff_t>(y) * rgba.linesize[0] + 4 * x, want,
                     4) == 0;
}

// First and last row of column x painted in `colour`, or {-1, -1}.
std::pair<int, int> PaintedRows(const AVFrame& rgba, int x, const uint8_t (&colour)[4]) {
  int first = -1;
  int last = -1;
  for (int y = 0; y < rgba.height; ++y) {
    if (!PixelIs(rgba, x, y, colour)) continue;
    if (first < 0) first = y;
    last = y;
  }
  return {first, last};
}

constexpr uint8_t kDefaultColour[4] = {0x3C, 0x3C, 0x46, 0xFF};
constexpr uint8_t kTransparent[4] = {0, 0, 0, 0};

class WaveformStageTest : public testing::MediaSuite {
 protected:
  static std::unique_ptr<WaveformStage> Stage(const nlohmann::json& overrides = nullptr) {
    auto stage = WaveformStage::Create(overrides);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    return stage ? std::move(*stage) : nullptr;
  }

  // Runs the waveform stage alone on `path` through the one decode pass.
  static StageOutcome Run(const std::string& path, const nlohmann::json& overrides,
                          MemorySink& sink) {
    auto stage = Stage(overrides);
    if (!stage) return {};
    auto reader = testing::OpenOrDie(path);
    StageTask task{stage.get(), &sink};
    auto report = RunStages(*reader, std::span(&task, 1));
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
    if (!report) return {};
    return report->outcomes[0];
  }

  // Makes `name` in the samples directory from a lavfi graph (ffmpeg's -i argument).
  static std::string Generate(const std::string& name, const std::string& graph,
                              const std::vector<std::string>& output_args = {}) {
    std::string path = samples_->dir().Join(name);
    std::vector<std::string> args = {"-f", "lavfi", "-i", graph};
    args.insert(args.end(), output_args.begin(), output_args.end());
    args.push_back(path);
    EXPECT_TRUE(testing::Ffmpeg(args));
    return path;
  }

  // The picture of a run on `path` with `overrides`, decoded.
  static media::FramePtr Picture(const std::string& path, const nlohmann::json& overrides) {
    MemorySink sink;
    StageOutcome outcome = Run(path, overrides, sink);
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
    auto png = sink.files.find("waveform.png");
    if (png == sink.files.end()) {
      ADD_FAILURE() << "no waveform.png written";
      return nullptr;
    }
    return DecodeRgba(png->second);
  }
};

struct Layout {
  const char* name;
  bool split;
  int bits;
};

void PrintTo(const Layout& layout, std::ostream* out) { *out << layout.name; }

class WaveformPeaks : public WaveformStageTest, public ::testing::WithParamInterface<Layout> {};

TEST_P(WaveformPeaks, EqualAStraightforwardComputationOverTheDecodedSamples) {
  const Layout& layout = GetParam();
  std::string path = Generate("stereo.wav", kStereoGraph, {"-c:a", "pcm_s16le"});
  std::vector<int16_t> samples = CliSamples(path);
  ASSERT_EQ(samples.size(), 3u * 44100 * 2);
  const int spp = 512;  // 132300 frames: 258 blocks and a shorter last one
  std::vector<int> want = ExpectedPeaks(samples, 2, spp, !layout.split, layout.bits);
  const int lanes = layout.split ? 2 : 1;
  const size_t length = 259;
  ASSERT_EQ(want.size(), length * 2 * lanes);

  MemorySink sink;
  StageOutcome outcome = Run(
      path, {{"samples_per_pixel", spp}, {"split_channels", layout.split}, {"bits", layout.bits}},
      sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  ASSERT_EQ(sink.blobs.size(), 3u);
  EXPECT_EQ(sink.blobs[0].name, "waveform.png");
  EXPECT_EQ(sink.blobs[0].content_type, "image/png");
  EXPECT_EQ(sink.blobs[1].name, "waveform.json");
  EXPECT_EQ(sink.blobs[1].content_type, "application/json");
  EXPECT_EQ(sink.blobs[2].name, "waveform.dat");
  EXPECT_EQ(sink.blobs[2].content_type, "application/octet-stream");

  nlohmann::json json = nlohmann::json::parse(sink.files["waveform.json"]);
  EXPECT_EQ(json["version"], 2);
  EXPECT_EQ(json["channels"], lanes);
  EXPECT_EQ(json["sample_rate"], 44100);
  EXPECT_EQ(json["samples_per_pixel"], spp);
  EXPECT_EQ(json["bits"], layout.bits);
  EXPECT_EQ(json["length"], length);
  EXPECT_EQ(json["data"].get<std::vector<int>>(), want);

  Dat dat = ParseDat(sink.files["waveform.dat"]);
  EXPECT_EQ(dat.version, 2);
  EXPECT_EQ(dat.flags, layout.bits == 8 ? 1u : 0u);
  EXPECT_EQ(dat.sample_rate, 44100);
  EXPECT_EQ(dat.samples_per_pixel, spp);
  EXPECT_EQ(dat.length, length);
  EXPECT_EQ(dat.channels, lanes);
  EXPECT_EQ(dat.data, want);

  EXPECT_EQ(outcome.result.metadata, nlohmann::json({{"width", 1800},
                                                     {"height", 140},
                                                     {"samples_per_pixel", spp},
                                                     {"length", length},
                                                     {"bits", layout.bits},
                                                     {"channels", lanes},
                                                     {"sample_rate", 44100}}));
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, WaveformPeaks,
    ::testing::Values(Layout{"merged_16", false, 16}, Layout{"split_16", true, 16},
                      Layout{"merged_8", false, 8}, Layout{"split_8", true, 8}),
    [](const ::testing::TestParamInfo<Layout>& param) { return std::string(param.param.name); });

// A compressed (lossless) mono file at another rate, pixels per second instead of
// samples per pixel: 48000 / 100 = 480 samples per pixel.
TEST_F(WaveformStageTest, PixelsPerSecondOnFlacMatchesTheDecodedSamples) {
  std::string path = Generate("pink.flac", "anoisesrc=c=pink:seed=7:a=0.5:d=2.5:r=48000");
  std::vector<int16_t> samples = CliSamples(path);
  std::vector<int> want = ExpectedPeaks(samples, 1, 480, true, 16);
  MemorySink sink;
  StageOutcome outcome = Run(path, {{"pixels_per_second", 100}}, sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  nlohmann::json json = nlohmann::json::parse(sink.files["waveform.json"]);
  EXPECT_EQ(json["samples_per_pixel"], 480);
  EXPECT_EQ(json["sample_rate"], 48000);
  EXPECT_EQ(json["length"], 250);
  EXPECT_EQ(json["data"].get<std::vector<int>>(), want);
}

TEST_F(WaveformStageTest, DefaultsTo256SamplesPerPixel) {
  MemorySink sink;
  StageOutcome outcome = Run(samples_->Wav(), nullptr, sink);  // 1.5 s at 44.1 kHz mono
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  EXPECT_EQ(outcome.result.metadata["samples_per_pixel"], 256);
  EXPECT_EQ(outcome.result.metadata["length"], (66150 + 255) / 256);
  EXPECT_EQ(outcome.result.metadata["channels"], 1);
  std::vector<int> want = ExpectedPeaks(CliSamples(samples_->Wav()), 1, 256, true, 16);
  EXPECT_EQ(nlohmann::json::parse(sink.files["waveform.json"])["data"].get<std::vector<int>>(),
            want);
}

TEST_F(WaveformStageTest, ImageHasTheConfiguredSize) {
  std::string path = Generate("stereo.wav", kStereoGraph, {"-c:a", "pcm_s16le"});
  for (auto [width, height] : {std::pair{1800, 140}, std::pair{333, 61}, std::pair{4000, 8}}) {
    media::FramePtr picture = Picture(path, {{"width", width}, {"height", height}});
    ASSERT_NE(picture, nullptr);
    EXPECT_EQ(picture->width, width);
    EXPECT_EQ(picture->height, height);
  }
}

TEST_F(WaveformStageTest, SilenceDrawsAFlatLineOnTheCentreRow) {
  std::string path = Generate("silence.wav", "anullsrc=r=44100:cl=stereo", {"-t", "2"});
  MemorySink sink;
  StageOutcome outcome = Run(path, nullptr, sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  std::vector<int> data =
      nlohmann::json::parse(sink.files["waveform.json"])["data"].get<std::vector<int>>();
  ASSERT_FALSE(data.empty());
  EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](int value) { return value == 0; }));

  media::FramePtr picture = DecodeRgba(sink.files["waveform.png"]);
  ASSERT_NE(picture, nullptr);
  ASSERT_EQ(picture->height, 140);
  for (int x = 0; x < picture->width; ++x) {
    for (int y = 0; y < picture->height; ++y) {
      ASSERT_TRUE(PixelIs(*picture, x, y, y == 70 ? kDefaultColour : kTransparent))
          << "pixel " << x << "," << y;
    }
  }
}

// A full-scale sine reaches the band's edges at scale 1, and half of the half height
// at scale 0.5: rows round(0.25 * 139) .. round(0.75 * 139).
TEST_F(WaveformStageTest, FullScaleSineFillsTheHeightByAmplitudeScale) {
  std::string path = Generate("sine.wav", "aevalsrc='sin(2*PI*440*t)':s=44100:d=2");
  struct Case {
    double scale;
    int top;
    int bottom;
  };
  for (Case c : {Case{1.0, 0, 139}, Case{0.5, 35, 104}, Case{4.0, 0, 139}}) {
    media::FramePtr picture = Picture(
        path, {{"amplitude_scale", c.scale}, {"colour", "#FF8000"}, {"background", "#FFFFFF80"}});
    ASSERT_NE(picture, nullptr);
    const uint8_t orange[4] = {0xFF, 0x80, 0x00, 0xFF};
    const uint8_t background[4] = {0xFF, 0xFF, 0xFF, 0x80};
    // The last column holds the short last block; every other one a whole cycle or more.
    for (int x = 0; x + 1 < picture->width; ++x) {
      auto [top, bottom] = PaintedRows(*picture, x, orange);
      ASSERT_EQ(top, c.top) << "scale " << c.scale << " column " << x;
      ASSERT_EQ(bottom, c.bottom) << "scale " << c.scale << " column " << x;
      if (top > 0) {
        ASSERT_TRUE(PixelIs(*picture, x, top - 1, background));
      }
    }
  }
}

TEST_F(WaveformStageTest, SplitChannelsDrawOneBandEach) {
  // Left silent, right a full-scale sine: the top band is a flat line, the bottom full.
  std::string path = Generate("left_silent.wav", "aevalsrc='0|sin(2*PI*440*t)':s=44100:d=2");
  media::FramePtr picture = Picture(path, {{"split_channels", true}});
  ASSERT_NE(picture, nullptr);
  for (int x = 0; x + 1 < picture->width; x += 97) {
    auto [top, bottom] = PaintedRows(*picture, x, kDefaultColour);
    EXPECT_EQ(top, 35) << "column " << x;  // centre of rows 0..69
    EXPECT_EQ(bottom, 139) << "column " << x;
    EXPECT_TRUE(PixelIs(*picture, x, 36, kTransparent));
    EXPECT_TRUE(PixelIs(*picture, x, 70, kDefaultColour));
  }
}

TEST_F(WaveformStageTest, InputWithoutAudioIsSkipped) {
  MemorySink sink;
  StageOutcome outcome = Run(samples_->VideoOnlyMp4(), nullptr, sink);
  EXPECT_EQ(outcome.state, catalog::DerivativeState::kSkipped);
  EXPECT_EQ(outcome.skip_reason, "no_audio_stream");
  EXPECT_TRUE(sink.files.empty());
}

TEST_F(WaveformStageTest, ParamsAreValidated) {
  EXPECT_EQ(Stage()->Params(), nlohmann::json({{"samples_per_pixel", 0},
                                               {"pixels_per_second", 0},
                                               {"bits", 16},
                                               {"split_channels", false},
                                               {"width", 1800},
                                               {"height", 140},
                                               {"colour", "#3C3C46FF"},
                                               {"background", "#00000000"},
                                               {"amplitude_scale", 1.0}}));
  for (const nlohmann::json& bad :
       {nlohmann::json{{"bits", 12}}, nlohmann::json{{"samples_per_pixel", 1}},
        nlohmann::json{{"samples_per_pixel", 256}, {"pixels_per_second", 100}},
        nlohmann::json{{"colour", "red"}}, nlohmann::json{{"background", "#12345"}},
        nlohmann::json{{"colour", "#GG0000"}}, nlohmann::json{{"amplitude_scale", 0}},
        nlohmann::json{{"width", 4}}, nlohmann::json{{"height", 4096}},
        nlohmann::json{{"split_channels", 1}}, nlohmann::json{{"zoom", 2}}}) {
    auto stage = WaveformStage::Create(bad);
    ASSERT_FALSE(stage.has_value()) << bad.dump();
    EXPECT_EQ(stage.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(stage.error().message.find("waveform"), std::string::npos) << stage.error().message;
  }
}

}  // namespace
}  // namespace reprise::stages
