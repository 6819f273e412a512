#include "media/audio_encoder.h"

#include <algorithm>
#include <string>
#include <utility>

extern "C" {
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
}

namespace reprise::media {
namespace {

Result<const AVCodec*> FindAudioEncoder(std::string_view name) {
  const AVCodec* codec = avcodec_find_encoder_by_name(std::string(name).c_str());
  if (codec == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "libavcodec has no encoder named \"" + std::string(name) + "\"");
  }
  if (codec->type != AVMEDIA_TYPE_AUDIO) {
    return Fail(ErrorCode::kInvalidArgument,
                "encoder \"" + std::string(name) + "\" is not an audio encoder");
  }
  return codec;
}

std::string SampleFormatName(int format) {
  const char* name = av_get_sample_fmt_name(static_cast<AVSampleFormat>(format));
  return name != nullptr ? name : "format " + std::to_string(format);
}

Result<AVSampleFormat> ChooseSampleFormat(const AVCodec& codec, int wanted) {
  if (codec.sample_fmts == nullptr) {
    if (wanted < 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string("encoder ") + codec.name + " lists no sample format: name one");
    }
    return static_cast<AVSampleFormat>(wanted);
  }
  if (wanted < 0) return codec.sample_fmts[0];
  std::string supported;
  for (const AVSampleFormat* format = codec.sample_fmts; *format != AV_SAMPLE_FMT_NONE; ++format) {
    if (*format == wanted) return *format;
    supported += (supported.empty() ? "" : ", ") + SampleFormatName(*format);
  }
  return Fail(ErrorCode::kInvalidArgument,
              std::string("encoder ") + codec.name + " does not take sample format " +
                  SampleFormatName(wanted) + " (it takes " + supported + ")");
}

Result<void> CheckLayout(const AVCodec& codec, const AVChannelLayout& layout) {
  if (codec.ch_layouts == nullptr) return {};
  for (const AVChannelLayout* known = codec.ch_layouts; known->nb_channels != 0; ++known) {
    if (av_channel_layout_compare(known, &layout) == 0) return {};
  }
  return Fail(ErrorCode::kInvalidArgument, std::string("encoder ") + codec.name +
                                               " does not take " +
                                               std::to_string(layout.nb_channels) + " channels");
}

Result<void> CheckSampleRate(const AVCodec& codec, int rate) {
  if (rate <= 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "sample rate must be positive, got " + std::to_string(rate));
  }
  if (codec.supported_samplerates == nullptr) return {};
  std::string supported;
  for (const int* known = codec.supported_samplerates; *known != 0; ++known) {
    if (*known == rate) return {};
    supported += (supported.empty() ? "" : ", ") + std::to_string(*known);
  }
  return Fail(ErrorCode::kInvalidArgument, std::string("encoder ") + codec.name +
                                               " does not take " + std::to_string(rate) +
                                               " Hz (it takes " + supported + ")");
}

}  // namespace

AudioEncoder::AudioEncoder(CodecPtr context, AudioFifoPtr fifo, PacketSink on_packet,
                           int64_t first_pts)
    : context_(std::move(context)),
      on_packet_(std::move(on_packet)),
      converter_(AudioRequest{.sample_rate = context_->sample_rate,
                              .channels = context_->ch_layout.nb_channels,
                              .sample_format = context_->sample_fmt}),
      fifo_(std::move(fifo)),
      packet_(NewPacket()),
      next_pts_(first_pts) {}

AudioEncoder::~AudioEncoder() = default;

Result<std::unique_ptr<AudioEncoder>> AudioEncoder::Open(const AudioEncoderConfig& config,
                                                         PacketSink on_packet) {
  auto codec = FindAudioEncoder(config.codec);
  if (!codec) return Fail(codec.error());
  REPRISE_TRY(CheckSampleRate(**codec, config.sample_rate));
  if (config.channels <= 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "channel count must be positive, got " + std::to_string(config.channels));
  }
  auto format = ChooseSampleFormat(**codec, config.sample_format);
  if (!format) return Fail(format.error());

  CodecPtr context(avcodec_alloc_context3(*codec));
  if (!context) return Fail(ErrorCode::kInternal, "out of memory allocating an audio encoder");
  av_channel_layout_default(&context->ch_layout, config.channels);
  REPRISE_TRY(CheckLayout(**codec, context->ch_layout));
  context->sample_rate = config.sample_rate;
  context->sample_fmt = *format;
  context->time_base = AVRational{1, config.sample_rate};
  context->bit_rate = config.bit_rate;
  if (config.global_header) context->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  for (const auto& [name, value] : config.options) {
    int rc = av_opt_set(context.get(), name.c_str(), value.c_str(), AV_OPT_SEARCH_CHILDREN);
    if (rc < 0) {
      return Fail(AvError(
          rc, ErrorCode::kInvalidArgument,
          std::string("encoder ") + (*codec)->name + " refuses option " + name + "=" + value));
    }
  }
  int rc = avcodec_open2(context.get(), *codec, nullptr);
  if (rc < 0) {
    return Fail(AvError(rc, ErrorCode::kInternal,
                        std::string("cannot open encoder ") + (*codec)->name + " at " +
                            std::to_string(config.sample_rate) + " Hz, " +
                            std::to_string(config.channels) + " channels"));
  }
  AudioFifoPtr fifo(av_audio_fifo_alloc(context->sample_fmt, context->ch_layout.nb_channels,
                                        std::max(context->frame_size, 1024)));
  if (!fifo) return Fail(ErrorCode::kInternal, "out of memory allocating an audio FIFO");

  return std::unique_ptr<AudioEncoder>(new AudioEncoder(std::move(context), std::move(fifo),
                                                        std::move(on_packet), config.first_pts));
}

