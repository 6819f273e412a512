// semantics@1: what each scene shows and what the video is about, as text that search
// indexes and `chapters` reads. A consumer of the `scenes` stage (scenes.json and each
// scene's keyframe, scene-NNNN.jpg) and the `transcript` stage (transcript.json): it
// decodes nothing itself, so the runner's one pass is not repeated for it.
//
// Backends (Params()'s "backend" says which made a derivative):
// - "openai" (the default when the table's `service`, "openai" unless set, is configured):
//   a vision model describes each scene from its keyframe and the words spoken during it,
//   a summary model writes a 3-5 sentence summary from the descriptions and the transcript
//   (stages/semantics/model_semantics.h: concurrency, which errors fail a scene and which
//   the run). `service` is deployment, not recipe.
// - "signal" (the default otherwise; offline): per scene only what was measured: the
//   keyframe's colours, light, faces and on-screen text from a KeyframeSignalsSource
//   (stages/semantics/keyframe_signals_source.h), motion from scenes.json, speech from the
//   transcript; tags and one plain sentence each, one plain sentence for the video
//   (stages/semantics/signal_semantics.h). Made without a source, it measures motion and
//   speech alone and the entries carry no keyframe signals.
//
// Params (recipe), "openai": backend, scene_model ("gpt-4o"), summary_model
// ("gpt-4o-mini"), scene_prompt, summary_prompt (the system messages; defaults below in
// the .cc), image_detail ("low" | "high" | "auto"), max_tokens (800, 16..16384),
// temperature (0, 0..2), scene_transcript_chars (1000, 0..20000: words of a scene sent
// with it), max_transcript_chars (8000, 0..200000: transcript sent for the summary).
// "signal": backend, still_below (0.02) and high_motion_above (0.15) (motion thresholds,
// 0..1), spoken_chars (240, 0..4000: words kept per scene). An "openai" table whose
// service is not configured fails at start-up (kInvalidArgument).
//
// Output "semantics.json" (application/json; docs/STAGES.md):
//   {"source": "model"|"signal", "models": {"scene","summary"} (model only, as the server
//    reported them), "summary", "tags" (video tags, most frequent first), "scenes":
//    [{"index","start","end","description","entities":{"people","objects","places"},
//    "actions","tags", "error" (a failed scene only), "signals" (signal only)}],
//    "usage": {"requests","prompt_tokens","completion_tokens","total_tokens"}}
// Metadata: {source, backend, scenes, failed_scenes, usage's four counts, transcript
// ("done" or its skip reason)}; "openai" adds scene_model, summary_model, models (as
// reported), cost (total_tokens / 1000 × [costs.semantics] per_1k_tokens, when priced)
// and summary_error when the summary answer was unusable; "signal" adds keyframe_signals
// (whether a source measured the keyframes).
//
// Skipped with the scenes input's own reason ("no_video_stream": audio only, a still
// picture). A skipped transcript (no_audio_stream, no_speech) means no speech. Input files
// are read with byte caps (kInvalidArgument beyond them), keyframes one at a time per
// thread, so memory does not follow the input's length.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/error.h"
#include "stages/semantics/keyframe_signals_source.h"
#include "stages/semantics/model_semantics.h"
#include "stages/semantics/signal_semantics.h"
#include "stages/stage.h"
#include "stages/stage_services.h"

namespace reprise::stages {

class SemanticsStage final : public Stage {
 public:
  static constexpr std::string_view kName = "semantics";
  static constexpr int kVersion = 1;
  static constexpr std::string_view kJsonName = "semantics.json";
  static constexpr std::string_view kDefaultService = "openai";
  static constexpr std::string_view kOpenAiBackend = "openai";
  static constexpr std::string_view kSignalBackend = "signal";
  // Input files are read whole, each at most this large.
  static constexpr int64_t kMaxScenesJsonBytes = 16 << 20;
  static constexpr int64_t kMaxTranscriptJsonBytes = 32 << 20;
  static constexpr int64_t kMaxKeyframeBytes = 16 << 20;
  // Scene requests sent at once at most (the service's max_concurrent caps them further).
  static constexpr int kSceneThreads = 4;

  // `overrides`: the `[stages.semantics]` table (null when absent). The signal backend
  // gets the deployment's keyframe analyzer (DefaultKeyframeSignals()).
  [[nodiscard]] static Result<std::unique_ptr<SemanticsStage>> Create(
      const nlohmann::json& overrides, const StageServices& services);
  // The same with the signal backend's keyframe source made by `keyframe_signals` (empty:
  // none, motion and speech only).
  [[nodiscard]] static Result<std::unique_ptr<SemanticsStage>> Create(
      const nlohmann::json& overrides, const StageServices& services,
      semantics::KeyframeSignalsFactory keyframe_signals);
  // The keyframe source the two-argument Create gives the signal backend.
  [[nodiscard]] static semantics::KeyframeSignalsFactory DefaultKeyframeSignals();

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  std::vector<std::string> Inputs() const override { return {"scenes", "transcript"}; }
  std::vector<ServiceUse> Services() const override;
  Consumption Consumes() const override { return {}; }
  // None from the container: whether there are scenes is the scenes input's to say.
  std::optional<std::string> SkipReason(const media::MediaInfo& /*info*/) const override {
    return std::nullopt;
  }
  // kInvalidArgument: the stage works from its inputs only (StartWith).
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;
  // Reads scenes.json and transcript.json (keyframes are read as they are sent); errors
  // of the inputs' files name the input.
  Result<std::unique_ptr<StageRun>> StartWith(const media::MediaInfo& info,
                                              const StageInputs& inputs) const override;

 private:
  SemanticsStage() = default;

  nlohmann::json params_;
  bool model_ = false;
  const ai::OpenAiClient* client_ = nullptr;  // model backend
  std::string service_;
  semantics::ModelOptions model_options_;
  semantics::SignalOptions signal_options_;
  semantics::KeyframeSignalsFactory keyframe_signals_;
  std::optional<double> token_price_;
};

}  // namespace reprise::stages
