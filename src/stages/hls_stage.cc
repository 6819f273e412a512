#include "stages/hls_stage.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>

extern "C" {
#include <libavutil/pixfmt.h>
#include <libavutil/samplefmt.h>
}

#include "media/audio_converter.h"
#include "media/audio_encoder.h"
#include "media/chunked_audio_encoder.h"
#include "media/hls_video_encoder.h"
#include "media/hls_writer.h"
#include "media/video_converter.h"
#include "stages/audio_analysis.h"
#include "stages/params.h"

namespace reprise::stages {
namespace {

constexpr int kAudioChannels = 2;
constexpr double kDefaultFrameRate = 25;
constexpr std::string_view kPlaylistType = "application/vnd.apple.mpegurl";
constexpr std::string_view kSegmentType = "video/mp2t";
constexpr const char* kPresets[] = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                    "medium",    "slow",      "slower",   "veryslow"};

bool VideoMode(const HlsStage::Settings& settings, const media::MediaInfo& info) {
  return settings.video && info.Kind() == media::MediaKind::kVideo && info.BestVideo() != nullptr;
}

media::VideoRequest SourceRequest() {
  return media::VideoRequest{
      .width = 0, .even_height = true, .apply_rotation = true, .pixel_format = AV_PIX_FMT_YUV420P};
}

media::VideoRequest RungRequest(int width) {
  return media::VideoRequest{.width = width,
                             .even_height = true,
                             .apply_rotation = false,
                             .pixel_format = AV_PIX_FMT_YUV420P};
}

// One output: a media playlist with its segments (plus, for video, its scaler and
// encoder). Audio-only HLS has one rendition without a name.
struct Rendition {
  std::string name;  // "720p"; empty for audio-only HLS (files at the top level)
  int width = 0;
  int height = 0;
  bool remux = false;       // copies the source's H.264 packets (no scaler or encoder)
  bool copy_audio = false;  // copies the source's AAC packets instead of the shared encode
  std::unique_ptr<media::VideoConverter> scaler;
  std::unique_ptr<media::HlsVideoEncoder> encoder;
  std::unique_ptr<media::HlsWriter> writer;
  std::optional<size_t> video_stream;
  std::optional<size_t> audio_stream;

  std::string Path(std::string_view file) const {
    return name.empty() ? std::string(file) : name + "/" + std::string(file);
  }
};

class HlsRun final : public StageRun {
 public:
  static Result<std::unique_ptr<HlsRun>> Start(const HlsStage::Settings& settings,
                                               const media::MediaInfo& info) {
    std::unique_ptr<HlsRun> run(new HlsRun(settings));
    run->video_mode_ = VideoMode(settings, info);
    if (run->video_mode_) {
      REPRISE_TRY(run->OpenVideo(info));
    } else {
      run->renditions_.push_back(std::make_unique<Rendition>());
    }
    const media::StreamInfo* audio = info.BestAudio();
    bool encode_audio = std::any_of(run->renditions_.begin(), run->renditions_.end(),
                                    [](const auto& rendition) { return !rendition->copy_audio; });
    if (audio != nullptr && encode_audio) {
      std::optional<double> seconds = audio->duration_seconds;
      if (!seconds) seconds = info.duration_seconds;
      REPRISE_TRY(run->OpenAudio(audio->sample_rate.value_or(48000), seconds.value_or(0)));
    }
    REPRISE_TRY(run->OpenWriters());
    return run;
  }

  // The remuxed rendition's packets, straight from the demuxer.
  Feed OnPacket(const media::PacketView& view) override {
    if (error_) return Feed::kMore;
    if (remux_ == nullptr) return Feed::kDoneWithThis;
    std::optional<size_t> stream;
    if (view.main_video) {
      stream = remux_->video_stream;
    } else if (view.main_audio && remux_->copy_audio) {
      stream = remux_->audio_stream;
    }
    if (!stream || view.packet->size <= 0) return Feed::kMore;
    auto copied = CopyPacket(view, *stream);
    if (!copied) {
      error_ = copied.error();
      return Feed::kDone;
    }
    return Feed::kMore;
  }

