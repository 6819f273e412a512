#include "media/audio_encoder.h"

#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

#include "media/ffmpeg.h"
#include "media/output_container.h"

namespace reprise::media {
namespace {

class AudioEncoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { InitFfmpeg(/*quiet=*/true); }
};

// `samples` of a 440 Hz sine, planar float, starting at sample `offset`.
FramePtr Sine(int rate, int channels, int samples, int64_t offset) {
  FramePtr frame = NewFrame();
  frame->format = AV_SAMPLE_FMT_FLTP;
  frame->sample_rate = rate;
  frame->nb_samples = samples;
  av_channel_layout_default(&frame->ch_layout, channels);
  EXPECT_GE(av_frame_get_buffer(frame.get(), 0), 0);
  for (int c = 0; c < channels; ++c) {
    auto* out = reinterpret_cast<float*>(frame->extended_data[c]);
    for (int i = 0; i < samples; ++i) {
      out[i] = static_cast<float>(
          0.5 * std::sin(2 * std::numbers::pi * 440.0 * static_cast<double>(offset + i) / rate));
    }
  }
  return frame;
}

struct Packet {
  int64_t pts = 0;
  int64_t duration = 0;
  int size = 0;
};

// Encodes `total` samples fed in frames of `chunk` samples; collects every packet.
Result<std::vector<Packet>> EncodeAll(const AudioEncoderConfig& config, int input_rate,
                                      int input_channels, int total, int chunk,
                                      std::unique_ptr<AudioEncoder>* kept = nullptr) {
  std::vector<Packet> packets;
  auto encoder = AudioEncoder::Open(config, [&](AVPacket& packet) -> Result<void> {
    packets.push_back({packet.pts, packet.duration, packet.size});
    return {};
  });
  if (!encoder) return Fail(encoder.error());
  for (int done = 0; done < total; done += chunk) {
    FramePtr frame = Sine(input_rate, input_channels, std::min(chunk, total - done), done);
    REPRISE_TRY((*encoder)->Encode(*frame));
  }
  REPRISE_TRY((*encoder)->Flush());
  if (kept != nullptr) *kept = std::move(*encoder);
  return packets;
}

TEST_F(AudioEncoderTest, ReblocksOddFramesToMp3FrameSize) {
  AudioEncoderConfig config{
      .codec = "libmp3lame", .sample_rate = 44100, .channels = 2, .bit_rate = 192000};
  std::unique_ptr<AudioEncoder> encoder;
  constexpr int kTotal = 44100;
  auto packets = EncodeAll(config, 44100, 2, kTotal, 700, &encoder);
  ASSERT_TRUE(packets.has_value()) << packets.error().ToString();
  ASSERT_FALSE(packets->empty());
  EXPECT_EQ(encoder->context().frame_size, 1152);
  EXPECT_EQ(encoder->samples_encoded(), kTotal);
  EXPECT_GT(encoder->context().initial_padding, 0);
  // Timestamps count samples, shifted back by the encoder delay; the last packet ends
  // with the input (its duration leaves out the padding).
  EXPECT_EQ(packets->front().pts, -encoder->context().initial_padding);
  int64_t bytes = 0;
  for (size_t i = 0; i < packets->size(); ++i) {
    const Packet& packet = (*packets)[i];
    if (i > 0) {
      EXPECT_EQ(packet.pts, (*packets)[i - 1].pts + (*packets)[i - 1].duration);
    }
    // 192 kb/s CBR at 44.1 kHz: 144 * 192000 / 44100 = 626.9 bytes a frame, so every
    // frame is 626 bytes or, with the padding slot, 627.
    EXPECT_TRUE(packet.size == 626 || packet.size == 627) << "packet " << i << ": " << packet.size;
    bytes += packet.size;
  }
  EXPECT_EQ(packets->back().pts + packets->back().duration, kTotal);
  EXPECT_EQ(bytes, encoder->bytes_out());
}

TEST_F(AudioEncoderTest, PcmTakesAnyFrameSizeAndConvertsTheFormat) {
  AudioEncoderConfig config{.codec = "pcm_s16le", .sample_rate = 48000, .channels = 2};
  std::unique_ptr<AudioEncoder> encoder;
  auto packets = EncodeAll(config, 48000, 2, 10000, 3000, &encoder);
  ASSERT_TRUE(packets.has_value()) << packets.error().ToString();
  EXPECT_EQ(encoder->context().sample_fmt, AV_SAMPLE_FMT_S16);
  ASSERT_EQ(packets->size(), 4u);
  EXPECT_EQ((*packets)[0].size, 3000 * 2 * 2);
  EXPECT_EQ((*packets)[3].size, 1000 * 2 * 2);
  EXPECT_EQ((*packets)[3].pts, 9000);
  EXPECT_EQ(encoder->bytes_out(), 10000 * 2 * 2);
}

TEST_F(AudioEncoderTest, ResamplesAndDownmixesToTheEncoderFormat) {
  AudioEncoderConfig config{.codec = "pcm_s16le", .sample_rate = 44100, .channels = 1};
  std::unique_ptr<AudioEncoder> encoder;
  auto packets = EncodeAll(config, 48000, 6, 48000, 1024, &encoder);
  ASSERT_TRUE(packets.has_value()) << packets.error().ToString();
  EXPECT_NEAR(static_cast<double>(encoder->samples_encoded()), 44100.0, 2.0);
  EXPECT_EQ(encoder->bytes_out(), encoder->samples_encoded() * 2);
}

TEST_F(AudioEncoderTest, FirstPtsOffsetsTimestamps) {
  AudioEncoderConfig config{
      .codec = "pcm_s16le", .sample_rate = 8000, .channels = 1, .first_pts = 800};
  auto packets = EncodeAll(config, 8000, 1, 1000, 500);
  ASSERT_TRUE(packets.has_value()) << packets.error().ToString();
  ASSERT_EQ(packets->size(), 2u);
  EXPECT_EQ((*packets)[0].pts, 800);
  EXPECT_EQ((*packets)[1].pts, 1300);
}

TEST_F(AudioEncoderTest, PicksTheEncodersPreferredSampleFormat) {
  auto encoder = AudioEncoder::Open({.codec = "libmp3lame", .sample_rate = 48000, .channels = 1},
                                    [](AVPacket&) -> Result<void> { return {}; });
  ASSERT_TRUE(encoder.has_value()) << encoder.error().ToString();
  const AVCodec* codec = avcodec_find_encoder_by_name("libmp3lame");
  ASSERT_NE(codec, nullptr);
  EXPECT_EQ((*encoder)->context().sample_fmt, codec->sample_fmts[0]);
  EXPECT_EQ((*encoder)->time_base().num, 1);
  EXPECT_EQ((*encoder)->time_base().den, 48000);
}

TEST_F(AudioEncoderTest, AacWithGlobalHeaderHasExtradata) {
  std::unique_ptr<AudioEncoder> encoder;
  auto packets = EncodeAll({.codec = "aac",
                            .sample_rate = 48000,
                            .channels = 2,
                            .bit_rate = 128000,
                            .global_header = true},
                           48000, 2, 4800, 480, &encoder);
  ASSERT_TRUE(packets.has_value()) << packets.error().ToString();
  EXPECT_GT(encoder->context().extradata_size, 0);
  EXPECT_EQ(encoder->context().frame_size, 1024);
  EXPECT_FALSE(packets->empty());
}

TEST_F(AudioEncoderTest, RefusesWhatTheEncoderCannotDo) {
  auto ignore = [](AVPacket&) -> Result<void> { return {}; };
  struct Case {
    AudioEncoderConfig config;
    std::string message_part;
  };
  std::vector<Case> cases = {
      {{.codec = "no_such_codec", .sample_rate = 44100, .channels = 2}, "no_such_codec"},
      {{.codec = "mjpeg", .sample_rate = 44100, .channels = 2}, "not an audio encoder"},
      {{.codec = "libmp3lame", .sample_rate = 96000, .channels = 2}, "96000 Hz"},
      {{.codec = "libmp3lame", .sample_rate = 44100, .channels = 6}, "6 channels"},
      {{.codec = "libmp3lame", .sample_rate = 44100, .channels = 0}, "channel count"},
      {{.codec = "libmp3lame",
        .sample_rate = 44100,
        .channels = 2,
        .sample_format = AV_SAMPLE_FMT_DBL},
       "dbl"},
      {{.codec = "libmp3lame",
        .sample_rate = 44100,
        .channels = 2,
        .options = {{"no_such_option", "1"}}},
       "no_such_option"},
  };
  for (const Case& c : cases) {
    auto encoder = AudioEncoder::Open(c.config, ignore);
    ASSERT_FALSE(encoder.has_value()) << c.message_part;
    EXPECT_EQ(encoder.error().code, ErrorCode::kInvalidArgument) << encoder.error().ToString();
    EXPECT_NE(encoder.error().message.find(c.message_part), std::string::npos)
        << encoder.error().ToString();
  }
}

TEST_F(AudioEncoderTest, CallbackErrorStopsTheEncode) {
  auto encoder = AudioEncoder::Open(
      {.codec = "pcm_s16le", .sample_rate = 8000, .channels = 1},
      [](AVPacket&) -> Result<void> { return Fail(ErrorCode::kIo, "disk full"); });
  ASSERT_TRUE(encoder.has_value()) << encoder.error().ToString();
  auto sent = (*encoder)->Encode(*Sine(8000, 1, 100, 0));
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, ErrorCode::kIo);
  EXPECT_EQ(sent.error().message, "disk full");
}

