#include "media/chunked_audio_encoder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <numbers>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

#include "media/ffmpeg.h"

namespace reprise::media {
namespace {

constexpr int kRate = 48000;
constexpr int kChannels = 2;

// Planar test signal: a 997 Hz sine on the left, 440 Hz plus a little noise with
// clicks every 1.3 s on the right (transients make the encoder switch to short
// windows, also near joins). Deterministic.
std::vector<std::vector<float>> Signal(int64_t samples) {
  std::vector<std::vector<float>> planes(kChannels, std::vector<float>(samples));
  uint32_t noise = 12345;
  for (int64_t i = 0; i < samples; ++i) {
    double t = static_cast<double>(i) / kRate;
    planes[0][i] = static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * 997 * t));
    noise = noise * 1664525u + 1013904223u;
    double white = (static_cast<double>(noise >> 8) / (1 << 24) - 0.5) * 0.02;
    double click = (i % 62400) < 96 ? 0.6 : 0.0;
    planes[1][i] =
        static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * 440 * t) + white + click);
  }
  return planes;
}

AudioEncoderConfig Aac() {
  AudioEncoderConfig config;
  config.codec = "aac";
  config.sample_rate = kRate;
  config.channels = kChannels;
  config.bit_rate = 320000;
  return config;
}

struct Encoded {
  int64_t chunks = 0;
  std::vector<int64_t> pts;
  std::vector<int64_t> durations;
  std::vector<PacketPtr> packets;
  int64_t bytes = 0;
};

struct ParametersFree {
  void operator()(AVCodecParameters* parameters) const { avcodec_parameters_free(&parameters); }
};

// Feeds `planes` in frames of `frame_samples` (unaligned with the codec's frames on
// purpose) and collects the packets.
Encoded Encode(const std::vector<std::vector<float>>& planes, const ChunkingOptions& options,
               std::unique_ptr<AVCodecParameters, ParametersFree>* parameters = nullptr,
               int frame_samples = 1000) {
  Encoded out;
  auto encoder = ChunkedAudioEncoder::Create(Aac(), options, [&](AVPacket& packet) -> Result<void> {
    out.pts.push_back(packet.pts);
    out.durations.push_back(packet.duration);
    out.bytes += packet.size;
    out.packets.push_back(PacketPtr(av_packet_clone(&packet)));
    return {};
  });
  EXPECT_TRUE(encoder.has_value()) << (encoder ? "" : encoder.error().ToString());
  if (!encoder) return out;
  if (parameters != nullptr) {
    parameters->reset(avcodec_parameters_alloc());
    EXPECT_TRUE((*encoder)->FillParameters(**parameters).has_value());
  }
  const auto total = static_cast<int64_t>(planes[0].size());
  FramePtr frame = NewFrame();
  for (int64_t at = 0; at < total; at += frame_samples) {
    frame->format = AV_SAMPLE_FMT_FLTP;
    frame->sample_rate = kRate;
    av_channel_layout_default(&frame->ch_layout, kChannels);
    frame->nb_samples = static_cast<int>(std::min<int64_t>(frame_samples, total - at));
    EXPECT_GE(av_frame_get_buffer(frame.get(), 0), 0);
    for (int c = 0; c < kChannels; ++c) {
      std::copy_n(planes[c].begin() + at, frame->nb_samples,
                  reinterpret_cast<float*>(frame->extended_data[c]));
    }
    auto added = (*encoder)->Add(*frame);
    EXPECT_TRUE(added.has_value()) << (added ? "" : added.error().ToString());
    av_frame_unref(frame.get());
  }
  auto finished = (*encoder)->Finish();
  EXPECT_TRUE(finished.has_value()) << (finished ? "" : finished.error().ToString());
  out.chunks = (*encoder)->chunks();
  return out;
}

