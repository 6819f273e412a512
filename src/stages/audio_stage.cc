#include "stages/audio_stage.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

extern "C" {
#include <libavutil/samplefmt.h>
}

#include "media/audio_encoder.h"
#include "media/output_container.h"
#include "stages/audio_analysis.h"
#include "stages/params.h"

namespace reprise::stages {
namespace {

constexpr std::string_view kMp3Encoder = "libmp3lame";
// MPEG-1 Layer III bit rates in kb/s; MPEG-2 (under 32 kHz) tops out at 160.
constexpr std::array<int, 14> kMp3Bitrates = {32,  40,  48,  56,  64,  80,  96,
                                              112, 128, 160, 192, 224, 256, 320};
constexpr int kMpeg2MaxBitrate = 160;
// Decoded audio waiting for the MP3 thread, in bytes of samples: about 22 s of 48 kHz
// stereo float. The decode loop runs that far ahead of the MP3 encode, so the other
// stages sharing the loop (the HLS AAC chunks above all) get their input early instead
// of at the MP3 encoder's pace; memory stays bounded whatever the input's length.
constexpr size_t kQueuedBytes = size_t{8} << 20;

// One output file: an encoder whose packets go straight into a spooled container.
class EncodedFile {
 public:
  static Result<std::unique_ptr<EncodedFile>> Open(const media::AudioEncoderConfig& config,
                                                   std::string_view muxer,
                                                   const media::OutputContainerOptions& options) {
    auto container = media::OutputContainer::Open(muxer, options);
    if (!container) return Fail(container.error());
    std::unique_ptr<EncodedFile> file(new EncodedFile(std::move(*container)));
    EncodedFile* self = file.get();
    auto encoder = media::AudioEncoder::Open(config, [self](AVPacket& packet) {
      return self->container_->WritePacket(packet, self->stream_, self->time_base_);
    });
    if (!encoder) return Fail(encoder.error());
    file->encoder_ = std::move(*encoder);
    file->time_base_ = file->encoder_->time_base();
    auto stream = file->container_->AddStream(file->encoder_->context());
    if (!stream) return Fail(stream.error());
    file->stream_ = *stream;
    REPRISE_TRY(file->container_->WriteHeader());
    return file;
  }

  Result<void> Encode(const AVFrame& frame) { return encoder_->Encode(frame); }

  Result<void> Finish() {
    REPRISE_TRY(encoder_->Flush());
    auto size = container_->Finish();
    if (!size) return Fail(size.error());
    bytes_ = *size;
    return {};
  }

  // Copies the finished file into the sink under `name` and records it.
  Result<void> Publish(OutputSink& sink, std::string_view name, std::string_view content_type) {
    auto writer = sink.Create(name);
    if (!writer) return Fail(writer.error());
    (*writer)->SetContentType(content_type);
    REPRISE_TRY(container_->CopyTo(**writer));
    auto committed = (*writer)->Commit(name);
    if (!committed) return Fail(committed.error());
    sink.Add(catalog::OutputBlob{std::string(name), committed->key, committed->size,
                                 std::string(content_type)});
    return {};
  }

  nlohmann::json Describe(std::string_view name) const {
    const AVCodecContext& context = encoder_->context();
    int64_t bit_rate = context.bit_rate;
    if (bit_rate == 0) {
      bit_rate = static_cast<int64_t>(context.sample_rate) * context.ch_layout.nb_channels *
                 av_get_bytes_per_sample(context.sample_fmt) * 8;
    }
    return {{"file", name},
            {"bytes", bytes_},
            {"duration_seconds",
             static_cast<double>(encoder_->samples_encoded()) / context.sample_rate},
            {"sample_rate", context.sample_rate},
            {"channels", context.ch_layout.nb_channels},
            {"bit_rate", bit_rate}};
  }

  const AVCodecContext& context() const { return encoder_->context(); }

 private:
  explicit EncodedFile(std::unique_ptr<media::OutputContainer> container)
      : container_(std::move(container)) {}