  Feed OnAudio(const media::AudioBuffer& audio) override {
    // Every rendition copies the source's AAC: nothing to encode.
    if (!audio_) return Feed::kDoneWithThis;
    if (error_) return Feed::kMore;
    const AVFrame& frame = *audio.frame;
    if (frame.nb_samples <= 0) return Feed::kMore;
    if (!audio_started_) {
      audio_started_ = true;
      // Video HLS keeps the source's A/V offset; audio HLS starts with its first sample.
      if (video_mode_) audio_offset_ = std::llround(audio.pts_seconds * sample_rate_);
      if (frame.sample_rate != sample_rate_ || frame.ch_layout.nb_channels != kAudioChannels) {
        converter_ = std::make_unique<media::AudioConverter>(media::AudioRequest{
            sample_rate_, kAudioChannels, static_cast<int>(AV_SAMPLE_FMT_FLTP)});
      }
    }
    auto added = AddAudio(&frame, audio.pts_seconds);
    if (!added) {
      error_ = added.error();
      return Feed::kDone;
    }
    return Feed::kMore;
  }

  Feed OnVideoFrame(const media::VideoFrame& video) override {
    // Only remuxed renditions: the decode pass can stop decoding video.
    if (video_mode_ && !transcodes_) return Feed::kDoneWithThis;
    if (!video_mode_ || video.from_cover || error_) return Feed::kMore;
    for (auto& rendition : renditions_) {
      if (!rendition->encoder) continue;
      auto scaled = rendition->scaler->Convert(*video.frame, /*rotation=*/0);
      if (!scaled) {
        error_ = scaled.error();
        return Feed::kDone;
      }
      auto encoded = rendition->encoder->Encode(**scaled, video.pts_seconds);
      if (!encoded) {
        error_ = encoded.error();
        return Feed::kDone;
      }
    }
    video_end_ = std::max(video_end_, video.pts_seconds + 1 / frame_rate_);
    ++video_frames_;
    return Feed::kMore;
  }

  Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
    if (error_) return Fail(*error_);
    if (audio_) {
      if (converter_) REPRISE_TRY(AddAudio(nullptr, 0));
      REPRISE_TRY(audio_->Finish());
    }
    double end = 0;
    if (audio_ && audio_->samples() > 0) {
      end = static_cast<double>(audio_offset_ + audio_->samples()) / sample_rate_;
    }
    if (video_frames_ > 0) end = std::max(end, video_end_);
    end = std::max(end, packet_end_);
    if (end <= 0) return Fail(ErrorCode::kUnsupportedMedia, "nothing decoded to segment");
    for (auto& rendition : renditions_) {
      if (rendition->audio_stream)
        REPRISE_TRY(rendition->writer->EndStream(*rendition->audio_stream));
      if (rendition->encoder) REPRISE_TRY(rendition->encoder->Flush());
      if (rendition->video_stream)
        REPRISE_TRY(rendition->writer->EndStream(*rendition->video_stream));
      REPRISE_TRY(rendition->writer->Finish(end));
    }
    REPRISE_TRY(Publish(sink));
    StageResult result;
    result.metadata = Metadata();
    return result;
  }

 private:
  explicit HlsRun(const HlsStage::Settings& settings) : settings_(settings) {}

  // `expected_seconds`: the probe's duration (0 unknown), which lets the last chunks of
  // the encode shrink so both cores finish together.
  Result<void> OpenAudio(int source_rate, double expected_seconds) {
    auto rate = media::SupportedSampleRate("aac", source_rate);
    if (!rate) return Fail(rate.error());
    sample_rate_ = *rate;
    media::AudioEncoderConfig config;
    config.codec = "aac";
    config.sample_rate = sample_rate_;
    config.channels = kAudioChannels;
    config.bit_rate = int64_t{settings_.audio_bitrate} * 1000;
    auto encoder = media::ChunkedAudioEncoder::Create(
        config,
        {.threads = settings_.threads,
         .chunk_seconds = settings_.chunk_seconds,
         .expected_samples = std::llround(expected_seconds * sample_rate_)},
        [this](AVPacket& packet) { return OnAudioPacket(packet); });
    if (!encoder) return Fail(encoder.error());
    audio_ = std::move(*encoder);
    return {};
  }

