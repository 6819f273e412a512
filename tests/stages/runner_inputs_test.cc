// Stages that consume other stages (Stage::Inputs()): the runner's waves, what a consumer
// is started with, and how an input's failure or skip reaches it.
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/fake_stage.h"
#include "tests/stages/memory_inputs.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

using catalog::DerivativeState;
using ::testing::HasSubstr;

class RunnerInputsTest : public testing::MediaSuite {
 protected:
  // Runs `stages` (in this order) on `reader`, recording each outcome into inputs_ as the
  // runner reports it, and the order it was reported in.
  Result<RunReport> Run(ByteReader& reader, const std::vector<const Stage*>& stages) {
    sinks_.clear();
    std::vector<StageTask> tasks;
    for (const Stage* stage : stages) {
      sinks_.push_back(std::make_unique<MemorySink>());
      tasks.push_back(StageTask{stage, sinks_.back().get(), &inputs_});
    }
    RunOptions options;
    options.on_outcome = [&](size_t i, const StageOutcome& outcome) {
      reported_.emplace_back(outcome.stage->Name());
      EXPECT_EQ(outcome.stage, stages[i]);
      inputs_.Record(outcome, *sinks_[i]);
    };
    return RunStages(reader, tasks, options);
  }

  MemoryInputs inputs_;
  std::vector<std::unique_ptr<MemorySink>> sinks_;
  std::vector<std::string> reported_;
};

FakeBehaviour OneFrameWriting(std::string output) {
  return FakeBehaviour{.wants = {.video = VideoRequest{.width = 32}},
                       .frames_wanted = 1,
                       .output = std::move(output)};
}

TEST_F(RunnerInputsTest, ConsumersRunAfterTheirInputsAndReadWhatTheyWrote) {
  FakeStage scenes("scenes", 1, {}, OneFrameWriting("three scenes"));
  FakeStage semantics("semantics", 1, {}, FakeBehaviour{.output = "a summary"}, {"scenes"});
  FakeStage chapters("chapters", 1, {}, FakeBehaviour{}, {"semantics", "scenes"});
  auto reader = testing::OpenOrDie(samples_->H264AacMp4());
  // Listed consumers first: the order of the tasks does not decide the order of the run.
  auto report = Run(*reader, {&chapters, &semantics, &scenes});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  for (const auto& outcome : report->outcomes) {
    EXPECT_EQ(outcome.state, DerivativeState::kDone)
        << outcome.stage->Name() << ": " << (outcome.error ? outcome.error->ToString() : "");
  }
  EXPECT_EQ(reported_, (std::vector<std::string>{"scenes", "semantics", "chapters"}));
  EXPECT_EQ(semantics.log->read, (std::vector<std::string>{"scenes=three scenes"}));
  EXPECT_EQ(chapters.log->read,
            (std::vector<std::string>{"semantics=a summary", "scenes=three scenes"}));
  EXPECT_EQ(semantics.log->starts_with_inputs, 1);
  EXPECT_EQ(scenes.log->starts_with_inputs, 0);  // no inputs: started plainly
  // Consumers that decode nothing cost no second read: one frame was decoded in all.
  EXPECT_EQ(report->stats.video_frames_decoded, scenes.log->video_frames);
}

