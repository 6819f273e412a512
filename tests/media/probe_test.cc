#include "media/probe.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "media/input.h"
#include "tests/media/media_test_util.h"
#include "tests/support/media_suite.h"

namespace reprise::media {
namespace {

namespace samples = testing::samples;

class ProbeTest : public testing::MediaSuite {
 protected:
  static MediaInfo ProbeFile(const std::string& path) {
    auto reader = testing::OpenOrDie(path);
    auto info = ProbeReader(*reader);
    EXPECT_TRUE(info.has_value()) << (info ? "" : info.error().ToString());
    return info ? *info : MediaInfo{};
  }

  static Error ProbeError(const std::string& path) {
    auto reader = testing::OpenOrDie(path);
    auto info = ProbeReader(*reader);
    EXPECT_FALSE(info.has_value()) << path << " probed as " << ToJson(*info).dump();
    return info ? Error{} : info.error();
  }
};

TEST_F(ProbeTest, H264AacMp4ReportsContainerAndStreams) {
  MediaInfo info = ProbeFile(samples_->H264AacMp4());
  EXPECT_NE(info.container.find("mp4"), std::string::npos) << info.container;
  EXPECT_FALSE(info.container_long.empty());
  ASSERT_TRUE(info.duration_seconds);
  EXPECT_NEAR(*info.duration_seconds, samples::kSmallSeconds, 0.1);
  ASSERT_TRUE(info.bit_rate);
  EXPECT_GT(*info.bit_rate, 0);
  EXPECT_EQ(info.size_bytes,
            static_cast<int64_t>(testing::ReadFile(samples_->H264AacMp4()).size()));
  EXPECT_EQ(info.Kind(), MediaKind::kVideo);

  const StreamInfo* video = info.BestVideo();
  ASSERT_NE(video, nullptr);
  EXPECT_EQ(video->codec, "h264");
  EXPECT_FALSE(video->profile.empty());
  EXPECT_EQ(video->width, samples::kSmallWidth);
  EXPECT_EQ(video->height, samples::kSmallHeight);
  EXPECT_EQ(video->rotation, 0);
  EXPECT_EQ(video->DisplayWidth(), samples::kSmallWidth);
  ASSERT_TRUE(video->frame_rate);
  EXPECT_NEAR(*video->frame_rate, samples::kFrameRate, 0.01);
  EXPECT_EQ(video->pixel_format, "yuv420p");
  EXPECT_FALSE(video->attached_picture);
  ASSERT_TRUE(video->duration_seconds);
  EXPECT_NEAR(*video->duration_seconds, samples::kSmallSeconds, 0.1);

  const StreamInfo* audio = info.BestAudio();
  ASSERT_NE(audio, nullptr);
  EXPECT_EQ(audio->codec, "aac");
  EXPECT_EQ(audio->profile, "LC");
  EXPECT_EQ(audio->sample_rate, 48000);
  EXPECT_EQ(audio->channels, 2);
  EXPECT_EQ(audio->channel_layout, "stereo");
  EXPECT_EQ(audio->language, "eng");
  ASSERT_TRUE(audio->bit_rate);
  EXPECT_GT(*audio->bit_rate, 0);
  EXPECT_EQ(info.CoverPicture(), nullptr);
}

TEST_F(ProbeTest, Vp9OpusWebmReportsCodecs) {
  MediaInfo info = ProbeFile(samples_->Vp9OpusWebm());
  EXPECT_EQ(info.container, "matroska,webm");
  ASSERT_TRUE(info.duration_seconds);
  EXPECT_NEAR(*info.duration_seconds, samples::kSmallSeconds, 0.1);
  ASSERT_NE(info.BestVideo(), nullptr);
  EXPECT_EQ(info.BestVideo()->codec, "vp9");
  EXPECT_EQ(info.BestVideo()->width, samples::kSmallWidth);
  EXPECT_EQ(info.BestVideo()->height, samples::kSmallHeight);
  ASSERT_NE(info.BestAudio(), nullptr);
  EXPECT_EQ(info.BestAudio()->codec, "opus");
  EXPECT_EQ(info.BestAudio()->sample_rate, 48000);
  EXPECT_EQ(info.BestAudio()->channels, 2);
  EXPECT_EQ(info.Kind(), MediaKind::kVideo);
}

TEST_F(ProbeTest, Mp3WithCoverIsAudioWithACoverPicture) {
  MediaInfo info = ProbeFile(samples_->Mp3WithCover());
  EXPECT_EQ(info.container, "mp3");
  EXPECT_EQ(info.Kind(), MediaKind::kAudio);
  EXPECT_EQ(info.BestVideo(), nullptr);
  const StreamInfo* cover = info.CoverPicture();
  ASSERT_NE(cover, nullptr);
  EXPECT_TRUE(cover->attached_picture);
  EXPECT_EQ(cover->codec, "png");
  EXPECT_EQ(cover->width, samples::kCoverWidth);
  EXPECT_EQ(cover->height, samples::kCoverHeight);
  ASSERT_NE(info.BestAudio(), nullptr);
  EXPECT_EQ(info.BestAudio()->codec, "mp3");
  EXPECT_EQ(info.BestAudio()->sample_rate, 44100);
  EXPECT_EQ(info.BestAudio()->channels, 2);
  ASSERT_TRUE(info.duration_seconds);
  EXPECT_NEAR(*info.duration_seconds, samples::kSmallSeconds, 0.1);
}

TEST_F(ProbeTest, Mp3WithoutCoverHasOnlyAudio) {
  MediaInfo info = ProbeFile(samples_->Mp3());
  EXPECT_EQ(info.Kind(), MediaKind::kAudio);
  EXPECT_EQ(info.BestVideo(), nullptr);
  EXPECT_EQ(info.CoverPicture(), nullptr);
  ASSERT_EQ(info.streams.size(), 1u);
  EXPECT_EQ(info.streams[0].type, StreamType::kAudio);
}

TEST_F(ProbeTest, WavReportsPcmMono) {
  MediaInfo info = ProbeFile(samples_->Wav());
  EXPECT_EQ(info.container, "wav");
  ASSERT_NE(info.BestAudio(), nullptr);
  EXPECT_EQ(info.BestAudio()->codec, "pcm_s16le");
  EXPECT_EQ(info.BestAudio()->sample_rate, 44100);
  EXPECT_EQ(info.BestAudio()->channels, 1);
  EXPECT_EQ(info.BestAudio()->channel_layout, "mono");
  ASSERT_TRUE(info.duration_seconds);
  EXPECT_NEAR(*info.duration_seconds, samples::kWavSeconds, 0.1);
}

TEST_F(ProbeTest, RotatedPhoneVideoReportsRotationAndSwappedDisplaySize) {
  MediaInfo info = ProbeFile(samples_->RotatedPhoneMp4());
  const StreamInfo* video = info.BestVideo();
  ASSERT_NE(video, nullptr);
  EXPECT_EQ(video->width, samples::kPhoneCodedWidth);
  EXPECT_EQ(video->height, samples::kPhoneCodedHeight);
  EXPECT_EQ(video->rotation, 90);
  EXPECT_EQ(video->DisplayWidth(), samples::kPhoneCodedHeight);
  EXPECT_EQ(video->DisplayHeight(), samples::kPhoneCodedWidth);
  nlohmann::json json = ToJson(info);
  EXPECT_EQ(json["streams"][0]["rotation"], 90);
  EXPECT_EQ(json["streams"][0]["display_width"], samples::kPhoneCodedHeight);
}

TEST_F(ProbeTest, OddDimensionsAreExact) {
  MediaInfo info = ProbeFile(samples_->OddSizeMp4());
  ASSERT_NE(info.BestVideo(), nullptr);
  EXPECT_EQ(info.BestVideo()->codec, "mpeg4");
  EXPECT_EQ(info.BestVideo()->width, samples::kOddWidth);
  EXPECT_EQ(info.BestVideo()->height, samples::kOddHeight);
  EXPECT_EQ(info.BestAudio(), nullptr);
}

TEST_F(ProbeTest, AudioOnlyAndVideoOnlyKinds) {
  MediaInfo audio = ProbeFile(samples_->AudioOnlyM4a());
  EXPECT_EQ(audio.Kind(), MediaKind::kAudio);
  EXPECT_EQ(audio.BestVideo(), nullptr);
  ASSERT_NE(audio.BestAudio(), nullptr);
  EXPECT_EQ(audio.BestAudio()->codec, "aac");

  MediaInfo video = ProbeFile(samples_->VideoOnlyMp4());
  EXPECT_EQ(video.Kind(), MediaKind::kVideo);
  EXPECT_EQ(video.BestAudio(), nullptr);
  ASSERT_NE(video.BestVideo(), nullptr);
  EXPECT_EQ(video.BestVideo()->width, samples::kVideoOnlyWidth);
  EXPECT_EQ(video.BestVideo()->height, samples::kVideoOnlyHeight);
}

TEST_F(ProbeTest, PngIsAStillImage) {
  MediaInfo info = ProbeFile(samples_->PngImage());
  EXPECT_EQ(info.container, "png_pipe");
  EXPECT_EQ(info.Kind(), MediaKind::kImage);
  const StreamInfo* picture = info.BestVideo();
  ASSERT_NE(picture, nullptr);
  EXPECT_TRUE(picture->still_image);
  EXPECT_EQ(picture->codec, "png");
  EXPECT_EQ(picture->width, samples::kPngWidth);
  EXPECT_EQ(picture->height, samples::kPngHeight);
  EXPECT_FALSE(picture->frame_rate);
}

TEST_F(ProbeTest, DetectsByContentNotByName) {
  std::string renamed = samples_->dir().Join("actually_mp4.txt");
  testing::WriteFile(renamed, testing::ReadFile(samples_->H264AacMp4()));
  EXPECT_EQ(ProbeFile(renamed).Kind(), MediaKind::kVideo);
}

TEST_F(ProbeTest, EmptyAndRandomFilesAreNotMedia) {
  for (const std::string& path : {samples_->ZeroBytes(), samples_->RandomBytesMp4()}) {
    Error error = ProbeError(path);
    EXPECT_EQ(error.code, ErrorCode::kUnsupportedMedia) << error.ToString();
    EXPECT_TRUE(IsNotMedia(error)) << error.ToString();
    EXPECT_NE(error.message.find(path), std::string::npos) << error.message;
  }
}

TEST_F(ProbeTest, TruncatedMp4IsCorruptMediaNamingTheFile) {
  const std::string& path = samples_->TruncatedMp4();
  Error error = ProbeError(path);
  EXPECT_EQ(error.code, ErrorCode::kUnsupportedMedia) << error.ToString();
  EXPECT_FALSE(IsNotMedia(error)) << error.ToString();
  EXPECT_NE(error.message.find(path), std::string::npos) << error.message;
  EXPECT_EQ(error.origin.rfind("averror:", 0), 0u) << error.origin;
}

TEST_F(ProbeTest, ReadFailureIsIoNotUnsupported) {
  testing::FlakyReader reader(testing::OpenOrDie(samples_->H264AacMp4()));
  reader.Arm();
  auto info = ProbeReader(reader);
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kIo) << info.error().ToString();
  EXPECT_NE(info.error().message.find(samples_->H264AacMp4()), std::string::npos);
}

// An upload is one blob: a playlist naming other files or URLs must not make the demuxer
// open them (local files would be read, internal URLs fetched). Without the guard in
// Input::Open both of these probe as the H.264 sample they point at.
TEST_F(ProbeTest, PlaylistsNamingOtherFilesAreRefused) {
  testing::TempDir dir;
  std::string media = dir.Join("target.mp4");
  testing::WriteFile(media, testing::ReadFile(samples_->H264AacMp4()));
  std::string inner = dir.Join("inner.m3u8");
  testing::WriteFile(
      inner, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile:" + media + "\n#EXT-X-ENDLIST\n");
  auto hls = OpenMemoryReader("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nfile:" + inner + "\n");
  auto info = ProbeReader(*hls);
  EXPECT_FALSE(info.has_value()) << "probed as " << ToJson(*info).dump();

  // ffconcat only takes relative names, resolved against the working directory.
  struct InDirectory {
    explicit InDirectory(const std::string& path) : previous(std::filesystem::current_path()) {
      std::filesystem::current_path(path);
    }
    ~InDirectory() { std::filesystem::current_path(previous); }
    std::filesystem::path previous;
  } in_dir(dir.path());
  auto concat = OpenMemoryReader("ffconcat version 1.0\nfile target.mp4\n");
  info = ProbeReader(*concat);
  EXPECT_FALSE(info.has_value()) << "probed as " << ToJson(*info).dump();
}

TEST_F(ProbeTest, JsonCarriesStreamFields) {
  nlohmann::json json = ToJson(ProbeFile(samples_->H264AacMp4()));
  EXPECT_EQ(json["kind"], "video");
  EXPECT_NEAR(json["duration"].get<double>(), samples::kSmallSeconds, 0.1);
  ASSERT_EQ(json["streams"].size(), 2u);
  const auto& video = json["streams"][0];
  EXPECT_EQ(video["type"], "video");
  EXPECT_EQ(video["codec"], "h264");
  EXPECT_EQ(video["width"], samples::kSmallWidth);
  EXPECT_EQ(video["height"], samples::kSmallHeight);
  EXPECT_EQ(video["pixel_format"], "yuv420p");
  EXPECT_NEAR(video["frame_rate"].get<double>(), 25.0, 0.01);
  const auto& audio = json["streams"][1];
  EXPECT_EQ(audio["type"], "audio");
  EXPECT_EQ(audio["sample_rate"], 48000);
  EXPECT_EQ(audio["channels"], 2);
  EXPECT_EQ(audio["channel_layout"], "stereo");
  EXPECT_EQ(audio["language"], "eng");
}

// libavutil's av_display_rotation_set() and _get() disagree on the sign in 5.1, so the
// matrices are spelled out; the expected turns are what the ffmpeg CLI's autorotation
// does with them.
TEST(ClockwiseRotation, ReadsDisplayMatrixDirection) {
  constexpr int32_t kOne = 1 << 16;
  constexpr int32_t kW = 1 << 30;
  const int32_t phone_portrait[9] = {0, kOne, 0, -kOne, 0, 0, 0, 0, kW};     // ffprobe: -90
  const int32_t counter_clockwise[9] = {0, -kOne, 0, kOne, 0, 0, 0, 0, kW};  // ffprobe: 90
  const int32_t upside_down[9] = {-kOne, 0, 0, 0, -kOne, 0, 0, 0, kW};
  const int32_t identity[9] = {kOne, 0, 0, 0, kOne, 0, 0, 0, kW};
  EXPECT_EQ(ClockwiseRotation(phone_portrait), 90);
  EXPECT_EQ(ClockwiseRotation(counter_clockwise), 270);
  EXPECT_EQ(ClockwiseRotation(upside_down), 180);
  EXPECT_EQ(ClockwiseRotation(identity), 0);
}

}  // namespace
}  // namespace reprise::media