  Result<void> OpenVideo(const media::MediaInfo& info) {
    const media::StreamInfo& video = *info.BestVideo();
    const media::StreamInfo* audio = info.BestAudio();
    frame_rate_ = video.frame_rate.value_or(kDefaultFrameRate);
    if (!(frame_rate_ > 1 && frame_rate_ <= 240)) frame_rate_ = kDefaultFrameRate;
    int width = video.DisplayWidth().value_or(0);
    int height = video.DisplayHeight().value_or(0);
    if (width <= 0 || height <= 0) {
      return Fail(ErrorCode::kUnsupportedMedia, "the video stream has no picture size");
    }
    // What the decode pass hands over for SourceRequest(): upright, even height.
    media::FrameSize source =
        media::VideoConverter::OutputSize(SourceRequest(), width, height, AVRational{1, 1}, 0);
    // The source's own picture can be copied when it is H.264 that players show as it is
    // coded: square pixels, upright, 4:2:0.
    const bool remuxable = video.codec == "h264" && video.rotation == 0 &&
                           std::abs(video.sample_aspect_ratio - 1) < 1e-3 &&
                           (video.pixel_format == "yuv420p" || video.pixel_format == "yuvj420p") &&
                           source.width == width && source.height == height;
    for (const HlsStage::Rung& rung :
         HlsStage::Ladder(settings_.renditions, source.width, source.height)) {
      auto rendition = std::make_unique<Rendition>();
      rendition->name = std::to_string(rung.short_side) + "p";
      rendition->width = rung.width;
      rendition->height = rung.height;
      if (remuxable && rung.short_side == std::min(width, height)) {
        rendition->width = width;
        rendition->height = height;
        rendition->remux = true;
        rendition->copy_audio = audio != nullptr && audio->codec == "aac";
        remux_ = rendition.get();
        renditions_.push_back(std::move(rendition));
        continue;
      }
      transcodes_ = true;
      rendition->scaler = std::make_unique<media::VideoConverter>(RungRequest(rung.width));
      auto encoder = media::HlsVideoEncoder::Open(
          {.width = rung.width,
           .height = rung.height,
           .frame_rate = frame_rate_,
           .segment_seconds = settings_.segment_seconds,
           .preset = settings_.video_preset,
           .crf = settings_.video_crf},
          [target = rendition.get()](AVPacket& packet) -> Result<void> {
            return target->writer->Write(*target->video_stream, packet);
          });
      if (!encoder) return Fail(encoder.error());
      rendition->encoder = std::move(*encoder);
      renditions_.push_back(std::move(rendition));
    }
    return {};
  }

  Result<void> OpenWriters() {
    for (auto& rendition : renditions_) {
      std::vector<media::HlsStreamSpec> streams;
      if (rendition->remux) {
        // Copied streams are described by their first packet (CopyPacket()).
        rendition->video_stream = streams.size();
        streams.push_back({});
      } else if (rendition->encoder) {
        rendition->video_stream = streams.size();
        streams.push_back({[encoder = rendition->encoder.get()](AVCodecParameters& parameters) {
                             return encoder->FillParameters(parameters);
                           },
                           media::HlsVideoEncoder::time_base()});
      }
      if (rendition->copy_audio) {
        rendition->audio_stream = streams.size();
        streams.push_back({});
      } else if (audio_) {
        rendition->audio_stream = streams.size();
        streams.push_back({[encoder = audio_.get()](AVCodecParameters& parameters) {
                             return encoder->FillParameters(parameters);
                           },
                           audio_->time_base()});
      }
      if (streams.empty()) {
        return Fail(ErrorCode::kUnsupportedMedia, "no audio or video stream to segment");
      }
      auto writer = media::HlsWriter::Create(streams, 0, settings_.segment_seconds);
      if (!writer) return Fail(writer.error());
      rendition->writer = std::move(*writer);
    }
    return {};
  }

