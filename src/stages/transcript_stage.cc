#include "stages/transcript_stage.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/samplefmt.h>
}

#include "stages/audio_analysis.h"
#include "stages/params.h"

namespace reprise::stages {
namespace {

using speech::Segment;

// The PocketSphinx models the stage knows, with the language each recognizes.
struct KnownModel {
  std::string_view name;
  std::string_view language;
};
constexpr KnownModel kPocketSphinxModels[] = {{"en-us", "en"}};

Error ParamError(std::string_view name, const std::string& what) {
  return Error{ErrorCode::kInvalidArgument,
               "stage 'transcript' param '" + std::string(name) + "' " + what, ""};
}

Result<void> CheckPocketSphinx(const nlohmann::json& params) {
  std::string model = params.at("model").get<std::string>();
  std::string language = params.at("language").get<std::string>();
  for (const KnownModel& known : kPocketSphinxModels) {
    if (known.name != model) continue;
    if (known.language != language) {
      return Fail(ParamError("language", "must be \"" + std::string(known.language) +
                                             "\" for pocketsphinx model \"" + model + "\", got \"" +
                                             language + "\""));
    }
    return {};
  }
  return Fail(
      ParamError("model", "must be a known pocketsphinx model (en-us), got \"" + model + "\""));
}

// A service's model names are its own; the language is ISO-639-1 ("en") or "" (detect).
Result<void> CheckOpenAi(const nlohmann::json& params) {
  if (params.at("model").get<std::string>().empty()) {
    return Fail(ParamError("model", "must name the service's transcription model"));
  }
  std::string language = params.at("language").get<std::string>();
  bool iso = language.size() == 2 && std::all_of(language.begin(), language.end(),
                                                 [](char c) { return c >= 'a' && c <= 'z'; });
  if (!language.empty() && !iso) {
    return Fail(ParamError("language",
                           "must be an ISO-639-1 code (\"en\") or \"\" to let the "
                           "service detect it, got \"" +
                               language + "\""));
  }
  return {};
}

double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Times in the JSON to the millisecond: frame times (10 ms) need no more.
double Millis(double seconds) { return std::round(seconds * 1000) / 1000; }

nlohmann::ordered_json SegmentJson(const Segment& segment) {
  nlohmann::ordered_json words = nlohmann::ordered_json::array();
  for (const speech::Word& word : segment.words) {
    words.push_back(
        {{"word", word.text}, {"start", Millis(word.start)}, {"end", Millis(word.end)}});
  }
  return {{"start", Millis(segment.start)},
          {"end", Millis(segment.end)},
          {"text", segment.text},
          {"words", std::move(words)}};
}

// A file written through the sink in pieces, so a long transcript is never one string.
class StreamedFile {
 public:
  static Result<StreamedFile> Open(OutputSink& sink, std::string_view name,
                                   std::string_view content_type) {
    auto writer = sink.Create(name);
    if (!writer) return Fail(writer.error());
    return StreamedFile(sink, std::move(*writer), name, content_type);
  }

  Result<void> Append(std::string_view text) {
    buffer_ += text;
    if (buffer_.size() >= kFlushBytes) REPRISE_TRY(Flush());
    return {};
  }

  Result<void> Commit() {
    REPRISE_TRY(Flush());
    writer_->SetContentType(content_type_);
    auto committed = writer_->Commit(name_);
    if (!committed) return Fail(committed.error());
    sink_.get().Add(catalog::OutputBlob{name_, committed->key, committed->size, content_type_});
    return {};
  }

 private:
  static constexpr size_t kFlushBytes = 64 * 1024;

  StreamedFile(OutputSink& sink, std::unique_ptr<blob::BlobWriter> writer, std::string_view name,
               std::string_view content_type)
      : sink_(sink), writer_(std::move(writer)), name_(name), content_type_(content_type) {}

  Result<void> Flush() {
    if (buffer_.empty()) return {};
    REPRISE_TRY(writer_->Write(std::span<const std::byte>(
        reinterpret_cast<const std::byte*>(buffer_.data()), buffer_.size())));
    buffer_.clear();
    return {};
  }

