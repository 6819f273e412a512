#include "stages/runner.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/pixfmt.h>
}

#include "stages/probe_stage.h"
#include "stages/thumbnail_stage.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/fake_stage.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

using catalog::DerivativeState;
namespace samples = testing::samples;

class RunnerTest : public testing::MediaSuite {
 protected:
  void SetUp() override {
    probe_ = std::move(*ProbeStage::Create(nullptr));
    thumbnail_ = std::move(*ThumbnailStage::Create(nullptr));
  }

  // Runs `stages` on `reader`, each with its own sink.
  Result<RunReport> Run(ByteReader& reader, const std::vector<const Stage*>& stages,
                        const RunOptions& options = {}) {
    sinks_.clear();
    std::vector<StageTask> tasks;
    for (const Stage* stage : stages) {
      sinks_.push_back(std::make_unique<MemorySink>());
      tasks.push_back(StageTask{stage, sinks_.back().get()});
    }
    return RunStages(reader, tasks, options);
  }

  // Every packet of a file, counted by a packets-only pass.
  int64_t TotalPackets(const std::string& path) {
    FakeStage packets("packets", 1, {}, FakeBehaviour{.wants = {.packets = true}});
    auto reader = testing::OpenOrDie(path);
    auto report = Run(*reader, {&packets});
    EXPECT_TRUE(report.has_value());
    return report ? report->stats.packets_read : 0;
  }

  std::unique_ptr<ProbeStage> probe_;
  std::unique_ptr<ThumbnailStage> thumbnail_;
  std::vector<std::unique_ptr<MemorySink>> sinks_;
};

TEST_F(RunnerTest, ProbeAndThumbnailOpenOnceAndReadOnlyTheStart) {
  const std::string& path = samples_->LongMp4();
  testing::FlakyReader reader(testing::OpenOrDie(path));
  auto report = Run(reader, {probe_.get(), thumbnail_.get()});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  ASSERT_EQ(report->outcomes.size(), 2u);
  EXPECT_EQ(report->outcomes[0].state, DerivativeState::kDone);
  EXPECT_EQ(report->outcomes[1].state, DerivativeState::kDone);
  EXPECT_EQ(report->outcomes[0].stage, probe_.get());
  EXPECT_EQ(report->info.BestVideo()->width, samples::kSmallWidth);

  // 250 video frames and ~470 audio packets in the file: only the first few were read.
  EXPECT_LE(report->stats.video_frames_decoded, 4);
  EXPECT_EQ(report->stats.audio_frames_decoded, 0);
  EXPECT_LE(report->stats.packets_read, 20);
  EXPECT_FALSE(report->stats.input_ended);
  EXPECT_LT(reader.bytes_read(), reader.Size() / 2);
}

TEST_F(RunnerTest, AllStagesShareOnePassOverTheWholeFile) {
  const std::string& path = samples_->H264AacMp4();
  const int64_t total_packets = TotalPackets(path);
  FakeStage audio(
      "audio", 1, {},
      FakeBehaviour{.wants = {.audio = AudioRequest{
                                  .sample_rate = 16000, .channels = 1, .sample_format = -1}}});
  FakeStage packets("packets", 1, {}, FakeBehaviour{.wants = {.packets = true}});
  testing::FlakyReader reader(testing::OpenOrDie(path));
  auto report = Run(reader, {probe_.get(), thumbnail_.get(), &audio, &packets});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  for (const auto& outcome : report->outcomes) {
    EXPECT_EQ(outcome.state, DerivativeState::kDone)
        << outcome.stage->Name() << ": " << (outcome.error ? outcome.error->ToString() : "");
  }
  // Each packet was read once for everyone.
  EXPECT_EQ(report->stats.packets_read, total_packets);
  EXPECT_EQ(packets.log->packets, total_packets);
  EXPECT_TRUE(report->stats.input_ended);
  EXPECT_TRUE(audio.log->input_ended);
  EXPECT_NEAR(static_cast<double>(audio.log->audio_samples) / 16000, samples::kSmallSeconds, 0.1);
  // Video decoding stopped once the thumbnail had its frame; audio went on to the end.
  EXPECT_LE(report->stats.video_frames_decoded, 4);
  EXPECT_GT(report->stats.audio_frames_decoded, 80);
  // The file was read about once (probing re-reads a little around the index).
  EXPECT_LT(reader.bytes_read(), reader.Size() + 256 * 1024);
  EXPECT_EQ(sinks_[1]->files.count("thumb.jpg"), 1u);

  catalog::DerivativeOutcome probed = ToDerivativeOutcome(report->outcomes[0], {});
  EXPECT_EQ(probed.state, DerivativeState::kDone);
  ASSERT_TRUE(probed.asset_media.has_value());
  EXPECT_EQ(probed.asset_media->kind, catalog::AssetKind::kVideo);
  catalog::DerivativeOutcome thumb = ToDerivativeOutcome(report->outcomes[1], sinks_[1]->blobs);
  ASSERT_EQ(thumb.blobs.size(), 1u);
  EXPECT_EQ(thumb.blobs[0].name, "thumb.jpg");
  EXPECT_EQ(thumb.metadata["width"], 320);
  EXPECT_FALSE(thumb.error.has_value());
}