// Decodes AAC packets back to planar float; the first `skip` samples (encoder delay)
// are dropped, as players do.
std::vector<std::vector<float>> Decode(const Encoded& encoded, const AVCodecParameters& params,
                                       int64_t skip) {
  const AVCodec* codec = avcodec_find_decoder(params.codec_id);
  CodecPtr context(avcodec_alloc_context3(codec));
  EXPECT_GE(avcodec_parameters_to_context(context.get(), &params), 0);
  EXPECT_GE(avcodec_open2(context.get(), codec, nullptr), 0);
  std::vector<std::vector<float>> out(kChannels);
  FramePtr frame = NewFrame();
  auto drain = [&] {
    while (avcodec_receive_frame(context.get(), frame.get()) >= 0) {
      for (int c = 0; c < kChannels; ++c) {
        const auto* data = reinterpret_cast<const float*>(frame->extended_data[c]);
        out[c].insert(out[c].end(), data, data + frame->nb_samples);
      }
      av_frame_unref(frame.get());
    }
  };
  for (const PacketPtr& packet : encoded.packets) {
    EXPECT_GE(avcodec_send_packet(context.get(), packet.get()), 0);
    drain();
  }
  EXPECT_GE(avcodec_send_packet(context.get(), nullptr), 0);
  drain();
  for (auto& plane : out)
    plane.erase(plane.begin(), plane.begin() + std::min<int64_t>(skip, std::ssize(plane)));
  return out;
}

// Signal-to-noise ratio (dB) of `got` against `want` over samples [from, to).
double Snr(const std::vector<std::vector<float>>& want, const std::vector<std::vector<float>>& got,
           int64_t from, int64_t to) {
  double signal = 0;
  double noise = 0;
  for (int c = 0; c < kChannels; ++c) {
    for (int64_t i = from; i < to; ++i) {
      signal += static_cast<double>(want[c][i]) * want[c][i];
      double d = static_cast<double>(got[c][i]) - want[c][i];
      noise += d * d;
    }
  }
  return 10 * std::log10(signal / std::max(noise, 1e-30));
}

double MaxAbsDiff(const std::vector<std::vector<float>>& a,
                  const std::vector<std::vector<float>>& b, int64_t from, int64_t to) {
  double worst = 0;
  for (int c = 0; c < kChannels; ++c) {
    for (int64_t i = from; i < to; ++i) {
      worst = std::max(worst, std::abs(static_cast<double>(a[c][i]) - b[c][i]));
    }
  }
  return worst;
}

class ChunkedAudioEncoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { InitFfmpeg(/*quiet=*/true); }
};

// 20.5 s in 2 s chunks: ten joins. The chunked stream must be the continuous one's
// packet for packet in time (same pts and durations), decode to the same length to the
// sample, and sound as good everywhere, joins included.
TEST_F(ChunkedAudioEncoderTest, ChunkedEncodeMatchesContinuousEncode) {
  const int64_t total = kRate * 41 / 2;
  auto source = Signal(total);
  std::unique_ptr<AVCodecParameters, ParametersFree> params;
  Encoded continuous = Encode(source, {.threads = 1}, &params);
  Encoded chunked = Encode(source, {.threads = 3, .chunk_seconds = 2.0});
  ASSERT_TRUE(params);
  ASSERT_FALSE(continuous.pts.empty());

  EXPECT_EQ(chunked.pts, continuous.pts);
  EXPECT_EQ(chunked.durations, continuous.durations);
  EXPECT_EQ(continuous.pts.front(), -1024);  // the encoder delay, once
  for (size_t i = 1; i < chunked.pts.size(); ++i) {
    ASSERT_EQ(chunked.pts[i], chunked.pts[i - 1] + 1024) << "gap or overlap at packet " << i;
  }

  auto want = Decode(continuous, *params, 1024);
  auto got = Decode(chunked, *params, 1024);
  ASSERT_EQ(got[0].size(), want[0].size());
  ASSERT_GE(static_cast<int64_t>(got[0].size()), total);

  double snr_continuous = Snr(source, want, 0, total);
  double snr_chunked = Snr(source, got, 0, total);
  std::cout << "SNR continuous " << snr_continuous << " dB, chunked " << snr_chunked << " dB; "
            << "bytes " << continuous.bytes << " vs " << chunked.bytes << "\n";
  EXPECT_GT(snr_continuous, 20);
  EXPECT_NEAR(snr_chunked, snr_continuous, 1.0);

  // Around each join the chunked decode is no worse than the continuous one elsewhere:
  // no click, no gap, no doubled frame.
  const int64_t chunk = std::llround(2.0 * kRate / 1024) * 1024;  // as the encoder rounds
  const double overall = MaxAbsDiff(source, want, 0, total);
  for (int64_t join = chunk; join < total; join += chunk) {
    int64_t from = join - 4096;
    int64_t to = std::min(total, join + 4096);
    double near_join = MaxAbsDiff(source, got, from, to);
    double local_snr = Snr(source, got, from, to);
    double local_reference = Snr(source, want, from, to);
    EXPECT_LT(near_join, 2 * overall + 0.01) << "join at sample " << join;
    EXPECT_NEAR(local_snr, local_reference, 3.0) << "join at sample " << join;
  }
  // Bit rate as asked, chunked or not.
  double seconds = static_cast<double>(total) / kRate;
  EXPECT_NEAR(static_cast<double>(chunked.bytes) * 8 / seconds / 1000, 320, 320 * 0.15);
}