  // `frame` nullptr: flush the converter.
  Result<void> AddAudio(const AVFrame* frame, double pts_seconds) {
    if (!converter_) return audio_->Add(*frame);
    auto converted =
        frame != nullptr ? converter_->Convert(*frame, pts_seconds) : converter_->Flush();
    if (!converted) return Fail(converted.error());
    if (!converted->frame || converted->frame->nb_samples == 0) return {};
    return audio_->Add(*converted->frame);
  }

  // Packets of the source's main video or audio stream for the remuxed rendition, timed
  // from the presentation start like everything else.
  Result<void> CopyPacket(const media::PacketView& view, size_t stream) {
    media::HlsWriter& writer = *remux_->writer;
    REPRISE_TRY(writer.Describe(stream, *view.parameters, view.time_base));
    media::PacketPtr packet = media::NewPacket();
    int rc = av_packet_ref(packet.get(), view.packet);
    if (rc < 0) return Fail(media::AvError(rc, ErrorCode::kInternal, "cannot copy a packet"));
    if (media::HasTimestamp(packet->pts)) {
      packet->pts -= view.start_offset;
      packet_end_ = std::max(
          packet_end_, media::TimestampSeconds(packet->pts + packet->duration, view.time_base));
    }
    if (media::HasTimestamp(packet->dts)) packet->dts -= view.start_offset;
    return writer.Write(stream, *packet);
  }

  // Every rendition that does not copy the source's audio carries the one AAC encode.
  Result<void> OnAudioPacket(AVPacket& packet) {
    audio_bytes_ += packet.size;
    packet.pts += audio_offset_;
    packet.dts += audio_offset_;
    std::vector<Rendition*> targets;
    for (auto& rendition : renditions_) {
      if (!rendition->copy_audio && rendition->audio_stream) targets.push_back(rendition.get());
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      Rendition& rendition = *targets[i];
      if (i + 1 == targets.size()) return rendition.writer->Write(*rendition.audio_stream, packet);
      media::PacketPtr copy = media::NewPacket();
      int rc = av_packet_ref(copy.get(), &packet);
      if (rc < 0) return Fail(media::AvError(rc, ErrorCode::kInternal, "cannot copy a packet"));
      REPRISE_TRY(rendition.writer->Write(*rendition.audio_stream, *copy));
    }
    return {};
  }

  // Segments first, then media playlists, then the master: a playlist never names a
  // file that is not there yet.
  Result<void> Publish(OutputSink& sink) {
    for (const auto& rendition : renditions_) {
      const media::HlsWriter& writer = *rendition->writer;
      for (size_t i = 0; i < writer.segments().size(); ++i) {
        std::string name = rendition->Path(media::HlsSegmentName(i));
        auto out = sink.Create(name);
        if (!out) return Fail(out.error());
        (*out)->SetContentType(kSegmentType);
        REPRISE_TRY(writer.spool().CopySegment(i, **out));
        auto committed = (*out)->Commit(name);
        if (!committed) return Fail(committed.error());
        sink.Add(
            catalog::OutputBlob{name, committed->key, committed->size, std::string(kSegmentType)});
      }
      auto playlist = WriteOutput(sink, rendition->Path(HlsStage::kPlaylist), kPlaylistType,
                                  media::HlsMediaPlaylist(writer.segments()));
      if (!playlist) return Fail(playlist.error());
    }
    if (!video_mode_) return {};
    std::vector<media::HlsVariant> variants;
    for (const auto& rendition : renditions_) {
      variants.push_back({rendition->Path(HlsStage::kPlaylist), rendition->writer->PeakBitRate(),
                          rendition->writer->AverageBitRate(), rendition->width, rendition->height,
                          frame_rate_, rendition->writer->CodecsString()});
    }
    auto master =
        WriteOutput(sink, HlsStage::kMaster, kPlaylistType, media::HlsMasterPlaylist(variants));
    if (!master) return Fail(master.error());
    return {};
  }

