#include "stages/semantics_stage.h"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "stages/params.h"
#include "stages/vision/keyframe_signals.h"

namespace reprise::stages {
namespace {

using semantics::KeyframeSignals;
using semantics::SceneEntry;
using semantics::SceneList;
using semantics::Spoken;

constexpr size_t kMaxVideoTags = 20;

constexpr std::string_view kScenePrompt =
    "You describe one scene of a video from its keyframe and the words spoken during it. "
    "Answer with: description, one or two plain factual sentences on what the scene shows "
    "and what happens in it; entities, the people (by role or appearance, never guessed "
    "names), objects and places that are visible or named; actions, short verb phrases "
    "for what is being done; tags, a few lower-case keywords someone would search for. "
    "Describe only what the picture and the words support; leave a list empty rather "
    "than guess.";
constexpr std::string_view kSummaryPrompt =
    "You summarise a video from descriptions of its scenes, in order, and the transcript "
    "of its speech. Answer with: summary, three to five plain factual sentences on what "
    "the video shows and says, using the transcript for what is discussed; tags, up to "
    "ten lower-case keywords for the whole video, most important first. Do not invent "
    "what neither the descriptions nor the transcript support.";

Error ParamError(std::string_view name, const std::string& what) {
  return Error{ErrorCode::kInvalidArgument,
               "stage 'semantics' param '" + std::string(name) + "' " + what, ""};
}

nlohmann::json ModelDefaults() {
  return {{"backend", SemanticsStage::kOpenAiBackend},
          {"scene_model", "gpt-4o"},
          {"summary_model", "gpt-4o-mini"},
          {"scene_prompt", kScenePrompt},
          {"summary_prompt", kSummaryPrompt},
          {"image_detail", "low"},
          {"max_tokens", 800},
          {"temperature", 0.0},
          {"scene_transcript_chars", 1000},
          {"max_transcript_chars", 8000}};
}

nlohmann::json SignalDefaults() {
  return {{"backend", SemanticsStage::kSignalBackend},
          {"still_below", 0.002},
          {"high_motion_above", 0.05},
          {"spoken_chars", 240}};
}

Result<semantics::ModelOptions> ModelOptionsOf(const nlohmann::json& params) {
  semantics::ModelOptions options;
  options.scene_model = params.at("scene_model").get<std::string>();
  options.summary_model = params.at("summary_model").get<std::string>();
  if (options.scene_model.empty()) return Fail(ParamError("scene_model", "must name a model"));
  if (options.summary_model.empty()) {
    return Fail(ParamError("summary_model", "must name a model"));
  }
  options.scene_prompt = params.at("scene_prompt").get<std::string>();
  options.summary_prompt = params.at("summary_prompt").get<std::string>();
  options.image_detail = params.at("image_detail").get<std::string>();
  if (options.image_detail != "low" && options.image_detail != "high" &&
      options.image_detail != "auto") {
    return Fail(ParamError("image_detail", "must be \"low\", \"high\" or \"auto\", got \"" +
                                               options.image_detail + "\""));
  }
  auto max_tokens = IntParam(SemanticsStage::kName, params, "max_tokens", 16, 16384);
  if (!max_tokens) return Fail(max_tokens.error());
  options.max_tokens = *max_tokens;
  auto temperature = NumberParam(SemanticsStage::kName, params, "temperature", 0, 2);
  if (!temperature) return Fail(temperature.error());
  options.temperature = *temperature;
  auto scene_chars = IntParam(SemanticsStage::kName, params, "scene_transcript_chars", 0, 20000);
  if (!scene_chars) return Fail(scene_chars.error());
  options.scene_transcript_chars = static_cast<size_t>(*scene_chars);
  auto summary_chars = IntParam(SemanticsStage::kName, params, "max_transcript_chars", 0, 200000);
  if (!summary_chars) return Fail(summary_chars.error());
  options.max_transcript_chars = static_cast<size_t>(*summary_chars);
  options.threads = SemanticsStage::kSceneThreads;
  return options;
}

Result<semantics::SignalOptions> SignalOptionsOf(const nlohmann::json& params) {
  semantics::SignalOptions options;
  auto still = NumberParam(SemanticsStage::kName, params, "still_below", 0, 1);
  if (!still) return Fail(still.error());
  auto high = NumberParam(SemanticsStage::kName, params, "high_motion_above", *still, 1);
  if (!high) return Fail(high.error());
  auto spoken = IntParam(SemanticsStage::kName, params, "spoken_chars", 0, 4000);
  if (!spoken) return Fail(spoken.error());
  options.still_below = *still;
  options.high_motion_above = *high;
  options.spoken_chars = static_cast<size_t>(*spoken);
  return options;
}

nlohmann::ordered_json UsageJson(const semantics::ModelUsage& usage) {
  return {{"requests", usage.requests},
          {"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.total_tokens}};
}

// What one run was started with: the scenes and what was said, or the reason to skip.
struct RunInputs {
  std::optional<std::string> skip_reason;
  SceneList scenes;
  std::vector<Spoken> spoken;
  std::string transcript = "done";  // or the transcript input's skip reason
};

// Everything a run needs of its stage, copied so the run stands alone.
struct RunSettings {
  bool model = false;
  const ai::OpenAiClient* client = nullptr;
  semantics::ModelOptions model_options;
  semantics::SignalOptions signal_options;
  semantics::KeyframeSignalsFactory keyframe_signals;
  std::optional<double> token_price;
  std::string backend;
};

// What full-text search finds of a semantics.json: each scene's description, its
// entities and actions, and each of its tags at the scene's times; the summary; and the
// video's own tags when a model gave them (signal tags are the scenes' already).
std::vector<catalog::SearchEntry> SearchEntries(const nlohmann::ordered_json& document) {
  std::vector<catalog::SearchEntry> entries;
  for (const auto& scene : document.at("scenes")) {
    const double start = scene.value("start", -1.0);
    const double end = scene.value("end", -1.0);
    const int index = scene.value("index", -1);
    auto add = [&](const char* kind, std::string text) {
      if (!text.empty()) entries.push_back({kind, std::move(text), start, end, index});
    };
    add("description", scene.value("description", std::string()));
    std::string named;
    auto gather = [&](const nlohmann::ordered_json& list) {
      for (const auto& item : list) {
        if (item.is_string()) named += (named.empty() ? "" : ", ") + item.get<std::string>();
      }
    };
    if (auto entities = scene.find("entities"); entities != scene.end() && entities->is_object()) {
      for (const auto& [group, list] : entities->items()) gather(list);
    }
    if (auto actions = scene.find("actions"); actions != scene.end()) gather(*actions);
    add("description", std::move(named));
    if (auto tags = scene.find("tags"); tags != scene.end()) {
      for (const auto& tag : *tags) {
        if (tag.is_string()) add("tag", tag.get<std::string>());
      }
    }
  }
  if (std::string summary = document.value("summary", std::string()); !summary.empty()) {
    entries.push_back({"summary", std::move(summary), -1, -1, -1});
  }
  if (document.value("source", std::string()) == "model") {
    for (const auto& tag : document.at("tags")) {
      if (tag.is_string() && !tag.get<std::string>().empty()) {
        entries.push_back({"tag", tag.get<std::string>(), -1, -1, -1});
      }
    }
  }
  return entries;
}

class SemanticsRun final : public StageRun {
 public:
  SemanticsRun(RunSettings settings, RunInputs inputs, const StageInputs& files)
      : settings_(std::move(settings)), inputs_(std::move(inputs)), files_(files) {}

  Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
    StageResult result;
    if (inputs_.skip_reason) {
      result.metadata = {{"backend", settings_.backend}, {"transcript", inputs_.transcript}};
      result.skip_reason = inputs_.skip_reason;
      return result;
    }
    auto document = settings_.model ? ModelJson(result.metadata) : SignalJson(result.metadata);
    if (!document) return Fail(document.error());
    REPRISE_TRY(WriteOutput(sink, SemanticsStage::kJsonName, "application/json", document->dump()));
    result.search = SearchEntries(*document);
    return result;
  }

 private:
  // A keyframe of the scenes input, read whole under a lock: the inputs may be read by
  // one thread at a time.
  Result<std::string> Keyframe(const SceneEntry& scene) {
    std::lock_guard lock(files_mutex_);
    return ReadInputFile(files_, "scenes", scene.keyframe, SemanticsStage::kMaxKeyframeBytes);
  }

  void CommonMetadata(nlohmann::json& metadata, std::string_view source, int failed,
                      const semantics::ModelUsage& usage) const {
    metadata["source"] = source;
    metadata["backend"] = settings_.backend;
    metadata["scenes"] = inputs_.scenes.scenes.size();
    metadata["failed_scenes"] = failed;
    metadata["requests"] = usage.requests;
    metadata["prompt_tokens"] = usage.prompt_tokens;
    metadata["completion_tokens"] = usage.completion_tokens;
    metadata["total_tokens"] = usage.total_tokens;
    metadata["transcript"] = inputs_.transcript;
  }

  Result<nlohmann::ordered_json> ModelJson(nlohmann::json& metadata) {
    const semantics::ModelOptions& options = settings_.model_options;
    auto described =
        semantics::DescribeWithModel(*settings_.client, options, inputs_.scenes, inputs_.spoken,
                                     [this](const SceneEntry& scene) { return Keyframe(scene); });
    if (!described) return Fail(described.error().Wrap("semantics"));
    std::vector<std::string> tags = described->tags;
    if (tags.empty()) tags = semantics::FrequentTags(described->scenes, kMaxVideoTags);
    const std::string scene_model =
        described->scene_model.empty() ? options.scene_model : described->scene_model;
    const std::string summary_model =
        described->summary_model.empty() ? options.summary_model : described->summary_model;
    CommonMetadata(metadata, "model", described->failed_scenes, described->usage);
    metadata["scene_model"] = options.scene_model;
    metadata["summary_model"] = options.summary_model;
    metadata["models"] = {{"scene", scene_model}, {"summary", summary_model}};
    if (settings_.token_price) {
      metadata["cost"] =
          static_cast<double>(described->usage.total_tokens) / 1000 * *settings_.token_price;
    }
    if (!described->summary_error.empty()) metadata["summary_error"] = described->summary_error;
    return nlohmann::ordered_json{{"source", "model"},
                                  {"models", {{"scene", scene_model}, {"summary", summary_model}}},
                                  {"summary", described->summary},
                                  {"tags", tags},
                                  {"scenes", std::move(described->scenes)},
                                  {"usage", UsageJson(described->usage)}};
  }

  Result<nlohmann::ordered_json> SignalJson(nlohmann::json& metadata) {
    std::unique_ptr<semantics::KeyframeSignalsSource> source;
    if (settings_.keyframe_signals) {
      auto made = settings_.keyframe_signals();
      if (!made) return Fail(made.error().Wrap("semantics: keyframe signals"));
      source = std::move(*made);
    }
    nlohmann::ordered_json scenes = nlohmann::ordered_json::array();
    int failed = 0;
    for (const SceneEntry& scene : inputs_.scenes.scenes) {
      std::optional<KeyframeSignals> signals;
      std::string error;
      if (source) {
        auto jpeg = Keyframe(scene);
        if (!jpeg) {
          return Fail(jpeg.error().Wrap("semantics: scene " + std::to_string(scene.index) +
                                        " keyframe " + scene.keyframe));
        }
        auto analyzed = source->Analyze(*jpeg);
        if (analyzed) {
          signals = std::move(*analyzed);
        } else {
          error = "keyframe signals: " + analyzed.error().message;
          ++failed;
        }
      }
      scenes.push_back(semantics::SignalScene(scene, signals ? &*signals : nullptr, error,
                                              inputs_.spoken, settings_.signal_options));
    }
    std::vector<std::string> tags = semantics::FrequentTags(scenes, kMaxVideoTags);
    const double duration = inputs_.scenes.duration;
    std::string summary = semantics::SignalSummary(
        duration, scenes.size(), semantics::SpeechSeconds(inputs_.spoken, duration), tags);
    semantics::ModelUsage none;
    CommonMetadata(metadata, "signal", failed, none);
    metadata["keyframe_signals"] = source != nullptr;
    return nlohmann::ordered_json{{"source", "signal"},
                                  {"summary", std::move(summary)},
                                  {"tags", tags},
                                  {"scenes", std::move(scenes)},
                                  {"usage", UsageJson(none)}};
  }

  RunSettings settings_;
  RunInputs inputs_;
  const StageInputs& files_;
  std::mutex files_mutex_;
};

// The scenes and the transcript of this asset, or the reason the stage does not apply.
Result<RunInputs> ReadRunInputs(const StageInputs& inputs) {
  RunInputs read;
  auto scenes = inputs.Get("scenes");
  if (!scenes) return Fail(scenes.error().Wrap("input scenes"));
  if ((*scenes)->state == catalog::DerivativeState::kSkipped) {
    read.skip_reason = (*scenes)->skip_reason;
    return read;
  }
  auto scenes_json =
      ReadInputFile(inputs, "scenes", "scenes.json", SemanticsStage::kMaxScenesJsonBytes);
  if (!scenes_json) return Fail(scenes_json.error().Wrap("semantics"));
  auto parsed = semantics::ParseScenes(*scenes_json);
  if (!parsed) return Fail(parsed.error().Wrap("semantics"));
  read.scenes = std::move(*parsed);

  auto transcript = inputs.Get("transcript");
  if (!transcript) return Fail(transcript.error().Wrap("input transcript"));
  if ((*transcript)->state == catalog::DerivativeState::kSkipped) {
    read.transcript = (*transcript)->skip_reason;  // no speech to use: not an error
    return read;
  }
  auto transcript_json = ReadInputFile(inputs, "transcript", "transcript.json",
                                       SemanticsStage::kMaxTranscriptJsonBytes);
  if (!transcript_json) return Fail(transcript_json.error().Wrap("semantics"));
  auto spoken = semantics::ParseTranscript(*transcript_json);
  if (!spoken) return Fail(spoken.error().Wrap("semantics"));
  read.spoken = std::move(*spoken);
  return read;
}

}  // namespace

namespace {

// semantics::KeyframeSignalsSource over the vision analyzer (OpenCV Haar faces, Tesseract
// text, colours and brightness): the fields are the same one for one.
class VisionKeyframeSignals final : public semantics::KeyframeSignalsSource {
 public:
  explicit VisionKeyframeSignals(std::unique_ptr<vision::KeyframeAnalyzer> analyzer)
      : analyzer_(std::move(analyzer)) {}

