// SpeechRecognizer: turns bounded chunks of speech audio into timed text. The transcript
// stage (stages/transcript_stage.h) cuts the decoded audio into chunks with the
// SilenceChunker (stages/speech/silence_chunker.h) and hands each chunk to one
// recognizer; backends are the local PocketSphinx decoder
// (stages/speech/pocketsphinx_recognizer.h) and an OpenAI-compatible
// /v1/audio/transcriptions client, which uploads each chunk as a small WAV file
// (stages/speech/openai_recognizer.h).
//
// Audio is 16 kHz mono signed 16-bit (kSampleRate). A chunk comes with the time of its
// first sample in the input, and every time a recognizer returns is in the input's
// timeline (chunk start + offset), in seconds. Segments come in time order; a segment's
// words, when the backend gives word times, lie inside it in time order. A recognizer
// returns no segment for a chunk without speech.
//
// Errors: kUnavailable when the backend cannot be used (model files missing, server
// down), kInternal when it fails on audio it accepted. A recognizer serves one run on
// one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace reprise::stages::speech {

inline constexpr int kSampleRate = 16000;

struct Word {
  std::string text;
  double start = 0;  // seconds in the input
  double end = 0;

  bool operator==(const Word&) const = default;
};

struct Segment {
  double start = 0;  // seconds in the input
  double end = 0;
  std::string text;         // the words joined by single spaces
  std::vector<Word> words;  // empty when the backend gives no word times

  bool operator==(const Segment&) const = default;
};

class SpeechRecognizer {
 public:
  virtual ~SpeechRecognizer() = default;
  // The backend's name as transcript.json reports it ("pocketsphinx").
  [[nodiscard]] virtual std::string_view Backend() const = 0;
  // The model the backend recognizes with, as transcript.json reports it.
  [[nodiscard]] virtual std::string_view Model() const = 0;
  // Recognizes one chunk of 16 kHz mono s16 samples whose first sample is at
  // `start_seconds` in the input.
  [[nodiscard]] virtual Result<std::vector<Segment>> Recognize(std::span<const int16_t> samples,
                                                               double start_seconds) = 0;
  // The language the backend heard, when it detects one ("" otherwise or before any chunk).
  [[nodiscard]] virtual std::string_view DetectedLanguage() const { return {}; }
  // Requests sent to a remote backend so far (0 for a local one).
  [[nodiscard]] virtual int Requests() const { return 0; }
};

}  // namespace reprise::stages::speech