TEST_F(RunnerTest, ThumbnailAloneOnALongVideoStopsAfterTheFirstFrames) {
  const std::string& path = samples_->LongMp4();
  FakeStage every_frame("every_frame", 1, {},
                        FakeBehaviour{.wants = {.video = VideoRequest{.width = 32}}});
  auto full_reader = testing::OpenOrDie(path);
  auto full = Run(*full_reader, {&every_frame});
  ASSERT_TRUE(full.has_value());
  const int64_t total_frames = full->stats.video_frames_decoded;
  EXPECT_EQ(total_frames, static_cast<int64_t>(samples::kLongSeconds * samples::kFrameRate));

  auto reader = testing::OpenOrDie(path);
  auto report = Run(*reader, {thumbnail_.get()});
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcomes[0].state, DerivativeState::kDone);
  EXPECT_LE(report->stats.video_frames_decoded, 4);
  EXPECT_LT(report->stats.video_frames_decoded * 50, total_frames);
  EXPECT_LT(report->stats.packets_read * 20, full->stats.packets_read);
}

TEST_F(RunnerTest, FailingAndThrowingStagesDoNotStopTheOthers) {
  FakeStage finish_fails(
      "finish_fails", 1, {},
      FakeBehaviour{.wants = {.video = VideoRequest{}}, .frames_wanted = 1, .fail_finish = true});
  FakeStage throws_fed("throws_fed", 1, {},
                       FakeBehaviour{.wants = {.video = VideoRequest{}}, .throw_when_fed = true});
  FakeStage throws_start("throws_start", 1, {}, FakeBehaviour{.throw_in_start = true});
  FakeStage fails_start("fails_start", 1, {}, FakeBehaviour{.fail_start = true});
  FakeStage throws_skip("throws_skip", 1, {}, FakeBehaviour{.throw_in_skip = true});
  FakeStage skipped("skipped", 1, {}, FakeBehaviour{.skip_reason = "not_today"});
  auto reader = testing::OpenOrDie(samples_->H264AacMp4());
  auto report = Run(*reader, {&finish_fails, &throws_fed, probe_.get(), &throws_start, &fails_start,
                              &throws_skip, &skipped, thumbnail_.get()});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  const auto& out = report->outcomes;
  ASSERT_EQ(out.size(), 8u);

  EXPECT_EQ(out[0].state, DerivativeState::kFailed);
  EXPECT_EQ(out[0].error->message, "finish failed on purpose");
  EXPECT_EQ(finish_fails.log->finishes, 1);

  EXPECT_EQ(out[1].state, DerivativeState::kFailed);
  EXPECT_EQ(out[1].error->code, ErrorCode::kInternal);
  EXPECT_NE(out[1].error->message.find("throws_fed threw in OnVideoFrame: fed and exploded"),
            std::string::npos)
      << out[1].error->message;
  EXPECT_EQ(throws_fed.log->finishes, 0);  // abandoned, not finished

  EXPECT_EQ(out[2].state, DerivativeState::kDone);

  EXPECT_EQ(out[3].state, DerivativeState::kFailed);
  EXPECT_NE(out[3].error->message.find("start exploded"), std::string::npos);

  EXPECT_EQ(out[4].state, DerivativeState::kFailed);
  EXPECT_EQ(out[4].error->code, ErrorCode::kInvalidArgument);

  EXPECT_EQ(out[5].state, DerivativeState::kFailed);
  EXPECT_NE(out[5].error->message.find("threw in SkipReason"), std::string::npos);

  EXPECT_EQ(out[6].state, DerivativeState::kSkipped);
  EXPECT_EQ(out[6].skip_reason, "not_today");
  EXPECT_EQ(skipped.log->starts, 0);

  EXPECT_EQ(out[7].state, DerivativeState::kDone);
  EXPECT_EQ(sinks_[7]->files.count("thumb.jpg"), 1u);
}