  std::reference_wrapper<OutputSink> sink_;
  std::unique_ptr<blob::BlobWriter> writer_;
  std::string name_;
  std::string content_type_;
  std::string buffer_;
};

// Writes one output file, one piece per segment or cue: `header`, `piece(i)` for
// i < count, `footer`.
template <class Piece>
Result<void> WriteFile(OutputSink& sink, std::string_view name, std::string_view content_type,
                       std::string_view header, size_t count, Piece&& piece,
                       std::string_view footer) {
  auto file = StreamedFile::Open(sink, name, content_type);
  if (!file) return Fail(file.error());
  REPRISE_TRY(file->Append(header));
  for (size_t i = 0; i < count; ++i) REPRISE_TRY(file->Append(piece(i)));
  REPRISE_TRY(file->Append(footer));
  return file->Commit();
}

class TranscriptRun final : public StageRun {
 public:
  // The recognizer is opened (its model loaded) on the first voiced chunk, so audio
  // without speech costs no model load.
  using Opener = std::function<Result<std::unique_ptr<speech::SpeechRecognizer>>()>;

  TranscriptRun(Opener open, std::string backend, std::string model,
                speech::ChunkerOptions chunking, speech::CaptionOptions captions,
                std::string language)
      : open_(std::move(open)),
        backend_(std::move(backend)),
        model_(std::move(model)),
        chunking_(chunking),
        captions_(captions),
        language_(std::move(language)) {}

  Feed OnAudio(const media::AudioBuffer& audio) override {
    const AVFrame& frame = *audio.frame;
    if (frame.nb_samples <= 0) return Feed::kMore;
    if (frame.sample_rate != speech::kSampleRate || frame.ch_layout.nb_channels != 1 ||
        frame.format != AV_SAMPLE_FMT_S16) {
      error_ =
          Error{ErrorCode::kInternal, "transcript: audio not delivered as 16 kHz mono s16", ""};
      return Feed::kDone;
    }
    if (!chunker_) {
      auto chunker = speech::SilenceChunker::Create(chunking_, std::max(0.0, audio.pts_seconds));
      if (!chunker) {
        error_ = chunker.error();
        return Feed::kDone;
      }
      chunker_.emplace(std::move(*chunker));
    }
    const auto* samples = reinterpret_cast<const int16_t*>(frame.extended_data[0]);
    auto pushed = chunker_->Push(
        std::span<const int16_t>(samples, static_cast<size_t>(frame.nb_samples)), Recognizer());
    if (!pushed) {
      error_ = pushed.error();
      return Feed::kDone;
    }
    return Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
    if (error_) return Fail(*error_);
    if (!chunker_)
      return Fail(ErrorCode::kUnsupportedMedia, "the audio stream decoded to no samples");
    REPRISE_TRY(chunker_->Finish(Recognizer()));
    StageResult result;
    result.metadata = Metadata();
    if (segments_.empty()) {
      result.skip_reason = "no_speech";
      return result;
    }
    REPRISE_TRY(WriteOutputs(sink));
    // Each segment is found by full-text search with its times, so a player can jump there.
    for (const Segment& segment : segments_) {
      if (segment.text.empty()) continue;
      result.search.push_back(
          {"transcript", segment.text, Millis(segment.start), Millis(segment.end), -1});
    }
    return result;
  }

 private:
  speech::SilenceChunker::Emit Recognizer() {
    return [this](const speech::Chunk& chunk) -> Result<void> {
      if (!chunk.voiced) return {};
      if (!recognizer_) {
        auto opened = open_();
        if (!opened) return Fail(opened.error());
        recognizer_ = std::move(*opened);
      }
      double cpu_before = ThreadCpuSeconds();
      auto wall_before = std::chrono::steady_clock::now();
      auto segments = recognizer_->Recognize(chunk.samples, chunk.start_seconds);
      recognize_seconds_ +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
      recognize_cpu_seconds_ += ThreadCpuSeconds() - cpu_before;
      if (!segments) return Fail(segments.error());
      for (Segment& segment :
           speech::KeepWithin(std::move(*segments), chunk.keep_from, chunk.keep_until)) {
        segments_.push_back(std::move(segment));
      }
      return {};
    };
  }

