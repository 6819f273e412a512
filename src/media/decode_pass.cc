#include "media/decode_pass.h"

#include <memory>
#include <string>
#include <utility>

#include "media/audio_converter.h"
#include "media/decoder.h"
#include "media/probe.h"
#include "media/video_converter.h"

namespace reprise::media {
namespace {

// One distinct VideoRequest and the subscriptions sharing its conversion.
struct VideoTarget {
  explicit VideoTarget(const VideoRequest& request) : converter(request) {}
  VideoConverter converter;
  std::vector<size_t> subscribers;
};

struct AudioTarget {
  explicit AudioTarget(const AudioRequest& request) : converter(request) {}
  AudioConverter converter;
  std::vector<size_t> subscribers;
};

// The state of one decoded stream: its decoder (opened on first need) and whether it
// can still produce anything.
struct Source {
  const StreamInfo* stream = nullptr;
  std::unique_ptr<Decoder> decoder;
  bool exhausted = false;  // ended, undecodable or absent
};

class DecodePass {
 public:
  DecodePass(Input& input, const MediaInfo& info, std::span<const Subscription> subscriptions,
             const PassOptions& options)
      : input_(input), info_(info), subscriptions_(subscriptions), options_(options) {
    report_.results.resize(subscriptions.size());
    active_.assign(subscriptions.size(), true);
    for (const Subscription& sub : subscriptions) {
      wants_video_.push_back(sub.video.has_value());
      wants_audio_.push_back(sub.audio.has_value());
      wants_packets_.push_back(sub.packets);
    }
    const AVFormatContext& format = *input.format();
    // Times are reported from where playback starts: a container that starts late
    // (MPEG-TS at 1.4 s) counts from its start; a negative start (audio encoder priming
    // in WebM/MP4) is pre-roll that players hide, so it is not counted.
    if (HasTimestamp(format.start_time) && format.start_time > 0) {
      start_seconds_ = static_cast<double>(format.start_time) / AV_TIME_BASE;
      start_time_ = format.start_time;
    }
  }

  PassReport Run() {
    Plan();
    if (WantsVideo() && video_.stream == nullptr) DeliverCover();
    Loop();
    for (size_t i = 0; i < subscriptions_.size(); ++i) {
      if (active_[i]) report_.results[i].end = SubscriptionEnd::kInputEnded;
    }
    return std::move(report_);
  }

 private:
  // Groups subscriptions by distinct request and picks the streams to decode.
  void Plan() {
    for (size_t i = 0; i < subscriptions_.size(); ++i) {
      const Subscription& sub = subscriptions_[i];
      if (sub.video) VideoTargetFor(*sub.video).subscribers.push_back(i);
      if (sub.audio) AudioTargetFor(*sub.audio).subscribers.push_back(i);
    }
    video_.stream = info_.BestVideo();
    video_.exhausted = video_.stream == nullptr;
    audio_.stream = info_.BestAudio();
    audio_.exhausted = audio_.stream == nullptr;
  }

  VideoTarget& VideoTargetFor(const VideoRequest& request) {
    for (auto& target : video_targets_) {
      if (target->converter.request() == request) return *target;
    }
    return *video_targets_.emplace_back(std::make_unique<VideoTarget>(request));
  }

  AudioTarget& AudioTargetFor(const AudioRequest& request) {
    for (auto& target : audio_targets_) {
      if (target->converter.request() == request) return *target;
    }
    return *audio_targets_.emplace_back(std::make_unique<AudioTarget>(request));
  }

  bool WantsVideo() const { return AnyWants(wants_video_); }
  bool WantsAudio() const { return AnyWants(wants_audio_); }
  bool WantsPackets() const { return AnyWants(wants_packets_); }
  bool AnyWants(const std::vector<bool>& wants) const {
    for (size_t i = 0; i < subscriptions_.size(); ++i) {
      if (active_[i] && wants[i]) return true;
    }
    return false;
  }