TEST_F(AudioEncoderTest, EncodeAfterFlushIsRefused) {
  auto encoder = AudioEncoder::Open({.codec = "pcm_s16le", .sample_rate = 8000, .channels = 1},
                                    [](AVPacket&) -> Result<void> { return {}; });
  ASSERT_TRUE(encoder.has_value()) << encoder.error().ToString();
  ASSERT_TRUE((*encoder)->Flush().has_value());
  EXPECT_TRUE((*encoder)->Flush().has_value());
  auto late = (*encoder)->Encode(*Sine(8000, 1, 100, 0));
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(AudioEncoderTest, SupportedSampleRateFallsToTheNearestLowerRate) {
  EXPECT_EQ(SupportedSampleRate("libmp3lame", 44100), 44100);
  EXPECT_EQ(SupportedSampleRate("libmp3lame", 96000), 48000);
  EXPECT_EQ(SupportedSampleRate("libmp3lame", 88200), 48000);
  EXPECT_EQ(SupportedSampleRate("libmp3lame", 30000), 24000);
  EXPECT_EQ(SupportedSampleRate("libmp3lame", 4000), 8000);
  EXPECT_EQ(SupportedSampleRate("aac", 96000), 96000);
  EXPECT_EQ(SupportedSampleRate("pcm_s16le", 12345), 12345);
  EXPECT_FALSE(SupportedSampleRate("libmp3lame", 0).has_value());
  EXPECT_FALSE(SupportedSampleRate("no_such_codec", 44100).has_value());
}

// The encoder feeding a muxer, as the audio and HLS stages use them: the files come out
// with the headers that need a seek at the end filled in.
class OutputContainerTest : public AudioEncoderTest {};

class StringWriter final : public ByteWriter {
 public:
  Result<void> Write(std::span<const std::byte> data) override {
    if (fail_) return Fail(ErrorCode::kIo, "blob store is down");
    bytes.append(reinterpret_cast<const char*>(data.data()), data.size());
    return {};
  }
  void FailFromNowOn() { fail_ = true; }
  std::string bytes;

 private:
  bool fail_ = false;
};

uint32_t Le32(const std::string& bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(bytes[at + i]);
  return value;
}

uint32_t Be32(const std::string& bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[at + i]);
  return value;
}