  nlohmann::json Metadata() const {
    double audio_seconds = static_cast<double>(chunker_->samples_pushed()) / speech::kSampleRate;
    size_t words = 0;
    double speech_seconds = 0;
    for (const Segment& segment : segments_) {
      words += segment.words.size();
      speech_seconds += segment.end - segment.start;
    }
    nlohmann::json metadata = {
        {"backend", backend_},
        {"model", model_},
        {"language", Language()},
        {"segments", segments_.size()},
        {"words", words},
        {"speech_seconds", Millis(speech_seconds)},
        {"audio_seconds", Millis(audio_seconds)},
        {"recognize_seconds", recognize_seconds_},
        {"recognize_cpu_seconds", recognize_cpu_seconds_},
        {"real_time_factor", audio_seconds > 0 ? recognize_seconds_ / audio_seconds : 0.0}};
    if (backend_ == speech::OpenAiRecognizer::kBackend) {
      metadata["requests"] = recognizer_ ? recognizer_->Requests() : 0;
    }
    return metadata;
  }

  // The language asked for, or the one the backend heard when none was.
  std::string Language() const {
    if (!language_.empty() || !recognizer_) return language_;
    return std::string(recognizer_->DetectedLanguage());
  }

  Result<void> WriteOutputs(OutputSink& sink) const {
    const size_t count = segments_.size();
    REPRISE_TRY(WriteFile(
        sink, TranscriptStage::kTextName, "text/plain; charset=utf-8", "", count,
        [&](size_t i) { return segments_[i].text + "\n"; }, ""));
    nlohmann::ordered_json head = {
        {"language", Language()}, {"backend", backend_}, {"model", model_}};
    std::string header = head.dump();
    header.pop_back();  // the closing brace: the segments follow
    REPRISE_TRY(WriteFile(
        sink, TranscriptStage::kJsonName, "application/json", header + ",\"segments\":[", count,
        [&](size_t i) { return (i > 0 ? "," : "") + SegmentJson(segments_[i]).dump(); }, "]}\n"));
    std::vector<speech::Cue> cues = speech::MakeCues(segments_, captions_);
    REPRISE_TRY(WriteFile(
        sink, TranscriptStage::kVttName, "text/vtt; charset=utf-8", speech::VttHeader(),
        cues.size(), [&](size_t i) { return speech::VttCue(cues[i]); }, ""));
    return WriteFile(
        sink, TranscriptStage::kSrtName, "application/x-subrip; charset=utf-8", "", cues.size(),
        [&](size_t i) { return speech::SrtCue(static_cast<int>(i + 1), cues[i]); }, "");
  }