Result<void> AudioEncoder::Encode(const AVFrame& frame) {
  if (flushed_) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string("encoder ") + context_->codec->name + " was already flushed");
  }
  if (frame.nb_samples <= 0) return {};
  auto converted = converter_.Convert(frame, 0);
  if (!converted) return Fail(converted.error());
  if (converted->frame) REPRISE_TRY(Queue(*converted->frame));
  return SendBlocks(/*final=*/false);
}

Result<void> AudioEncoder::Flush() {
  if (flushed_) return {};
  flushed_ = true;
  auto rest = converter_.Flush();
  if (!rest) return Fail(rest.error());
  if (rest->frame) REPRISE_TRY(Queue(*rest->frame));
  REPRISE_TRY(SendBlocks(/*final=*/true));
  return Send(nullptr);
}

Result<void> AudioEncoder::Queue(const AVFrame& frame) {
  if (frame.nb_samples <= 0) return {};
  // The fifo grows as needed; it holds at most one block plus one input frame.
  int rc = av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(frame.extended_data),
                               frame.nb_samples);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot queue audio for encoding"));
  return {};
}

// Full blocks of frame_size (everything queued when the encoder takes any size); with
// `final`, also the short last block.
Result<void> AudioEncoder::SendBlocks(bool final) {
  AVAudioFifo* fifo = fifo_.get();
  while (true) {
    int queued = av_audio_fifo_size(fifo);
    int block = context_->frame_size > 0 ? context_->frame_size : queued;
    if (queued == 0 || (queued < block && !final)) return {};
    FramePtr frame = NewFrame();
    frame->nb_samples = std::min(block, queued);
    frame->format = context_->sample_fmt;
    frame->sample_rate = context_->sample_rate;
    int rc = av_channel_layout_copy(&frame->ch_layout, &context_->ch_layout);
    if (rc >= 0) rc = av_frame_get_buffer(frame.get(), 0);
    if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot allocate audio to encode"));
    rc =
        av_audio_fifo_read(fifo, reinterpret_cast<void**>(frame->extended_data), frame->nb_samples);
    if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot read queued audio"));
    frame->pts = next_pts_;
    next_pts_ += frame->nb_samples;
    samples_sent_ += frame->nb_samples;
    REPRISE_TRY(Send(frame.get()));
  }
}

// Sends one frame (nullptr: end of stream) and passes on every packet the encoder has
// ready; every packet is taken out after each send, so the encoder never answers EAGAIN.
Result<void> AudioEncoder::Send(const AVFrame* frame) {
  int rc = avcodec_send_frame(context_.get(), frame);
  if (rc < 0) {
    return Fail(AvError(rc, ErrorCode::kInternal, std::string("encoder ") + context_->codec->name));
  }
  while (true) {
    rc = avcodec_receive_packet(context_.get(), packet_.get());
    if (IsAgain(rc) || IsEof(rc)) return {};
    if (rc < 0) {
      return Fail(
          AvError(rc, ErrorCode::kInternal, std::string("encoder ") + context_->codec->name));
    }
    bytes_out_ += packet_->size;
    auto taken = on_packet_(*packet_);
    av_packet_unref(packet_.get());
    if (!taken) return Fail(taken.error());
  }
}

Result<int> SupportedSampleRate(std::string_view codec_name, int wanted) {
  auto codec = FindAudioEncoder(codec_name);
  if (!codec) return Fail(codec.error());
  if (wanted <= 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "sample rate must be positive, got " + std::to_string(wanted));
  }
  const int* rates = (*codec)->supported_samplerates;
  if (rates == nullptr) return wanted;
  int below = 0;
  int lowest = 0;
  for (const int* rate = rates; *rate != 0; ++rate) {
    if (*rate == wanted) return wanted;
    if (*rate < wanted) below = std::max(below, *rate);
    lowest = lowest == 0 ? *rate : std::min(lowest, *rate);
  }
  return below > 0 ? below : lowest;
}

}  // namespace reprise::media