  static nlohmann::json SegmentMetadata(const media::HlsWriter& writer) {
    nlohmann::json durations = nlohmann::json::array();
    double total = 0;
    double longest = 0;
    for (const media::HlsSegmentInfo& segment : writer.segments()) {
      durations.push_back(segment.duration_seconds);
      total += segment.duration_seconds;
      longest = std::max(longest, segment.duration_seconds);
    }
    return {{"segments", writer.segments().size()},
            {"segment_durations", durations},
            {"duration_seconds", total},
            {"target_duration", static_cast<int>(std::ceil(std::round(longest * 1e6) / 1e6))}};
  }

  nlohmann::json Metadata() const {
    const media::HlsWriter& first = *renditions_.front()->writer;
    nlohmann::json meta = SegmentMetadata(first);
    meta["mode"] = video_mode_ ? "video" : "audio";
    meta["playlist"] = video_mode_ ? HlsStage::kMaster : HlsStage::kPlaylist;
    meta["segment_seconds"] = settings_.segment_seconds;
    if (audio_ && audio_->samples() > 0) {
      double seconds = static_cast<double>(audio_->samples()) / sample_rate_;
      meta["audio"] = {{"codec", "aac"},
                       {"bit_rate", std::llround(static_cast<double>(audio_bytes_) * 8 / seconds)},
                       {"sample_rate", sample_rate_},
                       {"channels", kAudioChannels},
                       {"threads", audio_->threads()},
                       {"chunked", audio_->threads() > 1}};
    } else if (remux_ != nullptr && remux_->copy_audio) {
      meta["audio"] = {{"codec", "aac"}, {"copied", true}};
    }
    if (video_mode_) {
      nlohmann::json renditions = nlohmann::json::array();
      for (const auto& rendition : renditions_) {
        nlohmann::json entry = SegmentMetadata(*rendition->writer);
        entry.erase("segment_durations");
        entry["name"] = rendition->name;
        entry["playlist"] = rendition->Path(HlsStage::kPlaylist);
        entry["width"] = rendition->width;
        entry["height"] = rendition->height;
        entry["remux"] = rendition->remux;
        entry["bandwidth"] = rendition->writer->PeakBitRate();
        entry["average_bandwidth"] = rendition->writer->AverageBitRate();
        entry["codecs"] = rendition->writer->CodecsString();
        renditions.push_back(std::move(entry));
      }
      meta["renditions"] = std::move(renditions);
    }
    return meta;
  }

  HlsStage::Settings settings_;
  bool video_mode_ = false;
  int sample_rate_ = 0;
  double frame_rate_ = kDefaultFrameRate;
  bool audio_started_ = false;
  int64_t audio_offset_ = 0;  // samples from the presentation start to the first
  int64_t audio_bytes_ = 0;
  double video_end_ = 0;
  int64_t video_frames_ = 0;
  bool transcodes_ = false;     // some rendition encodes decoded video
  Rendition* remux_ = nullptr;  // the rendition that copies the source's H.264, if any
  double packet_end_ = 0;       // end of the last copied packet, seconds
  std::optional<Error> error_;
  std::vector<std::unique_ptr<Rendition>> renditions_;
  std::unique_ptr<media::AudioConverter> converter_;  // when the decoded format is not AAC's
  // Declared last, destroyed first: its workers stop before anything they could touch.
  std::unique_ptr<media::ChunkedAudioEncoder> audio_;
};

}  // namespace

std::vector<HlsStage::Rung> HlsStage::Ladder(const std::vector<int>& rungs, int width, int height) {
  const int short_side = std::min(width, height);
  std::set<int> sides;
  for (int rung : rungs) sides.insert(std::min(rung, short_side));
  std::vector<Rung> ladder;
  for (int side : sides) {
    // The short side becomes `side` (even); the long one follows the display aspect.
    int scaled_long = static_cast<int>(
        std::lround(static_cast<double>(std::max(width, height)) * side / short_side / 2) * 2);
    int even_side = std::max(2, side - side % 2);
    int out_width = width >= height ? scaled_long : even_side;
    media::FrameSize size = media::VideoConverter::OutputSize(RungRequest(out_width), width, height,
                                                              AVRational{1, 1}, 0);
    ladder.push_back(Rung{side, size.width, size.height});
  }
  return ladder;
}