TEST_F(RunnerTest, ARunThatFindsAtTheEndThatItDoesNotApplyIsRecordedAsSkipped) {
  FakeStage unheard(
      "unheard", 1, {},
      FakeBehaviour{.wants = {.audio = AudioRequest{}}, .skip_in_finish = "no_speech"});
  FakeStage heard("heard", 1, {}, FakeBehaviour{.wants = {.audio = AudioRequest{}}});
  auto reader = testing::OpenOrDie(samples_->H264AacMp4());
  auto report = Run(*reader, {&unheard, &heard});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  const auto& out = report->outcomes;
  EXPECT_EQ(unheard.log->finishes, 1);
  EXPECT_GT(unheard.log->audio_samples, 0);
  EXPECT_EQ(out[0].state, DerivativeState::kSkipped);
  EXPECT_EQ(out[0].skip_reason, "no_speech");
  EXPECT_FALSE(out[0].error.has_value());
  catalog::DerivativeOutcome recorded = ToDerivativeOutcome(
      out[0], {catalog::OutputBlob{"stray.txt", "memory/stray.txt", 1, "text/plain"}});
  EXPECT_EQ(recorded.state, DerivativeState::kSkipped);
  EXPECT_EQ(recorded.skip_reason, "no_speech");
  EXPECT_TRUE(recorded.blobs.empty());  // a skip records no files
  EXPECT_EQ(recorded.metadata, out[0].result.metadata);
  EXPECT_EQ(out[1].state, DerivativeState::kDone);
  EXPECT_TRUE(out[1].skip_reason.empty());
}

TEST_F(RunnerTest, StagesSharingARequestGetTheSameConvertedFrame) {
  FakeStage a("a", 1, {},
              FakeBehaviour{.wants = {.video = VideoRequest{.width = 64}}, .frames_wanted = 2});
  FakeStage b("b", 1, {},
              FakeBehaviour{.wants = {.video = VideoRequest{.width = 64}}, .frames_wanted = 2});
  auto reader = testing::OpenOrDie(samples_->H264AacMp4());
  auto report = Run(*reader, {&a, &b});
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(a.log->frames.size(), 2u);
  ASSERT_EQ(b.log->frames.size(), 2u);
  EXPECT_EQ(a.log->frames[0], b.log->frames[0]);
  EXPECT_EQ(a.log->frames[1], b.log->frames[1]);
  EXPECT_FALSE(a.log->input_ended);
}

TEST_F(RunnerTest, CancellationFailsStagesStillBeingFed) {
  FakeStage audio("audio", 1, {}, FakeBehaviour{.wants = {.audio = AudioRequest{}}});
  RunOptions options;
  options.on_progress = [](const media::PassProgress& progress) -> Result<void> {
    if (progress.stats.packets_read >= 10) return Fail(ErrorCode::kCancelled, "worker stopping");
    return {};
  };
  auto reader = testing::OpenOrDie(samples_->LongMp4());
  auto report = Run(*reader, {probe_.get(), thumbnail_.get(), &audio}, options);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcomes[0].state, DerivativeState::kDone);
  EXPECT_EQ(report->outcomes[1].state, DerivativeState::kDone);
  ASSERT_EQ(report->outcomes[2].state, DerivativeState::kFailed);
  EXPECT_EQ(report->outcomes[2].error->code, ErrorCode::kCancelled);
  EXPECT_EQ(audio.log->finishes, 0);
}