// Encodes `total` samples of a sine with `config` into a `muxer` file; counts packets.
Result<std::string> EncodeFile(const AudioEncoderConfig& config, const std::string& muxer,
                               int total, int* packets = nullptr) {
  auto container = OutputContainer::Open(muxer);
  if (!container) return Fail(container.error());
  int stream = 0;
  AVRational time_base{1, config.sample_rate};
  int count = 0;
  auto encoder = AudioEncoder::Open(config, [&](AVPacket& packet) {
    ++count;
    return (*container)->WritePacket(packet, stream, time_base);
  });
  if (!encoder) return Fail(encoder.error());
  auto added = (*container)->AddStream((*encoder)->context());
  if (!added) return Fail(added.error());
  stream = *added;
  REPRISE_TRY((*container)->WriteHeader());
  for (int done = 0; done < total; done += 1000) {
    REPRISE_TRY((*encoder)->Encode(
        *Sine(config.sample_rate, config.channels, std::min(1000, total - done), done)));
  }
  REPRISE_TRY((*encoder)->Flush());
  auto size = (*container)->Finish();
  if (!size) return Fail(size.error());
  StringWriter out;
  REPRISE_TRY((*container)->CopyTo(out));
  if (static_cast<int64_t>(out.bytes.size()) != *size) {
    return Fail(ErrorCode::kInternal, "Finish() told a size other than what was copied");
  }
  if (packets != nullptr) *packets = count;
  return out.bytes;
}

