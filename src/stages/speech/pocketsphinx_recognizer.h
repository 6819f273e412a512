// PocketSphinxRecognizer: the transcript stage's local, offline backend: CMU PocketSphinx
// 0.8+5prealpha (Debian's libpocketsphinx) with a continuous acoustic model, an n-gram
// language model and a pronouncing dictionary (Debian's pocketsphinx-en-us by default).
//
// Each chunk is decoded as a stream: PocketSphinx's voice activity detector splits it
// into utterances, and each utterance with at least one word becomes a segment whose
// words carry their frame times (100 frames a second). Fillers (<s>, </s>, <sil>,
// [NOISE], [SPEECH]) are not words; alternate pronunciations ("was(2)") are reported by
// their word ("was"). A chunk of silence, a tone or noise gives no segment.
//
// Open() loads the model (about a second and 100 MB for en-us) and fails with
// kUnavailable naming the missing file and the Debian package when the model is not
// installed. PocketSphinx's own log lines are dropped (its log callback is process-wide
// and installed once); the last error it logged on this thread is quoted in our errors.
// One recognizer serves one thread at a time; recognizers on different threads are
// independent.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "stages/speech/recognizer.h"

struct ps_decoder_s;

namespace reprise::stages::speech {

// Where a model's files are: deployment, not recipe (the recipe names the model).
struct PocketSphinxModel {
  std::string acoustic_model;  // folder (-hmm): mdef, means, variances, feat.params...
  std::string language_model;  // n-gram file (-lm), ARPA or binary
  std::string dictionary;      // pronouncing dictionary (-dict)

  // Debian's pocketsphinx-en-us, under /usr/share/pocketsphinx/model/en-us.
  static PocketSphinxModel DebianEnUs();
};

struct PocketSphinxDecoderFree {
  void operator()(ps_decoder_s* decoder) const;
};

class PocketSphinxRecognizer final : public SpeechRecognizer {
 public:
  static constexpr std::string_view kBackend = "pocketsphinx";

  // kUnavailable naming the first of the model's files that is missing, and the package.
  [[nodiscard]] static Result<void> CheckInstalled(const PocketSphinxModel& model,
                                                   std::string_view model_name);
  // Loads the model (CheckInstalled() first). `model_name` is what Model() reports.
  [[nodiscard]] static Result<std::unique_ptr<PocketSphinxRecognizer>> Open(
      const PocketSphinxModel& model, std::string model_name);

  std::string_view Backend() const override { return kBackend; }
  std::string_view Model() const override { return model_name_; }
  Result<std::vector<Segment>> Recognize(std::span<const int16_t> samples,
                                         double start_seconds) override;

 private:
  PocketSphinxRecognizer(std::unique_ptr<ps_decoder_s, PocketSphinxDecoderFree> decoder,
                         std::string model_name)
      : decoder_(std::move(decoder)), model_name_(std::move(model_name)) {}

  // Appends the segment of the utterance just ended, if it has words.
  void CollectUtterance(double start_seconds, std::vector<Segment>& segments);

  std::unique_ptr<ps_decoder_s, PocketSphinxDecoderFree> decoder_;
  std::string model_name_;
};

}  // namespace reprise::stages::speech
