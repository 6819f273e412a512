// transcript@1: speech to text from the main audio stream, decoded once by the shared pass
// as 16 kHz mono s16, with captions.
//
// The audio streams through a SilenceChunker (chunks of at most max_chunk_seconds cut at
// the quietest moment, overlap_seconds shared across each cut and resolved so that a word
// is kept once, see stages/speech/silence_chunker.h) into a SpeechRecognizer, chunk by
// chunk as the audio arrives; chunks whose loudness does not rise and fall as speech does
// (silence, tones, steady noise: the chunker's voice activity check) are not recognized.
// Backends:
// - "pocketsphinx" (the default): local and offline, PocketSphinx with Debian's
//   pocketsphinx-en-us model (stages/speech/pocketsphinx_recognizer.h).
// - "openai": any OpenAI-compatible /v1/audio/transcriptions server, each chunk one
//   request (stages/speech/openai_recognizer.h), through the `[services.NAME]` the
//   table's `service` key names ("openai" by default). `service` is deployment, not a
//   param: pointing it at another endpoint serving the same model outdates nothing.
// Memory: one chunk of samples and the segment list; the files are written segment by
// segment.
//
// Params (recipe): backend ("pocketsphinx"), language ("en": pocketsphinx's model's
// language; for "openai" an ISO-639-1 code or "" to let the service detect it), model
// ("en-us" for pocketsphinx, "whisper-1" for openai: the service's model name),
// max_chunk_seconds (30, in [1, 600]), overlap_seconds (1, in [0, max_chunk_seconds / 4]),
// caption_line_length (42, in [16, 120]). Where pocketsphinx's model files are is
// deployment (PocketSphinxModel, Debian's paths by default); a model that is not
// installed fails the run with kUnavailable naming the missing path and the package. A
// "openai" table whose service is not configured fails at start-up (kInvalidArgument).
//
// Outputs (their names and the JSON shape are read by later stages; docs/STAGES.md):
//   transcript.txt   the segments' text, one segment a line
//   transcript.json  {"language","backend","model","segments":[{"start","end","text",
//                    "words":[{"word","start","end"}]}]}, times in seconds (ms precision)
//   captions.vtt     WebVTT, captions.srt SubRip (stages/speech/captions.h)
// Metadata: {backend, model, language, segments, words, speech_seconds (the time the
// segments cover), audio_seconds, recognize_seconds and recognize_cpu_seconds (spent in
// the recognizer), real_time_factor (recognize_seconds / audio_seconds)}.
//
// Metadata with "openai" also has requests (one per voiced chunk); with language "", the
// language transcript.json and the metadata report is the one the service detected.
//
// Skipped with "no_audio_stream" when there is no audio, and after the run with
// "no_speech" when nothing was recognized (silence, tones, noise): metadata, no files.
// An audio stream that decodes to no samples fails with kUnsupportedMedia.
#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "stages/speech/captions.h"
#include "stages/speech/openai_recognizer.h"
#include "stages/speech/pocketsphinx_recognizer.h"
#include "stages/speech/silence_chunker.h"
#include "stages/stage.h"
#include "stages/stage_services.h"

namespace reprise::stages {

class TranscriptStage final : public Stage {
 public:
  static constexpr std::string_view kName = "transcript";
  static constexpr int kVersion = 1;
  static constexpr std::string_view kTextName = "transcript.txt";
  static constexpr std::string_view kJsonName = "transcript.json";
  static constexpr std::string_view kVttName = "captions.vtt";
  static constexpr std::string_view kSrtName = "captions.srt";
  static constexpr std::string_view kDefaultService = "openai";
  static constexpr std::string_view kDefaultOpenAiModel = "whisper-1";

  // `overrides`: the `[stages.transcript]` table (null when absent). The model's files
  // are where Debian's pocketsphinx-en-us puts them; "openai" finds its service in
  // `services`.
  [[nodiscard]] static Result<std::unique_ptr<TranscriptStage>> Create(
      const nlohmann::json& overrides, const StageServices& services);
  [[nodiscard]] static Result<std::unique_ptr<TranscriptStage>> Create(
      const nlohmann::json& overrides);
  // The same with pocketsphinx's model files at `model` (deployment).
  [[nodiscard]] static Result<std::unique_ptr<TranscriptStage>> Create(
      const nlohmann::json& overrides, speech::PocketSphinxModel model);
  [[nodiscard]] static Result<std::unique_ptr<TranscriptStage>> Create(
      const nlohmann::json& overrides, const StageServices& services,
      speech::PocketSphinxModel model);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  std::vector<ServiceUse> Services() const override;
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  // kUnavailable when the model is not installed; the run loads it on the first voiced
  // chunk (about a second), so audio without speech costs no load.
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  TranscriptStage(nlohmann::json params, speech::PocketSphinxModel model,
                  speech::ChunkerOptions chunking, speech::CaptionOptions captions,
                  const ai::OpenAiClient* client, std::string service)
      : params_(std::move(params)),
        model_(std::move(model)),
        chunking_(chunking),
        captions_(captions),
        client_(client),
        service_(std::move(service)) {}

  nlohmann::json params_;
  speech::PocketSphinxModel model_;
  speech::ChunkerOptions chunking_;
  speech::CaptionOptions captions_;
  const ai::OpenAiClient* client_;  // backend "openai"; null for pocketsphinx
  std::string service_;
};

}  // namespace reprise::stages