TEST_F(RunnerTest, ProgressIsReportedBeforeTheFinishesEvenWithoutReadingInput) {
  // Stages that want nothing decoded: the pass reads no packet, yet the caller still
  // hears from the run before the Finish() calls, which is where it renews a lease.
  FakeStage first("first", 1, {}, FakeBehaviour{});
  FakeStage second("second", 1, {}, FakeBehaviour{});
  int calls = 0;
  RunOptions options;
  options.on_progress = [&](const media::PassProgress&) -> Result<void> {
    ++calls;
    return Fail(ErrorCode::kCancelled, "ignored between finishes");
  };
  auto reader = testing::OpenOrDie(samples_->Wav());
  auto report = Run(*reader, {&first, &second}, options);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->stats.packets_read, 0);
  EXPECT_GE(calls, 1);
  EXPECT_EQ(first.log->finishes, 1);
  EXPECT_EQ(second.log->finishes, 1);
  EXPECT_EQ(report->outcomes[1].state, DerivativeState::kDone);
}

// The runs are finished at once: each Finish() here waits until the other has begun,
// which only concurrent calls can satisfy (in sequence the first would wait alone until
// its deadline).
TEST_F(RunnerTest, RunsAreFinishedConcurrently) {
  std::mutex mutex;
  std::condition_variable arrived_changed;
  int arrived = 0;
  int met = 0;
  auto meet = [&] {
    std::unique_lock lock(mutex);
    ++arrived;
    arrived_changed.notify_all();
    if (arrived_changed.wait_for(lock, std::chrono::seconds(10), [&] { return arrived >= 2; })) {
      ++met;
    }
  };
  FakeBehaviour meeting;
  meeting.on_finish = meet;
  FakeStage first("first", 1, {}, meeting);
  FakeStage second("second", 1, {}, meeting);
  FakeBehaviour failing;
  failing.fail_finish = true;
  FakeStage third("third", 1, {}, failing);
  auto reader = testing::OpenOrDie(samples_->Wav());
  auto report = Run(*reader, {&first, &second, &third});
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(met, 2);
  EXPECT_EQ(report->outcomes[0].state, DerivativeState::kDone);
  EXPECT_EQ(report->outcomes[1].state, DerivativeState::kDone);
  ASSERT_EQ(report->outcomes[2].state, DerivativeState::kFailed);
  EXPECT_NE(report->outcomes[2].error->message.find("on purpose"), std::string::npos);
}

// A Finish() that takes long (an encode flushed, many files published) still lets the
// caller renew its lease: heartbeats go on while it runs. This Finish() returns only
// after three of them.
TEST_F(RunnerTest, HeartbeatsContinueWhileARunFinishes) {
  std::mutex mutex;
  std::condition_variable beat;
  int beats = 0;
  bool saw_three = false;
  FakeBehaviour slow;
  slow.on_finish = [&] {
    std::unique_lock lock(mutex);
    saw_three = beat.wait_for(lock, std::chrono::seconds(30), [&] { return beats >= 3; });
  };
  FakeStage stage("slow", 1, {}, slow);
  RunOptions options;
  options.finish_heartbeat_micros = 10'000;
  options.on_progress = [&](const media::PassProgress&) -> Result<void> {
    {
      std::lock_guard lock(mutex);
      ++beats;
    }
    beat.notify_all();
    return {};
  };
  auto reader = testing::OpenOrDie(samples_->Wav());
  auto report = Run(*reader, {&stage}, options);
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(saw_three);
  EXPECT_EQ(report->outcomes[0].state, DerivativeState::kDone);
}

TEST_F(RunnerTest, InputThatIsNotMediaIsAnErrorNamingIt) {
  for (const std::string& path : {samples_->RandomBytesMp4(), samples_->TruncatedMp4()}) {
    auto reader = testing::OpenOrDie(path);
    auto report = Run(*reader, {probe_.get(), thumbnail_.get()});
    ASSERT_FALSE(report.has_value()) << path;
    EXPECT_EQ(report.error().code, ErrorCode::kUnsupportedMedia);
    EXPECT_NE(report.error().message.find(path), std::string::npos) << report.error().message;
  }
}

}  // namespace
}  // namespace reprise::stages
