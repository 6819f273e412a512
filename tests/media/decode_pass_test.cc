#include "media/decode_pass.h"

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/pixfmt.h>
#include <libavutil/samplefmt.h>
}

#include "media/probe.h"
#include "tests/media/media_test_util.h"
#include "tests/support/media_suite.h"

namespace reprise::media {
namespace {

namespace samples = testing::samples;

// Records what it is fed and says kDone after `frames_wanted` deliveries of video or
// audio (0: never).
class Recorder final : public FrameConsumer {
 public:
  explicit Recorder(int frames_wanted = 0) : frames_wanted_(frames_wanted) {}

  Feed OnVideoFrame(const VideoFrame& frame) override {
    video_frames.push_back(frame.frame);
    last_width = frame.frame->width;
    last_height = frame.frame->height;
    last_format = frame.frame->format;
    from_cover = frame.from_cover;
    pts.push_back(frame.pts_seconds);
    return Next();
  }
  Feed OnAudio(const AudioBuffer& audio) override {
    ++audio_buffers;
    samples += audio.frame->nb_samples;
    sample_rate = audio.frame->sample_rate;
    channels = audio.frame->ch_layout.nb_channels;
    sample_format = audio.frame->format;
    return Next();
  }
  Feed OnPacket(const PacketView& /*packet*/) override {
    ++packets;
    return Feed::kMore;
  }

  std::vector<const AVFrame*> video_frames;
  std::vector<double> pts;
  int last_width = 0;
  int last_height = 0;
  int last_format = -1;
  bool from_cover = false;
  int audio_buffers = 0;
  int64_t samples = 0;
  int sample_rate = 0;
  int channels = 0;
  int sample_format = -1;
  int64_t packets = 0;

 private:
  Feed Next() {
    ++delivered_;
    return frames_wanted_ > 0 && delivered_ >= frames_wanted_ ? Feed::kDone : Feed::kMore;
  }
  int frames_wanted_;
  int delivered_ = 0;
};

class DecodePassTest : public testing::MediaSuite {
 protected:
  // Opens `path` and runs one pass with `subscriptions`.
  static PassReport Pass(const std::string& path, std::vector<Subscription> subscriptions,
                         const PassOptions& options = {}) {
    auto reader = testing::OpenOrDie(path);
    auto input = Input::Open(*reader);
    EXPECT_TRUE(input.has_value()) << (input ? "" : input.error().ToString());
    if (!input) return {};
    MediaInfo info = Probe(**input);
    return RunDecodePass(**input, info, subscriptions, options);
  }
};

const VideoRequest kThumb{
    .width = 160, .even_height = true, .apply_rotation = true, .pixel_format = AV_PIX_FMT_YUVJ420P};

TEST_F(DecodePassTest, PacketsOnlyReadsEveryPacketAndDecodesNothing) {
  Recorder packets;
  PassReport report = Pass(samples_->H264AacMp4(), {{&packets, {}, {}, true}});
  EXPECT_TRUE(report.stats.input_ended);
  EXPECT_GT(report.stats.packets_read, 100);  // 50 video + ~95 audio packets
  EXPECT_EQ(packets.packets, report.stats.packets_read);
  EXPECT_EQ(report.stats.video_frames_decoded, 0);
  EXPECT_EQ(report.stats.audio_frames_decoded, 0);
  EXPECT_EQ(report.results[0].end, SubscriptionEnd::kInputEnded);
}

// Records what a remuxer needs from each packet, and declines decoded video after the
// first frame.
class RemuxProbe final : public FrameConsumer {
 public:
  Feed OnVideoFrame(const VideoFrame& /*frame*/) override {
    ++video_frames;
    return Feed::kDoneWithThis;
  }
  Feed OnAudio(const AudioBuffer& /*audio*/) override {
    ++audio_buffers;
    return Feed::kMore;
  }
  Feed OnPacket(const PacketView& view) override {
    if (view.main_video) {
      ++video_packets;
      video_codec = view.parameters->codec_id;
      video_extradata = view.parameters->extradata_size;
      video_time_base = view.time_base;
      keyframes += (view.packet->flags & AV_PKT_FLAG_KEY) != 0 ? 1 : 0;
    }
    if (view.main_audio) {
      ++audio_packets;
      audio_codec = view.parameters->codec_id;
    }
    start_offset = view.start_offset;
    return Feed::kMore;
  }

