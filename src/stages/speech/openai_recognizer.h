// OpenAiRecognizer: the transcript stage's remote backend: any OpenAI-compatible
// /v1/audio/transcriptions server (OpenAI's whisper-1, whisper.cpp's server,
// faster-whisper servers) through an ai::OpenAiClient of the deployment's
// `[services.NAME]` (stages/stage_services.h).
//
// Each voiced chunk the SilenceChunker cuts (at most max_chunk_seconds, 30 by default:
// Whisper's own window) is sent as a 16 kHz mono 16-bit WAV file asking for verbose_json
// segments; their times, relative to the file, are moved into the input's timeline and
// kept inside the chunk. Segments come without word times (the stage resolves the overlap
// between chunks by segment middles). A server answering text but no segments gives one
// segment covering the chunk. The client's limiter, retries and timeouts apply to each
// request; its errors pass through (kUnavailable when the service cannot be reached after
// its retries, kPermissionDenied for a wrong key, kNotFound for a model it does not serve).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ai/openai_client.h"
#include "stages/speech/recognizer.h"

namespace reprise::stages::speech {

// A WAV file (RIFF, PCM, 16 kHz mono 16-bit) holding `samples`.
std::string EncodeWav(std::span<const int16_t> samples);

class OpenAiRecognizer final : public SpeechRecognizer {
 public:
  static constexpr std::string_view kBackend = "openai";

  // `client` must outlive the recognizer. `language`: ISO-639-1, or empty to let the
  // server detect it.
  OpenAiRecognizer(const ai::OpenAiClient& client, std::string model, std::string language)
      : client_(client), model_(std::move(model)), language_(std::move(language)) {}

  std::string_view Backend() const override { return kBackend; }
  std::string_view Model() const override { return model_; }
  Result<std::vector<Segment>> Recognize(std::span<const int16_t> samples,
                                         double start_seconds) override;
  // The language the server reported for the last chunk it recognized ("" before any).
  std::string_view DetectedLanguage() const override { return detected_language_; }
  // Requests answered.
  int Requests() const override { return requests_; }

 private:
  const ai::OpenAiClient& client_;
  std::string model_;
  std::string language_;
  std::string detected_language_;
  int requests_ = 0;
};

}  // namespace reprise::stages::speech