Result<std::unique_ptr<HlsStage>> HlsStage::Create(const nlohmann::json& overrides) {
  const Settings defaults;
  auto params = MergeParams(kName,
                            {{"segment_seconds", defaults.segment_seconds},
                             {"audio_bitrate", defaults.audio_bitrate},
                             {"video", defaults.video},
                             {"renditions", defaults.renditions},
                             {"video_preset", defaults.video_preset},
                             {"video_crf", defaults.video_crf},
                             {"chunk_seconds", defaults.chunk_seconds},
                             {"threads", defaults.threads}},
                            overrides);
  if (!params) return Fail(params.error());
  Settings settings;
  auto segment = NumberParam(kName, *params, "segment_seconds", 1, 30);
  if (!segment) return Fail(segment.error());
  settings.segment_seconds = *segment;
  auto chunk = NumberParam(kName, *params, "chunk_seconds", 1, 600);
  if (!chunk) return Fail(chunk.error());
  settings.chunk_seconds = *chunk;
  auto bitrate = IntParam(kName, *params, "audio_bitrate", 32, 512);
  if (!bitrate) return Fail(bitrate.error());
  settings.audio_bitrate = *bitrate;
  auto crf = IntParam(kName, *params, "video_crf", 0, 51);
  if (!crf) return Fail(crf.error());
  settings.video_crf = *crf;
  auto threads = IntParam(kName, *params, "threads", 0, 64);
  if (!threads) return Fail(threads.error());
  settings.threads = *threads;
  settings.video = (*params)["video"].get<bool>();
  settings.video_preset = (*params)["video_preset"].get<std::string>();
  if (std::find(std::begin(kPresets), std::end(kPresets), settings.video_preset) ==
      std::end(kPresets)) {
    return Fail(ErrorCode::kInvalidArgument,
                "stage 'hls' param 'video_preset' must be an x264 preset, got '" +
                    settings.video_preset + "'");
  }
  settings.renditions.clear();
  for (const auto& rung : (*params)["renditions"]) {
    if (!rung.is_number_integer() || rung.get<int64_t>() < 144 || rung.get<int64_t>() > 2160) {
      return Fail(
          ErrorCode::kInvalidArgument,
          "stage 'hls' param 'renditions' must list heights in 144..2160, got " + rung.dump());
    }
    settings.renditions.push_back(rung.get<int>());
  }
  if (settings.renditions.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "stage 'hls' param 'renditions' must not be empty");
  }
  return std::unique_ptr<HlsStage>(new HlsStage(std::move(*params), std::move(settings)));
}

Consumption HlsStage::Consumes() const {
  Consumption wants;
  // The source's rate as planar float stereo: what AAC takes, so a common 44.1/48 kHz
  // source needs no resampling (OnAudio converts otherwise).
  wants.audio = AudioRequest{.sample_rate = 0,
                             .channels = kAudioChannels,
                             .sample_format = static_cast<int>(AV_SAMPLE_FMT_FLTP)};
  if (settings_.video) {
    wants.video = SourceRequest();
    // For a remuxed rendition; a run without one declines them at the first packet.
    wants.packets = true;
  }
  return wants;
}

std::optional<std::string> HlsStage::SkipReason(const media::MediaInfo& info) const {
  if (VideoMode(settings_, info)) return std::nullopt;
  return AudioSkipReason(info, 0);
}

Result<std::unique_ptr<StageRun>> HlsStage::Start(const media::MediaInfo& info) const {
  auto run = HlsRun::Start(settings_, info);
  if (!run) return Fail(run.error());
  return std::unique_ptr<StageRun>(std::move(*run));
}

}  // namespace reprise::stages