  // Acts on a consumer's answer to a delivery of the kind `wants` tracks.
  void Answer(size_t index, Feed feed, std::vector<bool>& wants) {
    if (feed == Feed::kDone) {
      End(index, SubscriptionEnd::kDone);
    } else if (feed == Feed::kDoneWithThis) {
      wants[index] = false;
      if (!wants_video_[index] && !wants_audio_[index] && !wants_packets_[index]) {
        End(index, SubscriptionEnd::kDone);
      }
    }
  }

  void End(size_t index, SubscriptionEnd end, std::optional<Error> error = std::nullopt) {
    if (!active_[index]) return;
    active_[index] = false;
    report_.results[index] = SubscriptionResult{end, std::move(error)};
  }

  void AbortAll(const Error& error) {
    for (size_t i = 0; i < subscriptions_.size(); ++i) End(i, SubscriptionEnd::kAborted, error);
  }

  // Aborts the consumers of one kind of data, e.g. when its decoder cannot be opened.
  void AbortWanting(bool video, const Error& error) {
    for (size_t i = 0; i < subscriptions_.size(); ++i) {
      if (video ? wants_video_[i] : wants_audio_[i]) {
        End(i, SubscriptionEnd::kAborted, error);
      }
    }
  }

  // Opens the source's decoder on first need; false when the source cannot decode.
  bool Ready(Source& source, bool video) {
    if (source.exhausted) return false;
    if (source.decoder) return true;
    const AVStream& stream = *input_.format()->streams[source.stream->index];
    auto decoder = Decoder::Open(stream, options_.decoder_threads);
    if (!decoder) {
      source.exhausted = true;
      AbortWanting(video, decoder.error().Wrap(input_.name()));
      return false;
    }
    source.decoder = std::move(*decoder);
    return true;
  }

  double Seconds(const AVFrame& frame, AVRational time_base) const {
    int64_t ts =
        HasTimestamp(frame.best_effort_timestamp) ? frame.best_effort_timestamp : frame.pts;
    return TimestampSeconds(ts, time_base, start_seconds_) - start_seconds_;
  }

  void DeliverVideo(const AVFrame& decoded, double pts_seconds, int rotation, bool from_cover) {
    ++report_.stats.video_frames_decoded;
    for (auto& target : video_targets_) {
      bool wanted = false;
      for (size_t i : target->subscribers) wanted = wanted || (active_[i] && wants_video_[i]);
      if (!wanted) continue;
      auto converted = target->converter.Convert(decoded, rotation);
      if (!converted) {
        for (size_t i : target->subscribers) {
          End(i, SubscriptionEnd::kAborted, converted.error().Wrap(input_.name()));
        }
        continue;
      }
      VideoFrame view{converted->get(), pts_seconds, from_cover};
      for (size_t i : target->subscribers) {
        if (active_[i] && wants_video_[i]) {
          Answer(i, subscriptions_[i].consumer->OnVideoFrame(view), wants_video_);
        }
      }
    }
  }

  void DeliverAudio(const AVFrame* decoded, double pts_seconds) {
    if (decoded != nullptr) ++report_.stats.audio_frames_decoded;
    for (auto& target : audio_targets_) {
      bool wanted = false;
      for (size_t i : target->subscribers) wanted = wanted || (active_[i] && wants_audio_[i]);
      if (!wanted) continue;
      auto converted = decoded != nullptr ? target->converter.Convert(*decoded, pts_seconds)
                                          : target->converter.Flush();
      if (!converted) {
        for (size_t i : target->subscribers) {
          End(i, SubscriptionEnd::kAborted, converted.error().Wrap(input_.name()));
        }
        continue;
      }
      if (!converted->frame || converted->frame->nb_samples == 0) continue;
      AudioBuffer view{converted->frame.get(), converted->pts_seconds};
      for (size_t i : target->subscribers) {
        if (active_[i] && wants_audio_[i]) {
          Answer(i, subscriptions_[i].consumer->OnAudio(view), wants_audio_);
        }
      }
    }
  }