  Opener open_;
  std::string backend_;
  std::string model_;
  std::unique_ptr<speech::SpeechRecognizer> recognizer_;
  speech::ChunkerOptions chunking_;
  speech::CaptionOptions captions_;
  std::string language_;
  std::optional<speech::SilenceChunker> chunker_;
  std::vector<Segment> segments_;
  double recognize_seconds_ = 0;
  double recognize_cpu_seconds_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<std::unique_ptr<TranscriptStage>> TranscriptStage::Create(const nlohmann::json& overrides) {
  return Create(overrides, StageServices(), speech::PocketSphinxModel::DebianEnUs());
}

Result<std::unique_ptr<TranscriptStage>> TranscriptStage::Create(const nlohmann::json& overrides,
                                                                 const StageServices& services) {
  return Create(overrides, services, speech::PocketSphinxModel::DebianEnUs());
}

Result<std::unique_ptr<TranscriptStage>> TranscriptStage::Create(const nlohmann::json& overrides,
                                                                 speech::PocketSphinxModel model) {
  return Create(overrides, StageServices(), std::move(model));
}

Result<std::unique_ptr<TranscriptStage>> TranscriptStage::Create(const nlohmann::json& overrides,
                                                                 const StageServices& services,
                                                                 speech::PocketSphinxModel model) {
  auto table = SplitServiceKey(kName, overrides, kDefaultService);
  if (!table) return Fail(table.error());
  // The backend picks the defaults the rest of the table overrides.
  std::string backend(speech::PocketSphinxRecognizer::kBackend);
  if (table->params.is_object()) {
    if (auto it = table->params.find("backend"); it != table->params.end() && it->is_string()) {
      backend = it->get<std::string>();
    }
  }
  const bool remote = backend == speech::OpenAiRecognizer::kBackend;
  if (!remote && backend != speech::PocketSphinxRecognizer::kBackend) {
    return Fail(
        ParamError("backend", "must be \"pocketsphinx\" or \"openai\", got \"" + backend + "\""));
  }
  const nlohmann::json defaults = {{"backend", backend},
                                   {"language", "en"},
                                   {"model", remote ? kDefaultOpenAiModel : "en-us"},
                                   {"max_chunk_seconds", 30.0},
                                   {"overlap_seconds", 1.0},
                                   {"caption_line_length", 42}};
  auto params = MergeParams(kName, defaults, table->params);
  if (!params) return Fail(params.error());
  const ai::OpenAiClient* client = nullptr;
  std::string service;
  if (remote) {
    REPRISE_TRY(CheckOpenAi(*params));
    auto found = services.Service(table->service);
    if (!found) return Fail(found.error().Wrap("stage 'transcript' (backend \"openai\")"));
    client = *found;
    service = table->service;
  } else {
    if (table->service != kDefaultService) {
      return Fail(ParamError("service", "is used by backend \"openai\" only"));
    }
    REPRISE_TRY(CheckPocketSphinx(*params));
  }
  speech::ChunkerOptions chunking;
  auto max_chunk =
      NumberParam(kName, *params, "max_chunk_seconds", speech::SilenceChunker::kMinChunkSeconds,
                  speech::SilenceChunker::kMaxChunkSeconds);
  if (!max_chunk) return Fail(max_chunk.error());
  chunking.max_chunk_seconds = *max_chunk;
  auto overlap = NumberParam(kName, *params, "overlap_seconds", 0, *max_chunk / 4);
  if (!overlap) return Fail(overlap.error());
  chunking.overlap_seconds = *overlap;
  speech::CaptionOptions captions;
  auto line_length = IntParam(kName, *params, "caption_line_length", 16, 120);
  if (!line_length) return Fail(line_length.error());
  captions.line_length = *line_length;
  return std::unique_ptr<TranscriptStage>(new TranscriptStage(
      std::move(*params), std::move(model), chunking, captions, client, std::move(service)));
}

std::vector<ServiceUse> TranscriptStage::Services() const {
  if (client_ == nullptr) return {};
  return {ServiceUse{service_, {params_.at("model").get<std::string>()}}};
}

Consumption TranscriptStage::Consumes() const {
  Consumption wants;
  wants.audio = AudioRequest{
      .sample_rate = speech::kSampleRate, .channels = 1, .sample_format = AV_SAMPLE_FMT_S16};
  return wants;
}

std::optional<std::string> TranscriptStage::SkipReason(const media::MediaInfo& info) const {
  return AudioSkipReason(info, 0);
}

Result<std::unique_ptr<StageRun>> TranscriptStage::Start(const media::MediaInfo& /*info*/) const {
  std::string model = params_.at("model").get<std::string>();
  std::string language = params_.at("language").get<std::string>();
  TranscriptRun::Opener open;
  if (client_ != nullptr) {
    open = [client = client_, model,
            language]() -> Result<std::unique_ptr<speech::SpeechRecognizer>> {
      return std::unique_ptr<speech::SpeechRecognizer>(
          std::make_unique<speech::OpenAiRecognizer>(*client, model, language));
    };
  } else {
    REPRISE_TRY(speech::PocketSphinxRecognizer::CheckInstalled(model_, model));
    open = [files = model_, model]() -> Result<std::unique_ptr<speech::SpeechRecognizer>> {
      auto recognizer = speech::PocketSphinxRecognizer::Open(files, model);
      if (!recognizer) return Fail(recognizer.error());
      return std::unique_ptr<speech::SpeechRecognizer>(std::move(*recognizer));
    };
  }
  return std::unique_ptr<StageRun>(
      std::make_unique<TranscriptRun>(std::move(open), params_.at("backend").get<std::string>(),
                                      std::move(model), chunking_, captions_, std::move(language)));
}

}  // namespace reprise::stages