// Told the length in advance, the encoder cuts the last chunks shorter (the workers end
// together); the stream is still the continuous one's. A wrong hint, too short or too
// long, changes only where the cuts fall.
TEST_F(ChunkedAudioEncoderTest, ChunksShrinkTowardTheExpectedEndAndStayExact) {
  const int64_t total = kRate * 41 / 2;
  auto source = Signal(total);
  std::unique_ptr<AVCodecParameters, ParametersFree> params;
  Encoded continuous = Encode(source, {.threads = 1}, &params);
  ASSERT_TRUE(params);
  auto want = Decode(continuous, *params, 1024);
  const double snr_continuous = Snr(source, want, 0, total);
  Encoded plain = Encode(source, {.threads = 2, .chunk_seconds = 4.0});
  for (int64_t expected : {total, total / 2, total * 2}) {
    Encoded chunked =
        Encode(source, {.threads = 2, .chunk_seconds = 4.0, .expected_samples = expected});
    EXPECT_EQ(chunked.pts, continuous.pts) << "expected " << expected;
    EXPECT_EQ(chunked.durations, continuous.durations) << "expected " << expected;
    auto got = Decode(chunked, *params, 1024);
    ASSERT_EQ(got[0].size(), want[0].size()) << "expected " << expected;
    EXPECT_NEAR(Snr(source, got, 0, total), snr_continuous, 1.0) << "expected " << expected;
    if (expected <= total) {
      // Chunks under 4 s near the (expected) end: more of them than 4 s chunks give.
      EXPECT_GT(chunked.chunks, plain.chunks) << "expected " << expected;
    }
  }
}

// The nice values of this process's threads, read from /proc (field 19 of stat).
std::vector<int> ThreadNiceValues() {
  std::vector<int> values;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t name_end = stat.rfind(')');
    if (name_end == std::string::npos) continue;
    std::istringstream fields(stat.substr(name_end + 2));
    std::string field;
    // After "pid (comm) ", field 3 (state) is the first; nice is field 19.
    for (int i = 3; i <= 19 && fields >> field; ++i) {
      if (i == 19) values.push_back(std::stoi(field));
    }
  }
  return values;
}

// The workers yield to the rest of the process: they run at the caller's nice value plus
// worker_nice, while the caller's own priority is untouched.
TEST_F(ChunkedAudioEncoderTest, WorkersRunAtALowerPriorityThanTheCaller) {
  auto baseline = ThreadNiceValues();
  const int base = baseline.empty() ? 0 : *std::min_element(baseline.begin(), baseline.end());
  auto encoder =
      ChunkedAudioEncoder::Create(Aac(), {.threads = 2, .chunk_seconds = 1.0, .worker_nice = 7},
                                  [](AVPacket&) -> Result<void> { return {}; });
  ASSERT_TRUE(encoder.has_value());
  // The workers set their priority as they start: wait (bounded) until both have.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int lowered = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto values = ThreadNiceValues();
    lowered = static_cast<int>(std::count(values.begin(), values.end(), std::min(19, base + 7)));
    if (lowered >= 2) break;
    std::this_thread::yield();
  }
  EXPECT_EQ(lowered, 2);
  auto values = ThreadNiceValues();
  EXPECT_EQ(std::count(values.begin(), values.end(), base), std::ssize(values) - 2)
      << "only the two workers changed";
}

// A stream shorter than one chunk and one that ends exactly on a chunk boundary plus
// its post-roll are both whole.
TEST_F(ChunkedAudioEncoderTest, EdgeLengthsKeepEveryPacket) {
  for (int64_t total :
       {int64_t{300}, int64_t{kRate}, int64_t{2 * 96256 + 3072}, int64_t{2 * 96256 + 3071}}) {
    auto source = Signal(total);
    Encoded continuous = Encode(source, {.threads = 1});
    Encoded chunked = Encode(source, {.threads = 2, .chunk_seconds = 2.0}, nullptr, 777);
    EXPECT_EQ(chunked.pts, continuous.pts) << total << " samples";
  }
}

