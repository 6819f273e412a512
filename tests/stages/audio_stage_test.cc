#include "stages/audio_stage.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <numbers>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

#include "media/ffmpeg.h"
#include "stages/loudness_stage.h"
#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"
#include "tests/support/resident_memory.h"

namespace reprise::stages {
namespace {

// The bound on decoded length; the LAME tag makes it far tighter in practice.
constexpr double kDurationTolerance = 0.050;

// What ffprobe says of a file's first audio stream.
struct Probed {
  std::string codec;
  std::string sample_format;
  int sample_rate = 0;
  int channels = 0;
  int64_t bit_rate = 0;
};

Probed ProbeAudio(const std::string& path) {
  testing::CommandResult run = testing::RunCommand(
      {"ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
       "stream=codec_name,sample_fmt,sample_rate,channels,bit_rate", "-of", "json", path});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  auto doc = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc["streams"].empty()) {
    ADD_FAILURE() << "ffprobe found no audio in " << path << ": " << run.output;
    return {};
  }
  const nlohmann::json& stream = doc["streams"][0];
  Probed probed;
  probed.codec = stream.value("codec_name", "");
  probed.sample_format = stream.value("sample_fmt", "");
  probed.sample_rate = std::stoi(stream.value("sample_rate", "0"));
  probed.channels = stream.value("channels", 0);
  probed.bit_rate = std::stoll(stream.value("bit_rate", "0"));
  return probed;
}

// Samples per channel that ffmpeg decodes from the first audio stream (after the
// gapless trimming a LAME tag or an edit list asks for).
int64_t DecodedSamples(const std::string& path) {
  testing::CommandResult run = testing::RunCommand(
      {"ffmpeg", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1", "-f", "s16le", "-"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(run.err.empty()) << path << " decodes with errors: " << run.err;
  return static_cast<int64_t>(run.out.size() / 2);
}

double DecodedSeconds(const std::string& path) {
  return static_cast<double>(DecodedSamples(path)) / ProbeAudio(path).sample_rate;
}

class AudioStageTest : public testing::MediaSuite {
 protected:
  static std::unique_ptr<AudioStage> Stage(const nlohmann::json& overrides = nullptr) {
    auto stage = AudioStage::Create(overrides);
    EXPECT_TRUE(stage.has_value()) << (stage ? "" : stage.error().ToString());
    return stage ? std::move(*stage) : nullptr;
  }

  // Runs `stage` alone on `path`; its files land in `sink`.
  static StageOutcome Run(const AudioStage& stage, const std::string& path, MemorySink& sink,
                          const RunOptions& options = {}) {
    auto reader = testing::OpenOrDie(path);
    StageTask task{&stage, &sink};
    auto report = RunStages(*reader, std::span(&task, 1), options);
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
    if (!report) return {};
    return report->outcomes[0];
  }

  // Writes a committed output to the samples directory so ffmpeg can read it.
  static std::string Saved(const MemorySink& sink, const std::string& name, const std::string& as) {
    auto file = sink.files.find(name);
    if (file == sink.files.end()) {
      ADD_FAILURE() << name << " was not committed";
      return {};
    }
    std::string path = samples_->dir().Join(as);
    testing::WriteFile(path, file->second);
    return path;
  }

  // A source made with ffmpeg from a lavfi audio graph.
  static std::string Source(const std::string& name, const std::string& graph) {
    std::string path = samples_->dir().Join(name);
    EXPECT_TRUE(testing::Ffmpeg({"-f", "lavfi", "-i", graph, path}));
    return path;
  }

  // Runs the default stage on `source` and checks both files against it with ffprobe
  // and ffmpeg: formats, rates, channels, bit rate, decoded length.
  static void ExpectWavAndMp3(const std::string& source, int wav_rate, int channels, int mp3_rate,
                              int mp3_channels) {
    auto stage = Stage();
    MemorySink sink;
    StageOutcome outcome = Run(*stage, source, sink);
    ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
    ASSERT_EQ(sink.blobs.size(), 2u);
    EXPECT_EQ(sink.blobs[0].name, "audio.wav");
    EXPECT_EQ(sink.blobs[0].content_type, "audio/wav");
    EXPECT_EQ(sink.blobs[1].name, "audio.mp3");
    EXPECT_EQ(sink.blobs[1].content_type, "audio/mpeg");

    double source_seconds = DecodedSeconds(source);
    std::string wav = Saved(sink, "audio.wav", "out.wav");
    Probed wav_probe = ProbeAudio(wav);
    EXPECT_EQ(wav_probe.codec, "pcm_s16le");
    EXPECT_EQ(wav_probe.sample_rate, wav_rate);
    EXPECT_EQ(wav_probe.channels, channels);
    EXPECT_NEAR(DecodedSeconds(wav), source_seconds, kDurationTolerance);

    std::string mp3 = Saved(sink, "audio.mp3", "out.mp3");
    Probed mp3_probe = ProbeAudio(mp3);
    EXPECT_EQ(mp3_probe.codec, "mp3");
    EXPECT_EQ(mp3_probe.sample_rate, mp3_rate);
    EXPECT_EQ(mp3_probe.channels, mp3_channels);
    EXPECT_EQ(mp3_probe.bit_rate, 192000);
    double mp3_seconds = DecodedSeconds(mp3);
    std::cout << source << ": source " << source_seconds << " s, wav " << DecodedSeconds(wav)
              << " s, mp3 " << mp3_seconds << " s\n";
    EXPECT_NEAR(mp3_seconds, source_seconds, kDurationTolerance);

    const nlohmann::json& meta = outcome.result.metadata;
    EXPECT_EQ(meta["sample_rate"], wav_rate) << meta.dump();
    EXPECT_EQ(meta["channels"], channels) << meta.dump();
    EXPECT_NEAR(meta["duration_seconds"].get<double>(), source_seconds, 0.001) << meta.dump();
    EXPECT_EQ(meta["wav"]["bytes"], sink.files["audio.wav"].size()) << meta.dump();
    EXPECT_EQ(meta["wav"]["bit_rate"], int64_t{wav_rate} * channels * 16) << meta.dump();
    EXPECT_EQ(meta["mp3"]["bytes"], sink.files["audio.mp3"].size()) << meta.dump();
    EXPECT_EQ(meta["mp3"]["bit_rate"], 192000) << meta.dump();
    EXPECT_EQ(meta["mp3"]["sample_rate"], mp3_rate) << meta.dump();
    EXPECT_NEAR(meta["mp3"]["duration_seconds"].get<double>(), mp3_seconds, 0.001) << meta.dump();
    EXPECT_GT(meta["mp3"]["encoder_delay"].get<int>(), 0) << meta.dump();
  }
};

TEST_F(AudioStageTest, MonoWavSourceAt44100) {
  ExpectWavAndMp3(samples_->Wav(), 44100, 1, 44100, 1);
}

TEST_F(AudioStageTest, StereoVideoSourceAt48000) {
  ExpectWavAndMp3(samples_->LongMp4(), 48000, 2, 48000, 2);
}

// libmp3lame takes at most 48 kHz: the MP3 is resampled, the WAV keeps the source's rate.
TEST_F(AudioStageTest, HighRateSourceGetsA48kHzMp3) {
  std::string source =
      Source("hirate.flac", "sine=f=1000:sample_rate=96000:d=3,aformat=channel_layouts=stereo");
  ExpectWavAndMp3(source, 96000, 2, 48000, 2);
}

// The WAV keeps all six channels; MP3 is mono or stereo, so it gets a downmix.
TEST_F(AudioStageTest, SurroundSourceGetsAStereoMp3) {
  std::string source =
      Source("surround.wav", "sine=f=440:sample_rate=48000:d=2,aformat=channel_layouts=5.1");
  ExpectWavAndMp3(source, 48000, 6, 48000, 2);
}

// The LAME tag tells the decoder the encoder delay and the padding; with it, the MP3
// decodes to exactly the source's samples (without it, about 50 ms more).
TEST_F(AudioStageTest, Mp3CarriesALameTagForGaplessLength) {
  auto stage = Stage();
  MemorySink sink;
  StageOutcome outcome = Run(*stage, samples_->Wav(), sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  const std::string& mp3 = sink.files["audio.mp3"];
  // The first frame holds no audio: "Info" (a Xing header for CBR) and, after it, the
  // LAME extension that libavformat signs "Lavf".
  std::string head = mp3.substr(0, 4096);
  size_t info = head.find("Info");
  ASSERT_NE(info, std::string::npos);
  EXPECT_NE(head.find("Lavf", info), std::string::npos);
  int64_t source = DecodedSamples(samples_->Wav());
  int64_t decoded = DecodedSamples(Saved(sink, "audio.mp3", "gapless.mp3"));
  EXPECT_EQ(decoded, source);
}

TEST_F(AudioStageTest, ParamsChooseBitrateAndFiles) {
  auto stage = Stage({{"mp3_bitrate", 128}, {"wav", false}});
  ASSERT_NE(stage, nullptr);
  EXPECT_EQ(stage->Params(),
            nlohmann::json(
                {{"wav", false}, {"mp3", true}, {"mp3_bitrate", 128}, {"mp3_sample_rate", 0}}));
  MemorySink sink;
  StageOutcome outcome = Run(*stage, samples_->H264AacMp4(), sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  EXPECT_EQ(sink.files.count("audio.wav"), 0u);
  ASSERT_EQ(sink.blobs.size(), 1u);
  EXPECT_EQ(sink.blobs[0].name, "audio.mp3");
  Probed mp3 = ProbeAudio(Saved(sink, "audio.mp3", "params.mp3"));
  EXPECT_EQ(mp3.codec, "mp3");
  EXPECT_EQ(mp3.bit_rate, 128000);
  EXPECT_FALSE(outcome.result.metadata.contains("wav"));
  EXPECT_EQ(outcome.result.metadata["mp3"]["bit_rate"], 128000);
}

TEST_F(AudioStageTest, Mp3SampleRateParamResamples) {
  auto stage = Stage({{"mp3_sample_rate", 22050}, {"mp3", true}, {"wav", false}});
  ASSERT_NE(stage, nullptr);
  MemorySink sink;
  StageOutcome outcome = Run(*stage, samples_->H264AacMp4(), sink);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  std::string mp3 = Saved(sink, "audio.mp3", "rate.mp3");
  Probed probed = ProbeAudio(mp3);
  EXPECT_EQ(probed.sample_rate, 22050);
  // MPEG-2 Layer III stops at 160 kb/s; the default 192 is capped.
  EXPECT_EQ(probed.bit_rate, 160000);
  EXPECT_NEAR(DecodedSeconds(mp3), DecodedSeconds(samples_->H264AacMp4()), kDurationTolerance);
}

TEST_F(AudioStageTest, RefusesBadParams) {
  for (const nlohmann::json& bad :
       {nlohmann::json{{"wav", false}, {"mp3", false}}, nlohmann::json{{"mp3_bitrate", 100}},
        nlohmann::json{{"mp3_bitrate", 640}}, nlohmann::json{{"mp3_bitrate", "192k"}},
        nlohmann::json{{"mp3_sample_rate", 96000}}, nlohmann::json{{"mp3_sample_rate", 23000}},
        nlohmann::json{{"aac", true}}}) {
    auto stage = AudioStage::Create(bad);
    ASSERT_FALSE(stage.has_value()) << bad.dump();
    EXPECT_EQ(stage.error().code, ErrorCode::kInvalidArgument) << stage.error().ToString();
  }
}

TEST_F(AudioStageTest, SkipsInputWithoutAudio) {
  auto stage = Stage();
  MemorySink sink;
  StageOutcome outcome = Run(*stage, samples_->VideoOnlyMp4(), sink);
  EXPECT_EQ(outcome.state, catalog::DerivativeState::kSkipped);
  EXPECT_EQ(outcome.skip_reason, "no_audio_stream");
  EXPECT_TRUE(sink.files.empty());
}

// A job cancelled mid-way: the run is destroyed without Finish(); its MP3 thread stops
// and is joined, and nothing is published.
TEST_F(AudioStageTest, CancelledRunPublishesNothing) {
  auto stage = Stage();
  MemorySink sink;
  RunOptions options;
  int packets = 0;
  options.on_progress = [&packets](const media::PassProgress&) -> Result<void> {
    if (++packets > 50) return Fail(ErrorCode::kCancelled, "job cancelled");
    return {};
  };
  StageOutcome outcome = Run(*stage, samples_->LongMp4(), sink, options);
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kFailed);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->code, ErrorCode::kCancelled);
  EXPECT_TRUE(sink.files.empty());
  EXPECT_TRUE(sink.blobs.empty());
}

// `samples` of a sine as planar float, the way AAC and MP3 decoders hand them over.
media::FramePtr SineFrame(int rate, int samples, int64_t offset) {
  media::FramePtr frame = media::NewFrame();
  frame->format = AV_SAMPLE_FMT_FLTP;
  frame->sample_rate = rate;
  frame->nb_samples = samples;
  av_channel_layout_default(&frame->ch_layout, 2);
  EXPECT_GE(av_frame_get_buffer(frame.get(), 0), 0);
  for (int c = 0; c < 2; ++c) {
    auto* out = reinterpret_cast<float*>(frame->extended_data[c]);
    for (int i = 0; i < samples; ++i) {
      out[i] = static_cast<float>(
          0.4 * std::sin(2 * std::numbers::pi * 330.0 * static_cast<double>(offset + i) / rate));
    }
  }
  return frame;
}

// Destroying a run whose MP3 thread still has a full queue of work cancels that work:
// it returns promptly instead of encoding the backlog, and publishes nothing.
TEST_F(AudioStageTest, RunDestroyedWithoutFinishJoinsItsThread) {
  auto stage = Stage({{"wav", false}});
  media::MediaInfo info;
  for (int round = 0; round < 20; ++round) {
    auto run = stage->Start(info);
    ASSERT_TRUE(run.has_value()) << run.error().ToString();
    for (int i = 0; i < 40; ++i) {
      media::FramePtr frame = SineFrame(48000, 1024, int64_t{i} * 1024);
      EXPECT_EQ((*run)->OnAudio(media::AudioBuffer{frame.get(), i * 1024 / 48000.0}),
                media::Feed::kMore);
    }
    auto started = std::chrono::steady_clock::now();
    run->reset();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  }
  // A run that never saw audio is destroyed just as cleanly.
  auto idle = stage->Start(info);
  ASSERT_TRUE(idle.has_value());
  idle->reset();
}

TEST_F(AudioStageTest, RunWithoutAudioFails) {
  auto stage = Stage();
  auto run = stage->Start(media::MediaInfo{});
  ASSERT_TRUE(run.has_value());
  MemorySink sink;
  auto finished = (*run)->Finish(sink, /*input_ended=*/true);
  ASSERT_FALSE(finished.has_value());
  EXPECT_EQ(finished.error().code, ErrorCode::kUnsupportedMedia);
  EXPECT_TRUE(sink.files.empty());
}

// The audio stage shares the one decode pass with loudness (another audio consumer
// with another format): both finish, the audio is decoded once.
TEST_F(AudioStageTest, SharesTheDecodePassWithLoudness) {
  auto audio = Stage();
  auto loudness = LoudnessStage::Create(nullptr);
  ASSERT_TRUE(loudness.has_value());
  MemorySink sinks[2];
  StageTask tasks[] = {{audio.get(), &sinks[0]}, {loudness->get(), &sinks[1]}};
  auto reader = testing::OpenOrDie(samples_->LongMp4());
  auto report = RunStages(*reader, tasks);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  for (const StageOutcome& outcome : report->outcomes) {
    EXPECT_EQ(outcome.state, catalog::DerivativeState::kDone)
        << outcome.stage->Name() << ": "
        << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  }
  EXPECT_EQ(sinks[0].files.size(), 2u);
  EXPECT_TRUE(report->stats.input_ended);
}

// Counts the bytes of each committed file and keeps none, for long inputs.
class CountingSink final : public OutputSink {
 public:
  Result<std::unique_ptr<blob::BlobWriter>> Create(std::string_view name) override {
    return std::unique_ptr<blob::BlobWriter>(std::make_unique<Writer>(std::string(name)));
  }
  void Add(catalog::OutputBlob blob) override { sizes[blob.name] = blob.size; }

  std::map<std::string, int64_t> sizes;  // committed and added, by file name

 private:
  class Writer final : public blob::BlobWriter {
   public:
    explicit Writer(std::string name) : name_(std::move(name)) {}
    Result<void> Write(std::span<const std::byte> data) override {
      written_ += static_cast<int64_t>(data.size());
      return {};
    }
    Result<blob::BlobInfo> Commit(std::string_view /*key*/) override {
      return blob::BlobInfo{"counted/" + name_, written_};
    }
    int64_t BytesWritten() const override { return written_; }

   private:
    std::string name_;
    int64_t written_ = 0;
  };
};

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Two minutes of 96 kHz stereo make a 46 MB WAV: both files are spooled to disk and
// streamed to the sink, so the process never holds either (its resident memory grows
// far less than the WAV's size).
TEST_F(AudioStageTest, LongInputKeepsMemoryFlat) {
  constexpr int kSeconds = 120;
  std::string source =
      Source("long.flac", "sine=f=440:sample_rate=96000:d=" + std::to_string(kSeconds) +
                              ",aformat=channel_layouts=stereo");
  auto stage = Stage();
  CountingSink sink;
  auto reader = testing::OpenOrDie(source);
  StageTask task{stage.get(), &sink};
  int64_t resident_before = testing::ResidentKib();
  double cpu_before = CpuSeconds();
  auto wall = std::chrono::steady_clock::now();
  testing::ResidentPeak peak;
  auto report = RunStages(*reader, std::span(&task, 1));
  int64_t grown_kib = peak.Stop() - resident_before;
  double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  double cpu_seconds = CpuSeconds() - cpu_before;
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  const StageOutcome& outcome = report->outcomes[0];
  ASSERT_EQ(outcome.state, catalog::DerivativeState::kDone)
      << (outcome.error ? outcome.error->ToString() : outcome.skip_reason);
  int64_t wav_data = int64_t{kSeconds} * 96000 * 2 * 2;
  EXPECT_GE(sink.sizes["audio.wav"], wav_data);
  EXPECT_LT(sink.sizes["audio.wav"], wav_data + 1024);
  // 192 kb/s for two minutes, give or take a frame and the tags.
  EXPECT_NEAR(static_cast<double>(sink.sizes["audio.mp3"]), kSeconds * 24000.0, 4096.0);
  std::cout << kSeconds << " s of 96 kHz stereo: " << wall_seconds << " s wall, " << cpu_seconds
            << " s CPU, resident memory grew by at most " << grown_kib << " KiB\n";
  if (testing::kFreedMemoryIsQuarantined)
    GTEST_SKIP() << "resident memory is not measured under ASan";
  // The MP3 thread's queue may hold 8 MiB of decoded samples (the decode runs ahead of
  // the MP3 encode by design); the rest is codec and I/O buffers. Two minutes of 96 kHz
  // stereo float would be 92 MiB.
  EXPECT_LT(grown_kib, 20 * 1024);
}

}  // namespace
}  // namespace reprise::stages
