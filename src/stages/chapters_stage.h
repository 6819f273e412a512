// chapters@1: titled chapters of a video, made from the results of `scenes`, `semantics`
// and `transcript` (its inputs; it decodes nothing), as JSON and as a WebVTT chapters
// track.
//
// Chapters are runs of consecutive scenes, so every chapter starts where a scene starts:
// the first at 0, each ending where the next begins, the last at scenes.json's duration
// (the chapters cover [0, duration] without gaps or overlaps). Backends:
// - "openai": one structured-output chat request (ai::OpenAiClient::ChatJson) to the
//   `[services.NAME]` the table's `service` key names ("openai" by default) with `prompt`
//   as the system message and, as the user message, each scene's index, times,
//   description and tags and the transcript's first `max_transcript_chars` characters; the
//   answer is {"chapters": [{"start_scene", "title"}]}. It must start at scene 0, its
//   start_scene strictly increase and stay below the scene count, it must have at most
//   `max_chapters` chapters and every title must be non-empty and at most
//   `max_title_chars` characters (whitespace runs become one space); otherwise the run fails
//   with kInternal saying what is wrong. kInternal is not retried by the queue: at
//   temperature 0 the same request gets the same answer, so a retry would pay again for
//   the same failure; changing the prompt or the model (a new recipe) is what helps.
// - "local": scenes are grouped where their tag sets differ most. Between two scenes with
//   semantics answers the Jaccard similarity of their tag sets (lowercased) is taken;
//   boundaries where it is below `similarity_threshold` are tried, least similar first
//   (the earlier first on a tie), and kept when both chapters they make last at least
//   `min_chapter_seconds` and there are fewer than `max_chapters` chapters. A scene that
//   failed in semantics (its "error" field) or has no entry there has no tags, never
//   starts a chapter and so joins the chapter before it (the first chapter when it comes
//   first). A chapter's title is its `title_tags` most frequent tags (ties: the first
//   seen), joined with ", " and capitalised ("Dog, park, running"), or "Chapter N" when
//   its scenes have no tags.
// The backend is "openai" when the table's service is configured (StageServices), else
// "local"; `backend` in the table forces one ("openai" without the service fails at
// start-up, kInvalidArgument), and so does naming a `service` that is not configured.
// The effective backend is a param, so adding the service outdates local chapters.
// Params() holds `backend` and the params of that backend only: a table may set both
// backends' params, and a prompt never outdates local chapters.
//
// Both backends give a chapter a "subtitle" when the transcript has a segment starting
// inside it: the first `subtitle_words` words spoken there, as transcribed (0: none).
//
// Outputs:
//   chapters.json  {"source": "model"|"local", "model": "...", (model only, as the
//                  service reported it) "chapters": [{"index": 0, "start": 0.0, "end": 12.5,
//                  "title": "...", "subtitle": "...", (when there is one) "scenes":
//                  [first, last]}], "usage": {"requests", "prompt_tokens",
//                  "completion_tokens", "total_tokens"} (model only)}, seconds (ms)
//   chapters.vtt   WebVTT, one cue per chapter, the title its text (a chapters track)
// Metadata: {source, backend, chapters, scenes, duration} and for "openai" model,
// requests, prompt_tokens, completion_tokens, total_tokens and, when [costs.chapters]
// prices tokens, cost (total_tokens / 1000 × per_1k_tokens).
//
// Skipped with scenes' skip reason ("no_video_stream") when scenes was skipped. A skipped
// semantics gives scenes without tags or descriptions, a skipped transcript no speech.
// An input file larger than its bound (kMax*Bytes) fails the run with kInvalidArgument
// (ReadInputFile), one not in its stage's shape with kInternal naming the file and the
// problem; neither is retried, as reading it again would give the same.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/openai_client.h"
#include "core/error.h"
#include "stages/stage.h"
#include "stages/stage_services.h"

namespace reprise::stages {

class ChaptersStage final : public Stage {
 public:
  static constexpr std::string_view kName = "chapters";
  static constexpr int kVersion = 1;
  static constexpr std::string_view kJsonName = "chapters.json";
  static constexpr std::string_view kVttName = "chapters.vtt";
  static constexpr std::string_view kDefaultService = "openai";
  static constexpr std::string_view kDefaultModel = "gpt-4o-mini";
  static constexpr std::string_view kDefaultPrompt =
      "You divide a video into chapters for viewers who want to jump to its parts. You are "
      "given its scenes in order (index, start and end in seconds, a description and tags) "
      "and the beginning of its transcript. Group consecutive scenes into chapters, each a "
      "coherent part of the video (a topic, a place, an activity), and give each a short "
      "title of 2 to 6 words saying what happens in it. Use only what the scenes and the "
      "transcript say; never invent names or events. Answer with the chapters in order: "
      "start_scene is the index of a chapter's first scene, and the first chapter starts at "
      "scene 0.";
  // Bounds on what is read of each input (the files are read whole).
  static constexpr int64_t kMaxScenesBytes = 16 << 20;
  static constexpr int64_t kMaxSemanticsBytes = 32 << 20;
  static constexpr int64_t kMaxTranscriptBytes = 32 << 20;

  // `overrides`: the `[stages.chapters]` table (null when absent).
  [[nodiscard]] static Result<std::unique_ptr<ChaptersStage>> Create(
      const nlohmann::json& overrides, const StageServices& services);
  [[nodiscard]] static Result<std::unique_ptr<ChaptersStage>> Create(
      const nlohmann::json& overrides);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  std::vector<std::string> Inputs() const override { return {"scenes", "transcript", "semantics"}; }
  std::vector<ServiceUse> Services() const override;
  Consumption Consumes() const override { return {}; }
  // Whether it applies is its inputs' to say (scenes skipped: skipped too).
  std::optional<std::string> SkipReason(const media::MediaInfo& /*info*/) const override {
    return std::nullopt;
  }
  // kInternal: the stage works from its inputs only (StartWith).
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;
  Result<std::unique_ptr<StageRun>> StartWith(const media::MediaInfo& info,
                                              const StageInputs& inputs) const override;

  struct Settings {
    int max_chapters = 20;
    int subtitle_words = 8;
    double similarity_threshold = 0.2;  // local
    double min_chapter_seconds = 30;    // local
    int title_tags = 3;                 // local
    std::string model;                  // openai
    std::string prompt;                 // openai
    int max_transcript_chars = 8000;    // openai
    int max_title_chars = 80;           // openai
    std::string service;                // openai (deployment)
    std::optional<double> token_price;  // openai: per 1,000 tokens (deployment)
  };

 private:
  ChaptersStage(nlohmann::json params, Settings settings, const ai::OpenAiClient* client)
      : params_(std::move(params)), settings_(std::move(settings)), client_(client) {}

  nlohmann::json params_;
  Settings settings_;
  const ai::OpenAiClient* client_;  // backend "openai"; null for "local"
};

}  // namespace reprise::stages