TEST_F(RunnerInputsTest, AnInputThatFailsFailsItsConsumersWithItsReasonAndNothingElse) {
  FakeStage scenes(
      "scenes", 1, {},
      FakeBehaviour{
          .wants = {.video = VideoRequest{.width = 32}}, .frames_wanted = 1, .fail_finish = true});
  FakeStage semantics("semantics", 1, {}, FakeBehaviour{}, {"scenes"});
  FakeStage chapters("chapters", 1, {}, FakeBehaviour{}, {"semantics"});
  FakeStage other("thumbs", 1, {}, OneFrameWriting("a picture"));
  auto reader = testing::OpenOrDie(samples_->H264AacMp4());
  auto report = Run(*reader, {&scenes, &semantics, &chapters, &other});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->outcomes[0].state, DerivativeState::kFailed);
  const auto& consumer = report->outcomes[1];
  ASSERT_EQ(consumer.state, DerivativeState::kFailed);
  EXPECT_EQ(consumer.error->code, ErrorCode::kInternal);  // the input's own code
  EXPECT_THAT(consumer.error->message, HasSubstr("input scenes"));
  EXPECT_THAT(consumer.error->message, HasSubstr("finish failed on purpose"));
  // Down the chain: the consumer's consumer fails naming the consumer.
  ASSERT_EQ(report->outcomes[2].state, DerivativeState::kFailed);
  EXPECT_THAT(report->outcomes[2].error->message, HasSubstr("input semantics"));
  EXPECT_EQ(semantics.log->starts_with_inputs, 0);
  EXPECT_EQ(chapters.log->starts_with_inputs, 0);
  EXPECT_EQ(report->outcomes[3].state, DerivativeState::kDone);
}

TEST_F(RunnerInputsTest, ASkippedInputReachesItsConsumerAsSkipped) {
  FakeStage scenes("scenes", 1, {},
                   FakeBehaviour{.wants = {.video = VideoRequest{}},
                                 .skip_reason = std::string("no_video_stream")});
  FakeStage transcript("transcript", 1, {}, FakeBehaviour{.output = "hello world"});
  FakeStage semantics("semantics", 1, {}, FakeBehaviour{}, {"scenes", "transcript"});
  auto reader = testing::OpenOrDie(samples_->Wav());
  auto report = Run(*reader, {&semantics, &transcript, &scenes});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->outcomes[0].state, DerivativeState::kDone);
  EXPECT_EQ(semantics.log->read,
            (std::vector<std::string>{"scenes:skipped:no_video_stream", "transcript=hello world"}));
}

TEST_F(RunnerInputsTest, InputsOutsideTheRunComeFromTheInputsGiven) {
  InputResult transcript;
  transcript.state = DerivativeState::kDone;
  inputs_.Put("transcript", transcript, {{"out.txt", "words"}});
  FakeStage semantics("semantics", 1, {}, FakeBehaviour{}, {"transcript"});
  FakeStage chapters("chapters", 1, {}, FakeBehaviour{}, {"missing"});
  auto reader = testing::OpenOrDie(samples_->Wav());
  auto report = Run(*reader, {&semantics, &chapters});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->outcomes[0].state, DerivativeState::kDone);
  EXPECT_EQ(semantics.log->read, (std::vector<std::string>{"transcript=words"}));
  ASSERT_EQ(report->outcomes[1].state, DerivativeState::kFailed);
  EXPECT_EQ(report->outcomes[1].error->code, ErrorCode::kUnavailable);
  EXPECT_THAT(report->outcomes[1].error->message, HasSubstr("input missing"));
}

TEST_F(RunnerInputsTest, AConsumerThatDecodesReadsTheOriginalAgainAfterItsInputs) {
  FakeStage scenes("scenes", 1, {}, OneFrameWriting("cuts"));
  FakeStage listener(
      "listener", 1, {},
      FakeBehaviour{.wants = {.audio = AudioRequest{.sample_rate = 16000, .channels = 1}}},
      {"scenes"});
  testing::FlakyReader reader(testing::OpenOrDie(samples_->H264AacMp4()));
  auto report = Run(reader, {&listener, &scenes});
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  ASSERT_EQ(report->outcomes[0].state, DerivativeState::kDone)
      << report->outcomes[0].error->ToString();
  EXPECT_EQ(listener.log->read, (std::vector<std::string>{"scenes=cuts"}));
  // The second pass read the audio from the start to the end.
  EXPECT_NEAR(static_cast<double>(listener.log->audio_samples) / 16000,
              testing::samples::kSmallSeconds, 0.1);
  EXPECT_TRUE(listener.log->input_ended);
  EXPECT_GT(report->stats.audio_frames_decoded, 0);
}

}  // namespace
}  // namespace reprise::stages