// Bounded memory: a long stream goes through with at most threads + 1 chunks in flight;
// here simply checked to finish and to deliver packets while adding (not all at the end).
TEST_F(ChunkedAudioEncoderTest, DeliversWhileAdding) {
  int64_t delivered_before_finish = 0;
  bool finishing = false;
  auto encoder = ChunkedAudioEncoder::Create(Aac(), {.threads = 2, .chunk_seconds = 1.0},
                                             [&](AVPacket& /*packet*/) -> Result<void> {
                                               if (!finishing) ++delivered_before_finish;
                                               return {};
                                             });
  ASSERT_TRUE(encoder.has_value());
  auto source = Signal(kRate * 12);
  FramePtr frame = NewFrame();
  for (int64_t at = 0; at < kRate * 12; at += 1024) {
    frame->format = AV_SAMPLE_FMT_FLTP;
    frame->sample_rate = kRate;
    av_channel_layout_default(&frame->ch_layout, kChannels);
    frame->nb_samples = static_cast<int>(std::min<int64_t>(1024, kRate * 12 - at));
    ASSERT_GE(av_frame_get_buffer(frame.get(), 0), 0);
    for (int c = 0; c < kChannels; ++c) {
      std::copy_n(source[c].begin() + at, frame->nb_samples,
                  reinterpret_cast<float*>(frame->extended_data[c]));
    }
    ASSERT_TRUE((*encoder)->Add(*frame).has_value());
    av_frame_unref(frame.get());
  }
  finishing = true;
  ASSERT_TRUE((*encoder)->Finish().has_value());
  // 12 chunks, at most 4 in flight: most packets reached the callback before Finish().
  EXPECT_GT(delivered_before_finish, 12 * kRate / 1024 / 2);
}

TEST_F(ChunkedAudioEncoderTest, DestroyingWithoutFinishStopsWorkers) {
  auto encoder = ChunkedAudioEncoder::Create(Aac(), {.threads = 2, .chunk_seconds = 1.0},
                                             [](AVPacket&) -> Result<void> { return {}; });
  ASSERT_TRUE(encoder.has_value());
  auto source = Signal(kRate * 5);
  FramePtr frame = NewFrame();
  frame->format = AV_SAMPLE_FMT_FLTP;
  frame->sample_rate = kRate;
  av_channel_layout_default(&frame->ch_layout, kChannels);
  frame->nb_samples = kRate * 5;
  ASSERT_GE(av_frame_get_buffer(frame.get(), 0), 0);
  for (int c = 0; c < kChannels; ++c) {
    std::copy(source[c].begin(), source[c].end(),
              reinterpret_cast<float*>(frame->extended_data[c]));
  }
  ASSERT_TRUE((*encoder)->Add(*frame).has_value());
  auto start = std::chrono::steady_clock::now();
  encoder->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(ChunkedAudioEncoderTest, RefusesBadEncodersAndFormats) {
  auto none = [](AVPacket&) -> Result<void> { return {}; };
  AudioEncoderConfig unknown_codec = Aac();
  unknown_codec.codec = "no-such-encoder";
  auto unknown = ChunkedAudioEncoder::Create(unknown_codec, {}, none);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  AudioEncoderConfig no_rate_config = Aac();
  no_rate_config.sample_rate = 0;
  auto no_rate = ChunkedAudioEncoder::Create(no_rate_config, {}, none);
  ASSERT_FALSE(no_rate.has_value());
  EXPECT_EQ(no_rate.error().code, ErrorCode::kInvalidArgument);

  auto encoder = ChunkedAudioEncoder::Create(Aac(), {.threads = 2}, none);
  ASSERT_TRUE(encoder.has_value());
  FramePtr frame = NewFrame();
  frame->format = AV_SAMPLE_FMT_S16;
  frame->sample_rate = kRate;
  av_channel_layout_default(&frame->ch_layout, kChannels);
  frame->nb_samples = 16;
  ASSERT_GE(av_frame_get_buffer(frame.get(), 0), 0);
  auto added = (*encoder)->Add(*frame);
  ASSERT_FALSE(added.has_value());
  EXPECT_EQ(added.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace reprise::media