  int video_frames = 0;
  int audio_buffers = 0;
  int video_packets = 0;
  int audio_packets = 0;
  int keyframes = 0;
  AVCodecID video_codec = AV_CODEC_ID_NONE;
  AVCodecID audio_codec = AV_CODEC_ID_NONE;
  int video_extradata = 0;
  AVRational video_time_base{0, 1};
  int64_t start_offset = -1;
};

TEST_F(DecodePassTest, PacketsCarryTheirStreamAndDoneWithThisStopsOneKind) {
  RemuxProbe probe;
  PassReport report = Pass(samples_->H264AacMp4(), {{&probe, kThumb, AudioRequest{}, true}});
  EXPECT_EQ(report.results[0].end, SubscriptionEnd::kInputEnded);
  EXPECT_EQ(probe.video_packets, 50);
  EXPECT_GT(probe.audio_packets, 80);
  EXPECT_GE(probe.keyframes, 1);
  EXPECT_EQ(probe.video_codec, AV_CODEC_ID_H264);
  EXPECT_EQ(probe.audio_codec, AV_CODEC_ID_AAC);
  EXPECT_GT(probe.video_extradata, 0);  // the avcC a remuxer needs
  EXPECT_GT(probe.video_time_base.den, 0);
  EXPECT_EQ(probe.start_offset, 0);
  // Video was declined after the first frame; audio and packets kept coming.
  EXPECT_EQ(probe.video_frames, 1);
  EXPECT_LE(report.stats.video_frames_decoded, 4);
  EXPECT_GT(probe.audio_buffers, 80);
}

TEST_F(DecodePassTest, OneVideoFrameStopsReadingEarly) {
  Recorder first(1);
  PassReport report = Pass(samples_->LongMp4(), {{&first, kThumb, {}, false}});
  EXPECT_EQ(report.results[0].end, SubscriptionEnd::kDone);
  EXPECT_EQ(first.video_frames.size(), 1u);
  EXPECT_FALSE(report.stats.input_ended);
  // 250 frames in the file; frame threading may hold a few packets back.
  EXPECT_LE(report.stats.video_frames_decoded, 4);
  EXPECT_LE(report.stats.packets_read, 20);
  EXPECT_EQ(report.stats.audio_frames_decoded, 0);
  EXPECT_EQ(first.last_width, 160);
  EXPECT_EQ(first.last_height, 120);
  EXPECT_EQ(first.last_format, AV_PIX_FMT_YUVJ420P);
  EXPECT_DOUBLE_EQ(first.pts[0], 0.0);
}

TEST_F(DecodePassTest, SameRequestIsConvertedOnceForAllItsConsumers) {
  Recorder a(3);
  Recorder b(3);
  Recorder other(3);
  VideoRequest small = kThumb;
  small.width = 64;
  PassReport report =
      Pass(samples_->H264AacMp4(),
           {{&a, kThumb, {}, false}, {&b, kThumb, {}, false}, {&other, small, {}, false}});
  ASSERT_EQ(a.video_frames.size(), 3u);
  ASSERT_EQ(b.video_frames.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(a.video_frames[i], b.video_frames[i]);
  EXPECT_EQ(other.last_width, 64);
  EXPECT_EQ(report.stats.video_frames_decoded, 3);
}

TEST_F(DecodePassTest, AudioIsResampledAsRequestedToTheEnd) {
  Recorder audio;
  Recorder video(1);
  AudioRequest mono16k{.sample_rate = 16000, .channels = 1, .sample_format = AV_SAMPLE_FMT_S16};
  PassReport report =
      Pass(samples_->H264AacMp4(), {{&audio, {}, mono16k, false}, {&video, kThumb, {}, false}});
  EXPECT_EQ(report.results[0].end, SubscriptionEnd::kInputEnded);
  EXPECT_EQ(report.results[1].end, SubscriptionEnd::kDone);
  EXPECT_TRUE(report.stats.input_ended);
  EXPECT_EQ(audio.sample_rate, 16000);
  EXPECT_EQ(audio.channels, 1);
  EXPECT_EQ(audio.sample_format, AV_SAMPLE_FMT_S16);
  EXPECT_NEAR(static_cast<double>(audio.samples) / 16000, samples::kSmallSeconds, 0.1);
  // Video stopped being decoded once its one consumer was served.
  EXPECT_LE(report.stats.video_frames_decoded, 4);
  EXPECT_GT(report.stats.audio_frames_decoded, 80);
}

TEST_F(DecodePassTest, CoverArtIsTheVideoOfAnAudioFile) {
  Recorder cover(1);
  PassReport report = Pass(samples_->Mp3WithCover(), {{&cover, kThumb, {}, false}});
  EXPECT_EQ(report.results[0].end, SubscriptionEnd::kDone);
  EXPECT_TRUE(cover.from_cover);
  EXPECT_EQ(cover.last_width, 160);
  EXPECT_EQ(cover.last_height, 120);
  EXPECT_EQ(report.stats.packets_read, 0);  // nothing else was wanted
}

TEST_F(DecodePassTest, VideoWantedFromAudioWithoutPictureEndsAtOnce) {
  Recorder video;
  PassReport report = Pass(samples_->Mp3(), {{&video, kThumb, {}, false}});
  EXPECT_EQ(report.results[0].end, SubscriptionEnd::kInputEnded);
  EXPECT_TRUE(video.video_frames.empty());
  EXPECT_EQ(report.stats.packets_read, 0);
}

TEST_F(DecodePassTest, ProgressErrorAbortsConsumersStillFed) {
  Recorder audio;
  Recorder video(1);
  PassOptions options;
  options.on_progress = [](const PassProgress& progress) -> Result<void> {
    if (progress.stats.packets_read >= 10) return Fail(ErrorCode::kCancelled, "shutting down");
    return {};
  };
  PassReport report =
      Pass(samples_->LongMp4(), {{&audio, {}, AudioRequest{}, false}, {&video, kThumb, {}, false}},
           options);
  EXPECT_EQ(report.stats.packets_read, 10);
  ASSERT_EQ(report.results[0].end, SubscriptionEnd::kAborted);
  EXPECT_EQ(report.results[0].error->code, ErrorCode::kCancelled);
  EXPECT_EQ(report.results[1].end, SubscriptionEnd::kDone);  // it had its frame already
}

TEST_F(DecodePassTest, ReadFailureMidwayAbortsWithIo) {
  testing::FlakyReader reader(testing::OpenOrDie(samples_->LongMp4()));
  auto input = Input::Open(reader);
  ASSERT_TRUE(input.has_value());
  MediaInfo info = Probe(**input);
  Recorder audio;
  PassOptions options;
  options.on_progress = [&reader](const PassProgress& progress) -> Result<void> {
    if (progress.stats.packets_read == 5) reader.Arm();
    return {};
  };
  std::vector<Subscription> subscriptions = {{&audio, {}, AudioRequest{}, false}};
  PassReport report = RunDecodePass(**input, info, subscriptions, options);
  ASSERT_EQ(report.results[0].end, SubscriptionEnd::kAborted);
  EXPECT_EQ(report.results[0].error->code, ErrorCode::kIo);
  EXPECT_NE(report.results[0].error->message.find(samples_->LongMp4()), std::string::npos);
}

TEST_F(DecodePassTest, DecodeFirstVideoFrameOfAStillImage) {
  auto reader = testing::OpenOrDie(samples_->PngImage());
  FramePtr rgb = testing::DecodeRgb(*reader);
  ASSERT_NE(rgb, nullptr);
  EXPECT_EQ(rgb->width, samples::kPngWidth);
  EXPECT_EQ(rgb->height, samples::kPngHeight);
  EXPECT_TRUE(testing::ColourNear(testing::MeanColour(*rgb), samples::kMagenta, 8));
}

}  // namespace
}  // namespace reprise::media