  std::unique_ptr<media::OutputContainer> container_;
  std::unique_ptr<media::AudioEncoder> encoder_;  // writes into container_
  int stream_ = 0;
  AVRational time_base_{1, 1};
  int64_t bytes_ = 0;
};

// Makes one file from the frames given to it. The file is opened at the first frame,
// whose rate and channel count are the source's (the probe may not know them exactly).
class FileMaker {
 public:
  using ConfigFor = std::function<Result<media::AudioEncoderConfig>(const AVFrame& first)>;

  FileMaker(std::string muxer, media::OutputContainerOptions options, ConfigFor config_for)
      : muxer_(std::move(muxer)),
        options_(std::move(options)),
        config_for_(std::move(config_for)) {}

  Result<void> Add(const AVFrame& frame) {
    if (!file_) {
      auto config = config_for_(frame);
      if (!config) return Fail(config.error());
      auto file = EncodedFile::Open(*config, muxer_, options_);
      if (!file) return Fail(file.error());
      file_ = std::move(*file);
    }
    return file_->Encode(frame);
  }

  Result<void> Finish() { return file_ ? file_->Finish() : Result<void>{}; }

  // Null until the first frame.
  EncodedFile* file() const { return file_.get(); }

 private:
  std::string muxer_;
  media::OutputContainerOptions options_;
  ConfigFor config_for_;
  std::unique_ptr<EncodedFile> file_;
};

// A queue of frame references between the decode thread and one encoder thread,
// bounded by the bytes of samples it holds (one frame always fits). Push() waits while it
// is full; Close() lets the consumer drain it; Cancel() drops everything and wakes both
// sides. Each side is woken only when the other may be waiting: when the queue stops
// being empty or stops being full.
class FrameQueue {
 public:
  explicit FrameQueue(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  // False when the queue was cancelled (the consumer stopped).
  bool Push(media::FramePtr frame) {
    const size_t bytes = SampleBytes(*frame);
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return cancelled_ || frames_.empty() || bytes_ < capacity_; });
    if (cancelled_) return false;
    const bool was_empty = frames_.empty();
    frames_.push_back(std::move(frame));
    bytes_ += bytes;
    if (was_empty) not_empty_.notify_one();
    return true;
  }

  // The next frame; nullptr once closed and drained, or cancelled.
  media::FramePtr Pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return cancelled_ || closed_ || !frames_.empty(); });
    if (cancelled_ || frames_.empty()) return nullptr;
    const bool was_full = bytes_ >= capacity_;
    media::FramePtr frame = std::move(frames_.front());
    frames_.pop_front();
    bytes_ -= SampleBytes(*frame);
    if (was_full) not_full_.notify_one();
    return frame;
  }

  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }

  void Cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    frames_.clear();
    bytes_ = 0;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

 private:
  static size_t SampleBytes(const AVFrame& frame) {
    const int bytes =
        av_samples_get_buffer_size(nullptr, frame.ch_layout.nb_channels, frame.nb_samples,
                                   static_cast<AVSampleFormat>(frame.format), 1);
    return bytes > 0 ? static_cast<size_t>(bytes) : 0;
  }

  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<media::FramePtr> frames_;
  size_t bytes_ = 0;
  size_t capacity_;
  bool closed_ = false;
  bool cancelled_ = false;
};

// Runs a FileMaker on a thread of its own. The decode thread only takes a new reference
// to each frame. Destroying it without Finish() cancels and joins the thread.
class BackgroundFileMaker {
 public:
  explicit BackgroundFileMaker(FileMaker maker)
      : queue_(kQueuedBytes), maker_(std::move(maker)), thread_([this] { Run(); }) {}

  ~BackgroundFileMaker() {
    queue_.Cancel();
    if (thread_.joinable()) thread_.join();
  }
  BackgroundFileMaker(const BackgroundFileMaker&) = delete;
  BackgroundFileMaker& operator=(const BackgroundFileMaker&) = delete;

  // False when the thread has stopped on an error (Finish() returns it).
  bool Add(const AVFrame& frame) { return queue_.Push(media::CloneFrame(frame)); }

  // No more frames: the thread encodes what is queued and finishes the file meanwhile.
  void Close() { queue_.Close(); }

  // Waits for the thread; the maker's error, if any.
  Result<void> Finish() {
    queue_.Close();
    if (thread_.joinable()) thread_.join();
    if (error_) return Fail(*error_);
    return {};
  }

  // Only after Finish().
  const FileMaker& maker() const { return maker_; }