TEST_F(OutputContainerTest, WavHeaderTellsTheSizes) {
  auto wav = EncodeFile({.codec = "pcm_s16le", .sample_rate = 8000, .channels = 1}, "wav", 8000);
  ASSERT_TRUE(wav.has_value()) << wav.error().ToString();
  ASSERT_GT(wav->size(), 44u);
  EXPECT_EQ(wav->substr(0, 4), "RIFF");
  EXPECT_EQ(Le32(*wav, 4), wav->size() - 8);
  EXPECT_EQ(wav->substr(8, 4), "WAVE");
  size_t data = wav->find("data", 12);
  ASSERT_NE(data, std::string::npos);
  EXPECT_EQ(Le32(*wav, data + 4), 8000u * 2);
  EXPECT_EQ(wav->size(), data + 8 + 8000 * 2);
}

// For CBR the Xing header is tagged "Info"; its frame count is filled in at the end.
TEST_F(OutputContainerTest, Mp3InfoFrameCountsTheFrames) {
  int packets = 0;
  auto mp3 =
      EncodeFile({.codec = "libmp3lame", .sample_rate = 44100, .channels = 2, .bit_rate = 128000},
                 "mp3", 44100, &packets);
  ASSERT_TRUE(mp3.has_value()) << mp3.error().ToString();
  size_t info = mp3->find("Info");
  ASSERT_NE(info, std::string::npos);
  uint32_t flags = Be32(*mp3, info + 4);
  ASSERT_TRUE(flags & 1) << "no frame count in the Info header";
  EXPECT_EQ(Be32(*mp3, info + 8), static_cast<uint32_t>(packets));
}

TEST_F(OutputContainerTest, RefusesUnknownMuxersOptionsAndSpoolDirs) {
  auto unknown = OutputContainer::Open("no_such_muxer");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.error().message.find("no_such_muxer"), std::string::npos);

  auto option = OutputContainer::Open("wav", {.muxer_options = {{"no_such_option", "1"}}});
  ASSERT_FALSE(option.has_value());
  EXPECT_EQ(option.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(option.error().message.find("no_such_option"), std::string::npos);

  auto spool = OutputContainer::Open("wav", {.spool_dir = "/nonexistent/reprise"});
  ASSERT_FALSE(spool.has_value());
  EXPECT_EQ(spool.error().code, ErrorCode::kIo);
  EXPECT_NE(spool.error().message.find("/nonexistent/reprise"), std::string::npos);
}

TEST_F(OutputContainerTest, RefusesCallsOutOfOrder) {
  auto container = OutputContainer::Open("wav");
  ASSERT_TRUE(container.has_value()) << container.error().ToString();
  StringWriter out;
  EXPECT_FALSE((*container)->CopyTo(out).has_value());
  EXPECT_FALSE((*container)->Finish().has_value());
  PacketPtr packet = NewPacket();
  auto early = (*container)->WritePacket(*packet, 0, AVRational{1, 8000});
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(OutputContainerTest, WriterErrorsComeBackUnchanged) {
  auto container = OutputContainer::Open("wav");
  ASSERT_TRUE(container.has_value()) << container.error().ToString();
  auto encoder = AudioEncoder::Open({.codec = "pcm_s16le", .sample_rate = 8000, .channels = 1},
                                    [](AVPacket&) -> Result<void> { return {}; });
  ASSERT_TRUE(encoder.has_value()) << encoder.error().ToString();
  ASSERT_TRUE((*container)->AddStream((*encoder)->context()).has_value());
  ASSERT_TRUE((*container)->WriteHeader().has_value());
  ASSERT_TRUE((*container)->Finish().has_value());
  StringWriter out;
  out.FailFromNowOn();
  auto copied = (*container)->CopyTo(out);
  ASSERT_FALSE(copied.has_value());
  EXPECT_EQ(copied.error().code, ErrorCode::kIo);
  EXPECT_EQ(copied.error().message, "blob store is down");
}

}  // namespace
}  // namespace reprise::media