  Result<semantics::KeyframeSignals> Analyze(std::string_view jpeg) override {
    auto measured = analyzer_->Analyze(jpeg);
    if (!measured) return Fail(std::move(measured.error()));
    semantics::KeyframeSignals signals;
    for (const vision::Colour& colour : measured->colours) {
      signals.colours.push_back({colour.name, colour.hex, colour.share});
    }
    signals.brightness = measured->brightness;
    signals.light = measured->light;
    signals.faces = measured->faces;
    signals.text = measured->text;
    return signals;
  }

 private:
  std::unique_ptr<vision::KeyframeAnalyzer> analyzer_;
};

}  // namespace

semantics::KeyframeSignalsFactory SemanticsStage::DefaultKeyframeSignals() {
  // One analyzer per run: it loads the cascade and Tesseract's data once, then serves the
  // run's thread. Missing model files fail the run with kUnavailable naming the package.
  return []() -> Result<std::unique_ptr<semantics::KeyframeSignalsSource>> {
    auto analyzer = vision::KeyframeAnalyzer::Create(vision::VisionModels::Debian());
    if (!analyzer) return Fail(std::move(analyzer.error()));
    return std::unique_ptr<semantics::KeyframeSignalsSource>(
        std::make_unique<VisionKeyframeSignals>(std::move(*analyzer)));
  };
}

Result<std::unique_ptr<SemanticsStage>> SemanticsStage::Create(const nlohmann::json& overrides,
                                                               const StageServices& services) {
  return Create(overrides, services, DefaultKeyframeSignals());
}

Result<std::unique_ptr<SemanticsStage>> SemanticsStage::Create(
    const nlohmann::json& overrides, const StageServices& services,
    semantics::KeyframeSignalsFactory keyframe_signals) {
  auto table = SplitServiceKey(kName, overrides, kDefaultService);
  if (!table) return Fail(table.error());
  // The backend picks the defaults the rest of the table overrides: the model when its
  // service is configured, the signals otherwise.
  std::string backend(services.HasService(table->service) ? kOpenAiBackend : kSignalBackend);
  if (table->params.is_object()) {
    if (auto it = table->params.find("backend"); it != table->params.end() && it->is_string()) {
      backend = it->get<std::string>();
    }
  }
  std::unique_ptr<SemanticsStage> stage(new SemanticsStage());
  stage->model_ = backend == kOpenAiBackend;
  if (!stage->model_ && backend != kSignalBackend) {
    return Fail(ParamError("backend", "must be \"openai\" or \"signal\", got \"" + backend + "\""));
  }
  auto params =
      MergeParams(kName, stage->model_ ? ModelDefaults() : SignalDefaults(), table->params);
  if (!params) return Fail(params.error());
  if (stage->model_) {
    auto options = ModelOptionsOf(*params);
    if (!options) return Fail(options.error());
    stage->model_options_ = std::move(*options);
    auto client = services.Service(table->service);
    if (!client) return Fail(client.error().Wrap("stage 'semantics' (backend \"openai\")"));
    stage->client_ = *client;
    stage->service_ = table->service;
    stage->token_price_ = services.TokenPrice(kName);
  } else {
    if (table->service != kDefaultService) {
      return Fail(ParamError("service", "is used by backend \"openai\" only"));
    }
    auto options = SignalOptionsOf(*params);
    if (!options) return Fail(options.error());
    stage->signal_options_ = *options;
    stage->keyframe_signals_ = std::move(keyframe_signals);
  }
  stage->params_ = std::move(*params);
  return stage;
}

std::vector<ServiceUse> SemanticsStage::Services() const {
  if (!model_) return {};
  std::vector<std::string> models = {model_options_.scene_model};
  if (model_options_.summary_model != model_options_.scene_model) {
    models.push_back(model_options_.summary_model);
  }
  return {ServiceUse{service_, std::move(models)}};
}

Result<std::unique_ptr<StageRun>> SemanticsStage::Start(const media::MediaInfo& /*info*/) const {
  return Fail(ErrorCode::kInvalidArgument,
              "stage 'semantics' works from its inputs (scenes, transcript) and was started "
              "without them");
}

Result<std::unique_ptr<StageRun>> SemanticsStage::StartWith(const media::MediaInfo& /*info*/,
                                                            const StageInputs& inputs) const {
  auto read = ReadRunInputs(inputs);
  if (!read) return Fail(read.error());
  RunSettings settings{model_,
                       client_,
                       model_options_,
                       signal_options_,
                       keyframe_signals_,
                       token_price_,
                       params_.at("backend").get<std::string>()};
  return std::unique_ptr<StageRun>(
      std::make_unique<SemanticsRun>(std::move(settings), std::move(*read), inputs));
}

}  // namespace reprise::stages