 private:
  void Run() {
    try {
      while (media::FramePtr frame = queue_.Pop()) {
        auto added = maker_.Add(*frame);
        if (!added) {
          error_ = added.error();
          queue_.Cancel();
          return;
        }
      }
      if (queue_.cancelled()) return;
      auto finished = maker_.Finish();
      if (!finished) error_ = finished.error();
    } catch (const std::exception& e) {
      error_ =
          Error{ErrorCode::kInternal, std::string("audio encoder thread threw: ") + e.what(), ""};
      queue_.Cancel();
    } catch (...) {
      // Nothing may leave a thread: it would terminate the worker process.
      error_ = Error{ErrorCode::kInternal, "audio encoder thread threw", ""};
      queue_.Cancel();
    }
  }

  FrameQueue queue_;
  FileMaker maker_;
  std::optional<Error> error_;  // written by the thread, read after join
  std::thread thread_;          // last: starts once everything it uses exists
};

// RF64 only past 4 GiB (about 6 hours of 48 kHz stereo), where a RIFF header cannot hold
// the size; shorter files stay plain WAV with a JUNK chunk reserving the room, which
// every WAV reader skips.
media::OutputContainerOptions WavOptions() {
  media::OutputContainerOptions options;
  options.muxer_options["rf64"] = "auto";
  return options;
}

Result<media::AudioEncoderConfig> WavConfig(const AVFrame& first) {
  return media::AudioEncoderConfig{.codec = "pcm_s16le",
                                   .sample_rate = first.sample_rate,
                                   .channels = first.ch_layout.nb_channels};
}

Result<media::AudioEncoderConfig> Mp3Config(const AudioStage::Settings& settings,
                                            const AVFrame& first) {
  int rate = settings.mp3_sample_rate;
  if (rate == 0) {
    auto supported = media::SupportedSampleRate(kMp3Encoder, first.sample_rate);
    if (!supported) return Fail(supported.error());
    rate = *supported;
  }
  int kbps = settings.mp3_bitrate_kbps;
  if (rate < 32000) kbps = std::min(kbps, kMpeg2MaxBitrate);
  // Planar float is what the usual decoders (AAC, MP3, Opus, Vorbis) give, so most
  // sources reach LAME without a conversion.
  return media::AudioEncoderConfig{.codec = std::string(kMp3Encoder),
                                   .sample_rate = rate,
                                   .channels = std::min(first.ch_layout.nb_channels, 2),
                                   .sample_format = AV_SAMPLE_FMT_FLTP,
                                   .bit_rate = int64_t{kbps} * 1000};
}

class AudioRun final : public StageRun {
 public:
  explicit AudioRun(const AudioStage::Settings& settings) {
    if (settings.wav) wav_.emplace("wav", WavOptions(), WavConfig);
    if (settings.mp3) {
      mp3_ = std::make_unique<BackgroundFileMaker>(
          FileMaker("mp3", media::OutputContainerOptions{},
                    [settings](const AVFrame& first) { return Mp3Config(settings, first); }));
    }
  }

  Feed OnAudio(const media::AudioBuffer& audio) override {
    const AVFrame& frame = *audio.frame;
    if (frame.nb_samples <= 0) return Feed::kMore;
    if (sample_rate_ == 0) {
      sample_rate_ = frame.sample_rate;
      channels_ = frame.ch_layout.nb_channels;
    }
    seconds_ += static_cast<double>(frame.nb_samples) / frame.sample_rate;
    // The MP3 thread gets its frame first so it works while the WAV is written here.
    if (mp3_ && !mp3_->Add(frame)) return Feed::kDone;
    if (wav_) {
      auto added = wav_->Add(frame);
      if (!added) {
        error_ = added.error();
        return Feed::kDone;
      }
    }
    return Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
    if (error_) return Fail(*error_);
    // Both files are complete before either is published.
    if (mp3_) mp3_->Close();
    if (wav_) REPRISE_TRY(wav_->Finish());
    if (mp3_) REPRISE_TRY(mp3_->Finish());
    if (sample_rate_ == 0) {
      return Fail(ErrorCode::kUnsupportedMedia, "the audio stream decoded to no samples");
    }
    StageResult result;
    result.metadata = {
        {"duration_seconds", seconds_}, {"sample_rate", sample_rate_}, {"channels", channels_}};
    if (wav_) {
      EncodedFile& wav = *wav_->file();
      REPRISE_TRY(wav.Publish(sink, AudioStage::kWavFile, "audio/wav"));
      result.metadata["wav"] = wav.Describe(AudioStage::kWavFile);
    }
    if (mp3_) {
      EncodedFile& mp3 = *mp3_->maker().file();
      REPRISE_TRY(mp3.Publish(sink, AudioStage::kMp3File, "audio/mpeg"));
      nlohmann::json described = mp3.Describe(AudioStage::kMp3File);
      described["encoder_delay"] = mp3.context().initial_padding;
      result.metadata["mp3"] = std::move(described);
    }
    return result;
  }

