#include "stages/speech/pocketsphinx_recognizer.h"

#include <pocketsphinx.h>
#include <sphinxbase/cmd_ln.h>
#include <sphinxbase/err.h>

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <utility>

namespace reprise::stages::speech {
namespace {

constexpr double kFramesPerSecond = 100;  // PocketSphinx's default -frate
constexpr size_t kBlock = 2048;           // samples per ps_process_raw, as its tools feed

// PocketSphinx logs through one process-wide callback. Ours drops everything but keeps
// the last error of each thread, so that a failure we report can quote it.
thread_local std::string last_error;

extern "C" void KeepLastError(void* /*user_data*/, err_lvl_t level, const char* format, ...) {
  if (level != ERR_ERROR && level != ERR_FATAL) return;
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  last_error = line;
  while (!last_error.empty() && (last_error.back() == '\n' || last_error.back() == ' ')) {
    last_error.pop_back();
  }
}

void QuietLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    // No log file: ps_init also prints its whole configuration straight to it.
    err_set_logfp(nullptr);
    err_set_callback(&KeepLastError, nullptr);
  });
}

Error PocketSphinxError(std::string what) {
  if (!last_error.empty()) what += ": " + last_error;
  return Error{ErrorCode::kInternal, "pocketsphinx: " + what, ""};
}

struct CmdLnFree {
  void operator()(cmd_ln_t* config) const { cmd_ln_free_r(config); }
};
struct SegFree {
  void operator()(ps_seg_t* seg) const { ps_seg_free(seg); }
};

bool IsFiller(std::string_view word) {
  return word.empty() || word.front() == '<' || word.front() == '[' || word.front() == '+';
}

// "was(2)" is the second pronunciation of "was".
std::string_view BaseWord(std::string_view word) {
  if (size_t paren = word.find('(');
      paren != std::string_view::npos && paren > 0 && word.back() == ')') {
    return word.substr(0, paren);
  }
  return word;
}

}  // namespace

void PocketSphinxDecoderFree::operator()(ps_decoder_s* decoder) const { ps_free(decoder); }

PocketSphinxModel PocketSphinxModel::DebianEnUs() {
  const std::string root = "/usr/share/pocketsphinx/model/en-us/";
  return {root + "en-us", root + "en-us.lm.bin", root + "cmudict-en-us.dict"};
}

Result<void> PocketSphinxRecognizer::CheckInstalled(const PocketSphinxModel& model,
                                                    std::string_view model_name) {
  for (const std::string* path :
       {&model.acoustic_model, &model.language_model, &model.dictionary}) {
    std::error_code ec;
    if (!std::filesystem::exists(*path, ec)) {
      return Fail(
          ErrorCode::kUnavailable,
          "pocketsphinx model '" + std::string(model_name) + "' is not installed: " + *path +
              " is missing (Debian's pocketsphinx-en-us package installs the " + "en-us model)");
    }
  }
  return {};
}

Result<std::unique_ptr<PocketSphinxRecognizer>> PocketSphinxRecognizer::Open(
    const PocketSphinxModel& model, std::string model_name) {
  QuietLogging();
  REPRISE_TRY(CheckInstalled(model, model_name));
  last_error.clear();
  std::unique_ptr<cmd_ln_t, CmdLnFree> config(
      cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", model.acoustic_model.c_str(), "-lm",
                  model.language_model.c_str(), "-dict", model.dictionary.c_str(), nullptr));
  if (!config) return Fail(PocketSphinxError("bad configuration"));
  std::unique_ptr<ps_decoder_s, PocketSphinxDecoderFree> decoder(ps_init(config.get()));
  if (!decoder) {
    Error error =
        PocketSphinxError("cannot load model '" + model_name + "' from " + model.acoustic_model);
    error.code = ErrorCode::kUnavailable;
    return Fail(std::move(error));
  }
  return std::unique_ptr<PocketSphinxRecognizer>(
      new PocketSphinxRecognizer(std::move(decoder), std::move(model_name)));
}

Result<std::vector<Segment>> PocketSphinxRecognizer::Recognize(std::span<const int16_t> samples,
                                                               double start_seconds) {
  ps_decoder_t* ps = decoder_.get();
  last_error.clear();
  std::vector<Segment> segments;
  // The stream's frame count starts at 0 here, so frame times are offsets into the chunk.
  if (ps_start_stream(ps) < 0 || ps_start_utt(ps) < 0) {
    return Fail(PocketSphinxError("cannot start an utterance"));
  }
  bool in_utterance = false;
  for (size_t at = 0; at < samples.size(); at += kBlock) {
    size_t count = std::min(kBlock, samples.size() - at);
    if (ps_process_raw(ps, samples.data() + at, count, FALSE, FALSE) < 0) {
      ps_end_utt(ps);
      return Fail(PocketSphinxError("cannot decode audio"));
    }
    bool speech = ps_get_in_speech(ps) != 0;
    if (speech && !in_utterance) in_utterance = true;
    if (!speech && in_utterance) {
      if (ps_end_utt(ps) < 0) return Fail(PocketSphinxError("cannot end an utterance"));
      CollectUtterance(start_seconds, segments);
      if (ps_start_utt(ps) < 0) return Fail(PocketSphinxError("cannot start an utterance"));
      in_utterance = false;
    }
  }
  if (ps_end_utt(ps) < 0) return Fail(PocketSphinxError("cannot end an utterance"));
  CollectUtterance(start_seconds, segments);
  return segments;
}

void PocketSphinxRecognizer::CollectUtterance(double start_seconds,
                                              std::vector<Segment>& segments) {
  Segment segment;
  std::unique_ptr<ps_seg_t, SegFree> seg(ps_seg_iter(decoder_.get()));
  while (seg) {
    std::string_view word = ps_seg_word(seg.get());
    if (!IsFiller(word)) {
      int first = 0;
      int last = 0;
      ps_seg_frames(seg.get(), &first, &last);  // inclusive
      segment.words.push_back(Word{std::string(BaseWord(word)),
                                   start_seconds + first / kFramesPerSecond,
                                   start_seconds + (last + 1) / kFramesPerSecond});
    }
    // ps_seg_next frees the iterator when it returns null.
    seg.reset(ps_seg_next(seg.release()));
  }
  if (segment.words.empty()) return;
  segment.start = segment.words.front().start;
  segment.end = segment.words.back().end;
  for (const Word& word : segment.words) {
    segment.text += (segment.text.empty() ? "" : " ") + word.text;
  }
  segments.push_back(std::move(segment));
}

}  // namespace reprise::stages::speech