  // Feeds one packet (nullptr: end of stream) to a source's decoder and delivers every
  // frame it gives back.
  void Decode(Source& source, bool video, const AVPacket* packet) {
    if (!source.decoder) return;
    auto sent = source.decoder->Send(packet);
    if (!sent) ++report_.stats.corrupt_packets;
    while (video ? WantsVideo() : WantsAudio()) {
      auto got = source.decoder->Receive(*frame_);
      if (!got) {
        ++report_.stats.corrupt_packets;
        break;
      }
      if (!*got) break;
      double pts = Seconds(*frame_, source.decoder->time_base());
      if (video) {
        DeliverVideo(*frame_, pts, source.stream->rotation, /*from_cover=*/false);
      } else {
        DeliverAudio(frame_.get(), pts);
      }
    }
    av_frame_unref(frame_.get());
  }

  // Inputs whose only picture is cover art (audio files): decode it from the stream's
  // attached_pic packet, which the demuxer holds apart from the packets it reads.
  void DeliverCover() {
    const StreamInfo* cover = info_.CoverPicture();
    if (cover == nullptr) return;
    const AVStream& stream = *input_.format()->streams[cover->index];
    if (stream.attached_pic.size <= 0) return;
    auto decoder = Decoder::Open(stream, /*threads=*/1);
    if (!decoder) {
      AbortWanting(/*video=*/true, decoder.error().Wrap(input_.name() + " cover art"));
      return;
    }
    auto sent = (*decoder)->Send(&stream.attached_pic);
    if (sent) sent = (*decoder)->Send(nullptr);
    while (sent && WantsVideo()) {
      auto got = (*decoder)->Receive(*frame_);
      if (!got) {
        AbortWanting(/*video=*/true, got.error().Wrap(input_.name() + " cover art"));
        return;
      }
      if (!*got) break;
      DeliverVideo(*frame_, 0, cover->rotation, /*from_cover=*/true);
    }
    if (!sent) AbortWanting(/*video=*/true, sent.error().Wrap(input_.name() + " cover art"));
    av_frame_unref(frame_.get());
  }

  // Lets the demuxer skip what nobody wants.
  void UpdateDiscard(bool video, bool audio, bool packets) {
    AVFormatContext& format = *input_.format();
    for (unsigned i = 0; i < format.nb_streams; ++i) {
      bool keep =
          packets ||
          (video && video_.stream != nullptr && static_cast<int>(i) == video_.stream->index) ||
          (audio && audio_.stream != nullptr && static_cast<int>(i) == audio_.stream->index);
      format.streams[i]->discard = keep ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    }
  }

  void Loop() {
    AVFormatContext& format = *input_.format();
    PacketPtr packet = NewPacket();
    bool last_video = false;
    bool last_audio = false;
    bool last_packets = false;
    bool first = true;
    while (true) {
      bool video = WantsVideo() && Ready(video_, /*video=*/true);
      bool audio = WantsAudio() && Ready(audio_, /*video=*/false);
      bool packets = WantsPackets();
      if (!video && !audio && !packets) return;
      if (first || video != last_video || audio != last_audio || packets != last_packets) {
        UpdateDiscard(video, audio, packets);
        first = false;
        last_video = video;
        last_audio = audio;
        last_packets = packets;
      }

      int rc = av_read_frame(&format, packet.get());
      // A demuxer may paper over a failed read; what it returns after one is not the file.
      if (input_.io_error()) {
        AbortAll(input_.io_error()->Wrap("cannot read " + input_.name()));
        return;
      }
      if (rc < 0) {
        if (!IsEof(rc)) {
          report_.demux_error =
              AvError(rc, ErrorCode::kUnsupportedMedia, "cannot demux " + input_.name());
        }
        report_.stats.input_ended = true;
        Drain();
        return;
      }
      ++report_.stats.packets_read;
      const int index = packet->stream_index;
      double position =
          TimestampSeconds(packet->pts, format.streams[index]->time_base, start_seconds_) -
          start_seconds_;
      if (packets) DeliverPacket(*packet);
      if (video && index == video_.stream->index) Decode(video_, true, packet.get());
      if (audio && index == audio_.stream->index) Decode(audio_, false, packet.get());
      av_packet_unref(packet.get());

      if (options_.on_progress) {
        PassProgress progress{report_.stats, position, info_.duration_seconds};
        auto go_on = options_.on_progress(progress);
        if (!go_on) {
          AbortAll(go_on.error());
          return;
        }
      }
    }
  }