 private:
  std::optional<FileMaker> wav_;
  std::unique_ptr<BackgroundFileMaker> mp3_;
  std::optional<Error> error_;
  int sample_rate_ = 0;  // of the first decoded frame
  int channels_ = 0;
  double seconds_ = 0;  // decoded, summed frame by frame
};

std::string Mp3BitrateList() {
  std::string list;
  for (int kbps : kMp3Bitrates) list += (list.empty() ? "" : ", ") + std::to_string(kbps);
  return list;
}

}  // namespace

Result<std::unique_ptr<AudioStage>> AudioStage::Create(const nlohmann::json& overrides) {
  const nlohmann::json defaults = {
      {"wav", true}, {"mp3", true}, {"mp3_bitrate", 192}, {"mp3_sample_rate", 0}};
  auto params = MergeParams(kName, defaults, overrides);
  if (!params) return Fail(params.error());
  Settings settings;
  settings.wav = (*params)["wav"].get<bool>();
  settings.mp3 = (*params)["mp3"].get<bool>();
  if (!settings.wav && !settings.mp3) {
    return Fail(ErrorCode::kInvalidArgument,
                "stage 'audio': params 'wav' and 'mp3' are both false, so it would make nothing");
  }
  auto bitrate = IntParam(kName, *params, "mp3_bitrate", kMp3Bitrates.front(), kMp3Bitrates.back());
  if (!bitrate) return Fail(bitrate.error());
  if (std::find(kMp3Bitrates.begin(), kMp3Bitrates.end(), *bitrate) == kMp3Bitrates.end()) {
    return Fail(ErrorCode::kInvalidArgument,
                "stage 'audio' param 'mp3_bitrate' must be an MP3 bit rate in kb/s (" +
                    Mp3BitrateList() + "), got " + std::to_string(*bitrate));
  }
  settings.mp3_bitrate_kbps = *bitrate;
  auto rate = IntParam(kName, *params, "mp3_sample_rate", 0, 48000);
  if (!rate) return Fail(rate.error());
  settings.mp3_sample_rate = *rate;
  if (settings.mp3) {
    // Also checks that libavcodec was built with LAME, before any job needs it.
    auto supported = media::SupportedSampleRate(kMp3Encoder, *rate > 0 ? *rate : 44100);
    if (!supported) return Fail(supported.error().Wrap("stage 'audio'"));
    if (*rate > 0 && *supported != *rate) {
      return Fail(ErrorCode::kInvalidArgument,
                  "stage 'audio' param 'mp3_sample_rate' must be 0 or a rate libmp3lame takes "
                  "(8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000), got " +
                      std::to_string(*rate));
    }
  }
  return std::unique_ptr<AudioStage>(new AudioStage(std::move(*params), settings));
}

Consumption AudioStage::Consumes() const {
  // The decoder's own format: each encoder converts on its own thread, and nothing is
  // converted for an output that is off.
  Consumption wants;
  wants.audio = AudioRequest{.sample_rate = 0, .channels = 0, .sample_format = -1};
  return wants;
}

std::optional<std::string> AudioStage::SkipReason(const media::MediaInfo& info) const {
  return AudioSkipReason(info, 0);
}

Result<std::unique_ptr<StageRun>> AudioStage::Start(const media::MediaInfo& /*info*/) const {
  return std::unique_ptr<StageRun>(std::make_unique<AudioRun>(settings_));
}

}  // namespace reprise::stages
