// Stand-ins for the chapters stage's inputs in tests: a stage that writes one JSON file in
// its stage's shape (scenes.json: scenes_stage.h; transcript.json: transcript_stage.h;
// semantics.json: the contract between semantics and its readers), from what the test
// gives or from its own inputs (a "semantics" tagging the scenes the real scenes stage
// found). They decode nothing. RunRecorded() runs a consumer with its inputs in one job.
// Header-only, shared by tests/stages and tests/interop.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io.h"
#include "stages/runner.h"
#include "stages/stage.h"
#include "tests/stages/memory_inputs.h"
#include "tests/stages/memory_sink.h"

namespace reprise::stages {

class JsonFileStage final : public Stage {
 public:
  // The file's content, given the stage's inputs (null for a stage without inputs).
  using Content = std::function<std::string(const StageInputs* inputs)>;

  JsonFileStage(std::string name, std::string file, Content content,
                std::vector<std::string> inputs = {},
                std::optional<std::string> skip_reason = std::nullopt)
      : name_(std::move(name)),
        file_(std::move(file)),
        content_(std::move(content)),
        inputs_(std::move(inputs)),
        skip_reason_(std::move(skip_reason)) {}

  std::string_view Name() const override { return name_; }
  int Version() const override { return 1; }
  const nlohmann::json& Params() const override { return params_; }
  std::vector<std::string> Inputs() const override { return inputs_; }
  Consumption Consumes() const override { return {}; }
  std::optional<std::string> SkipReason(const media::MediaInfo& /*info*/) const override {
    return skip_reason_;
  }
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& /*info*/) const override {
    return std::unique_ptr<StageRun>(std::make_unique<Run>(*this, nullptr));
  }
  Result<std::unique_ptr<StageRun>> StartWith(const media::MediaInfo& /*info*/,
                                              const StageInputs& inputs) const override {
    return std::unique_ptr<StageRun>(std::make_unique<Run>(*this, &inputs));
  }

 private:
  class Run final : public StageRun {
   public:
    Run(const JsonFileStage& stage, const StageInputs* inputs) : stage_(stage), inputs_(inputs) {}
    Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
      auto written = WriteOutput(sink, stage_.file_, "application/json", stage_.content_(inputs_));
      if (!written) return Fail(written.error());
      return StageResult{};
    }

   private:
    const JsonFileStage& stage_;
    const StageInputs* inputs_;
  };

  std::string name_;
  std::string file_;
  Content content_;
  std::vector<std::string> inputs_;
  std::optional<std::string> skip_reason_;
  nlohmann::json params_ = nlohmann::json::object();
};

// One scene as the tests describe it: its times, and what semantics says of it.
struct TaggedScene {
  double start = 0;
  double end = 0;
  std::vector<std::string> tags;
  std::string description;
  bool failed = false;  // semantics has an "error" for it instead of an answer
};

// scenes.json as the scenes stage writes it.
inline std::string ScenesJson(const std::vector<TaggedScene>& scenes, double duration) {
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < scenes.size(); ++i) {
    list.push_back({{"index", i},
                    {"start", scenes[i].start},
                    {"end", scenes[i].end},
                    {"transition", i == 0 ? "start" : "cut"},
                    {"difference", i == 0 ? 0.0 : 0.5},
                    {"keyframe", "scene-000" + std::to_string(i) + ".jpg"},
                    {"keyframe_time", (scenes[i].start + scenes[i].end) / 2},
                    {"sharpness", 100.0}});
  }
  return nlohmann::json{{"duration", duration}, {"scenes", std::move(list)}}.dump(2);
}

// semantics.json in the contract's shape (source "model").
inline std::string SemanticsJson(const std::vector<TaggedScene>& scenes) {
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < scenes.size(); ++i) {
    const TaggedScene& scene = scenes[i];
    nlohmann::json entry = {
        {"index", i},
        {"start", scene.start},
        {"end", scene.end},
        {"description", scene.failed ? "" : scene.description},
        {"entities",
         {{"people", nlohmann::json::array()},
          {"objects", nlohmann::json::array()},
          {"places", nlohmann::json::array()}}},
        {"actions", nlohmann::json::array()},
        {"tags", scene.failed ? nlohmann::json::array() : nlohmann::json(scene.tags)}};
    if (scene.failed) entry["error"] = "the service answered 500 four times";
    list.push_back(std::move(entry));
  }
  return nlohmann::json{{"source", "model"},
                        {"models", {{"scene", "test-vision"}, {"summary", "test-vision"}}},
                        {"summary", "A test video."},
                        {"tags", nlohmann::json::array()},
                        {"scenes", std::move(list)},
                        {"usage",
                         {{"requests", scenes.size() + 1},
                          {"prompt_tokens", 100},
                          {"completion_tokens", 20},
                          {"total_tokens", 120}}}}
      .dump(2);
}

struct SpokenSegment {
  double start = 0;
  double end = 0;
  std::string text;
};

// transcript.json as the transcript stage writes it (no word times: a remote backend's).
inline std::string TranscriptJson(const std::vector<SpokenSegment>& segments) {
  nlohmann::json list = nlohmann::json::array();
  for (const SpokenSegment& segment : segments) {
    list.push_back({{"start", segment.start},
                    {"end", segment.end},
                    {"text", segment.text},
                    {"words", nlohmann::json::array()}});
  }
  return nlohmann::json{
      {"language", "en"}, {"backend", "openai"}, {"model", "test-whisper"}, {"segments", list}}
      .dump(2);
}

// What a semantics stand-in saw of scenes.json.
struct ScenesSeen {
  double duration = 0;
  size_t count = 0;
};

// semantics.json for the scenes its input scenes.json lists, scene i tagged "colour i"
// (so no two scenes share a tag); what it read goes to `seen`.
inline JsonFileStage::Content TagEachScene(ScenesSeen& seen) {
  return [&seen](const StageInputs* inputs) {
    auto index = nlohmann::json::parse(
        ReadInputFile(*inputs, "scenes", "scenes.json", 1 << 20).value_or("{}"));
    seen.duration = index.at("duration").get<double>();
    std::vector<TaggedScene> tagged;
    for (const auto& scene : index.at("scenes")) {
      tagged.push_back({scene.at("start").get<double>(),
                        scene.at("end").get<double>(),
                        {"colour " + std::to_string(tagged.size())},
                        "A plain colour."});
    }
    seen.count = tagged.size();
    return SemanticsJson(tagged);
  };
}

// Runs `stages` on `reader` in one RunStages call, each into a fresh sink appended to
// `sinks`, recording each outcome into `inputs` as the runner reports it (so a consumer
// reads what its inputs wrote).
inline Result<RunReport> RunRecorded(ByteReader& reader, const std::vector<const Stage*>& stages,
                                     MemoryInputs& inputs,
                                     std::vector<std::unique_ptr<MemorySink>>& sinks) {
  const size_t first = sinks.size();
  std::vector<StageTask> tasks;
  for (const Stage* stage : stages) {
    sinks.push_back(std::make_unique<MemorySink>());
    tasks.push_back(StageTask{stage, sinks.back().get(), &inputs});
  }
  RunOptions options;
  options.on_outcome = [&](size_t i, const StageOutcome& outcome) {
    inputs.Record(outcome, *sinks[first + i]);
  };
  return RunStages(reader, tasks, options);
}

}  // namespace reprise::stages