  void DeliverPacket(const AVPacket& packet) {
    const AVStream& stream = *input_.format()->streams[packet.stream_index];
    PacketView view{
        .packet = &packet,
        .stream_index = packet.stream_index,
        .parameters = stream.codecpar,
        .time_base = stream.time_base,
        .start_offset = av_rescale_q(start_time_, AVRational{1, AV_TIME_BASE}, stream.time_base),
        .main_video = video_.stream != nullptr && packet.stream_index == video_.stream->index,
        .main_audio = audio_.stream != nullptr && packet.stream_index == audio_.stream->index};
    for (size_t i = 0; i < subscriptions_.size(); ++i) {
      if (active_[i] && wants_packets_[i]) {
        Answer(i, subscriptions_[i].consumer->OnPacket(view), wants_packets_);
      }
    }
  }

  // End of input: what the decoders and resamplers still hold.
  void Drain() {
    if (WantsVideo() && video_.decoder) Decode(video_, true, nullptr);
    if (WantsAudio() && audio_.decoder) {
      Decode(audio_, false, nullptr);
      if (WantsAudio()) DeliverAudio(nullptr, 0);
    }
  }

  Input& input_;
  const MediaInfo& info_;
  std::span<const Subscription> subscriptions_;
  const PassOptions& options_;
  PassReport report_;
  std::vector<bool> active_;  // still being fed
  // What each subscription still wants (its request, less what it answered
  // kDoneWithThis to).
  std::vector<bool> wants_video_;
  std::vector<bool> wants_audio_;
  std::vector<bool> wants_packets_;
  std::vector<std::unique_ptr<VideoTarget>> video_targets_;
  std::vector<std::unique_ptr<AudioTarget>> audio_targets_;
  Source video_;
  Source audio_;
  FramePtr frame_ = NewFrame();
  double start_seconds_ = 0;
  int64_t start_time_ = 0;  // start_seconds_ in AV_TIME_BASE units
};

// Keeps a reference to the first frame it is given.
class FirstFrame final : public FrameConsumer {
 public:
  Feed OnVideoFrame(const VideoFrame& frame) override {
    frame_ = CloneFrame(*frame.frame);
    return Feed::kDone;
  }
  FramePtr Take() { return std::move(frame_); }

 private:
  FramePtr frame_;
};

}  // namespace

PassReport RunDecodePass(Input& input, const MediaInfo& info,
                         std::span<const Subscription> subscriptions, const PassOptions& options) {
  return DecodePass(input, info, subscriptions, options).Run();
}

Result<FramePtr> DecodeFirstVideoFrame(ByteReader& reader, const VideoRequest& request) {
  auto input = Input::Open(reader);
  if (!input) return Fail(input.error());
  MediaInfo info = Probe(**input);
  FirstFrame first;
  Subscription subscription{&first, request, std::nullopt, false};
  PassReport report = RunDecodePass(**input, info, std::span(&subscription, 1));
  if (report.results[0].error) return Fail(*report.results[0].error);
  FramePtr frame = first.Take();
  if (!frame) {
    return Fail(ErrorCode::kUnsupportedMedia, "no decodable video frame in " + reader.Name());
  }
  return frame;
}

}  // namespace reprise::media
