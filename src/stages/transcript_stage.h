// transcript@1: speech to text from the main audio stream, decoded once by the shared pass
// as 16 kHz mono s16, with captions.
//
// The audio streams through a SilenceChunker (chunks of at most max_chunk_seconds cut at
// the quietest moment, overlap_seconds shared across each cut and resolved so that a word
// is kept once, see stages/speech/silence_chunker.h) into a SpeechRecognizer, chunk by
// chunk as the audio arrives; chunks whose loudness does not rise and fall as speech does
// (silence, tones, steady noise: the chunker's voice activity check) are not recognized. The
// backend today is "pocketsphinx": local and offline, PocketSphinx with Debian's pocketsphinx-en-us
// model (stages/speech/ pocketsphinx_recognizer.h); an OpenAI-compatible /v1/audio/transcriptions
// backend will plug in behind the same interface. Memory: one chunk of samples and the segment
// list; the files are written segment by segment.
//
// Params (recipe): backend ("pocketsphinx"), language ("en": the model's language),
// model ("en-us": the model's name), max_chunk_seconds (30, in [1, 600]),
// overlap_seconds (1, in [0, max_chunk_seconds / 4]), caption_line_length (42, in
// [16, 120]). Where the model's files are is deployment (PocketSphinxModel, Debian's
// paths by default); a model that is not installed fails the run with kUnavailable
// naming the missing path and the package.
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
// Skipped with "no_audio_stream" when there is no audio, and after the run with
// "no_speech" when nothing was recognized (silence, tones, noise): metadata, no files.
// An audio stream that decodes to no samples fails with kUnsupportedMedia.
#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "stages/speech/captions.h"
#include "stages/speech/pocketsphinx_recognizer.h"
#include "stages/speech/silence_chunker.h"
#include "stages/stage.h"

namespace reprise::stages {

class TranscriptStage final : public Stage {
 public:
  static constexpr std::string_view kName = "transcript";
  static constexpr int kVersion = 1;
  static constexpr std::string_view kTextName = "transcript.txt";
  static constexpr std::string_view kJsonName = "transcript.json";
  static constexpr std::string_view kVttName = "captions.vtt";
  static constexpr std::string_view kSrtName = "captions.srt";

  // `overrides`: the `[stages.transcript]` table (null when absent). The model's files
  // are where Debian's pocketsphinx-en-us puts them.
  [[nodiscard]] static Result<std::unique_ptr<TranscriptStage>> Create(
      const nlohmann::json& overrides);
  // The same with the model's files at `model` (deployment).
  [[nodiscard]] static Result<std::unique_ptr<TranscriptStage>> Create(
      const nlohmann::json& overrides, speech::PocketSphinxModel model);

  std::string_view Name() const override { return kName; }
  int Version() const override { return kVersion; }
  const nlohmann::json& Params() const override { return params_; }
  Consumption Consumes() const override;
  std::optional<std::string> SkipReason(const media::MediaInfo& info) const override;
  // kUnavailable when the model is not installed; the run loads it on the first voiced
  // chunk (about a second), so audio without speech costs no load.
  Result<std::unique_ptr<StageRun>> Start(const media::MediaInfo& info) const override;

 private:
  TranscriptStage(nlohmann::json params, speech::PocketSphinxModel model,
                  speech::ChunkerOptions chunking, speech::CaptionOptions captions)
      : params_(std::move(params)),
        model_(std::move(model)),
        chunking_(chunking),
        captions_(captions) {}

  nlohmann::json params_;
  speech::PocketSphinxModel model_;
  speech::ChunkerOptions chunking_;
  speech::CaptionOptions captions_;
};

}  // namespace reprise::stages
