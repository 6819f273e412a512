// A configurable Stage for runner and registry tests: it can want video, audio or
// packets, count what it is fed, fail or throw at a chosen point, and declare inputs.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "media/ffmpeg.h"
#include "stages/stage.h"

namespace reprise::stages {

struct FakeBehaviour {
  Consumption wants{};
  int frames_wanted = 0;  // kDone after this many deliveries; 0: feed me to the end
  std::optional<std::string> skip_reason{};
  bool throw_in_skip = false;
  bool throw_in_start = false;
  bool fail_start = false;
  bool throw_when_fed = false;
  bool fail_finish = false;
  std::optional<std::string> skip_in_finish{};  // Finish() reports this skip reason
  std::function<void()> on_finish{};            // called first thing in Finish()
  std::string output{};                         // when set, Finish() writes it as "out.txt"
  // Started with its inputs: reads "out.txt" of each input that has one into
  // FakeLog::read ("name=content", or "name:skipped:reason" for a skipped input).
};

// What runs of a FakeStage saw; shared with the test.
struct FakeLog {
  int starts = 0;
  int finishes = 0;
  bool input_ended = false;
  int video_frames = 0;
  int audio_buffers = 0;
  int64_t audio_samples = 0;
  int64_t packets = 0;
  std::vector<const AVFrame*> frames;
  int starts_with_inputs = 0;
  std::vector<std::string> read;
};

class FakeStage final : public Stage {
 public:
  FakeStage(std::string name, int version, nlohmann::json params, FakeBehaviour behaviour,
            std::vector<std::string> inputs = {})
      : name_(std::move(name)),
        version_(version),
        params_(std::move(params)),
        behaviour_(std::move(behaviour)),
        inputs_(std::move(inputs)) {}

  std::string_view Name() const override { return name_; }
  int Version() const override { return version_; }
  const nlohmann::json& Params() const override { return params_; }
  std::vector<std::string> Inputs() const override { return inputs_; }
  Consumption Consumes() const override { return behaviour_.wants; }
  std::optional<std::string> SkipReason(const media::MediaInfo& /*info*/) const override {
    if (behaviour_.throw_in_skip) throw std::runtime_error("skip check exploded");
    return behaviour_.skip_reason;
  }
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& /*info*/) const override {
    ++log->starts;
    if (behaviour_.throw_in_start) throw std::runtime_error("start exploded");
    if (behaviour_.fail_start) return Fail(ErrorCode::kInvalidArgument, "cannot start");
    return std::unique_ptr<StageRun>(std::make_unique<Run>(behaviour_, *log));
  }
  Result<std::unique_ptr<StageRun>> StartWith(const media::MediaInfo& info,
                                              const StageInputs& inputs) const override {
    ++log->starts_with_inputs;
    for (const auto& input : inputs_) {
      auto result = inputs.Get(input);
      if (!result) return Fail(result.error());
      if ((*result)->state == catalog::DerivativeState::kSkipped) {
        log->read.push_back(input + ":skipped:" + (*result)->skip_reason);
        continue;
      }
      auto content = ReadInputFile(inputs, input, "out.txt", 1 << 20);
      if (!content) return Fail(content.error());
      log->read.push_back(input + "=" + *content);
    }
    return Start(info);
  }

  std::shared_ptr<FakeLog> log = std::make_shared<FakeLog>();

 private:
  class Run final : public StageRun {
   public:
    Run(const FakeBehaviour& behaviour, FakeLog& log) : behaviour_(behaviour), log_(log) {}
    Feed OnVideoFrame(const media::VideoFrame& frame) override {
      ++log_.video_frames;
      log_.frames.push_back(frame.frame);
      return Fed();
    }
    Feed OnAudio(const media::AudioBuffer& audio) override {
      ++log_.audio_buffers;
      log_.audio_samples += audio.frame->nb_samples;
      return Fed();
    }
    Feed OnPacket(const media::PacketView& /*packet*/) override {
      ++log_.packets;
      return Fed();
    }
    Result<StageResult> Finish(OutputSink& sink, bool input_ended) override {
      if (behaviour_.on_finish) behaviour_.on_finish();
      ++log_.finishes;
      log_.input_ended = input_ended;
      if (behaviour_.fail_finish) return Fail(ErrorCode::kInternal, "finish failed on purpose");
      if (!behaviour_.output.empty()) {
        auto written = WriteOutput(sink, "out.txt", "text/plain", behaviour_.output);
        if (!written) return Fail(written.error());
      }
      StageResult result;
      result.metadata = {{"video_frames", log_.video_frames}};
      result.skip_reason = behaviour_.skip_in_finish;
      return result;
    }

   private:
    Feed Fed() {
      if (behaviour_.throw_when_fed) throw std::runtime_error("fed and exploded");
      ++fed_;
      return behaviour_.frames_wanted > 0 && fed_ >= behaviour_.frames_wanted ? Feed::kDone
                                                                              : Feed::kMore;
    }
    const FakeBehaviour& behaviour_;
    FakeLog& log_;
    int fed_ = 0;
  };

  std::string name_;
  int version_;
  nlohmann::json params_;
  FakeBehaviour behaviour_;
  std::vector<std::string> inputs_;
};

}  // namespace reprise::stages
