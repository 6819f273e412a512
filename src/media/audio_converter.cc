#include "media/audio_converter.h"

#include <string>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

namespace reprise::media {
namespace {

// A layout that owns no memory (native order), so it can be copied by value: custom
// channel maps are treated as the default layout of their channel count.
AVChannelLayout PlainLayout(const AVChannelLayout& layout) {
  if (layout.order == AV_CHANNEL_ORDER_NATIVE) return layout;
  AVChannelLayout plain{};
  av_channel_layout_default(&plain, layout.nb_channels);
  return plain;
}

}  // namespace

Result<void> AudioConverter::Configure(const AVFrame& frame) {
  if (resampler_ && frame.sample_rate == in_rate_ && frame.format == in_format_ &&
      frame.ch_layout.nb_channels == in_channels_) {
    return {};
  }
  in_rate_ = frame.sample_rate;
  in_format_ = frame.format;
  in_channels_ = frame.ch_layout.nb_channels;

  AVChannelLayout in_layout = PlainLayout(frame.ch_layout);
  if (request_.channels > 0 && request_.channels != in_channels_) {
    av_channel_layout_default(&out_layout_, request_.channels);
  } else {
    out_layout_ = in_layout;
  }
  out_rate_ = request_.sample_rate > 0 ? request_.sample_rate : in_rate_;
  out_format_ = request_.sample_format >= 0 ? request_.sample_format : in_format_;
  passthrough_ =
      out_rate_ == in_rate_ && out_format_ == in_format_ && out_layout_.nb_channels == in_channels_;

  SwrContext* context = nullptr;
  int rc = swr_alloc_set_opts2(&context, &out_layout_, static_cast<AVSampleFormat>(out_format_),
                               out_rate_, &in_layout, static_cast<AVSampleFormat>(in_format_),
                               in_rate_, 0, nullptr);
  resampler_.reset(context);
  if (rc >= 0) rc = swr_init(context);
  if (rc < 0) {
    resampler_.reset();
    return Fail(AvError(rc, ErrorCode::kInvalidArgument, "cannot set up audio conversion"));
  }
  return {};
}

Result<ConvertedAudio> AudioConverter::Drain(const AVFrame* frame) {
  int in_samples = frame != nullptr ? frame->nb_samples : 0;
  int capacity = swr_get_out_samples(resampler_.get(), in_samples);
  if (capacity < 0) {
    return Fail(AvError(capacity, ErrorCode::kInternal, "cannot size converted audio"));
  }
  ConvertedAudio result;
  result.pts_seconds = start_seconds_ + static_cast<double>(samples_out_) / out_rate_;
  if (capacity == 0 && frame == nullptr) return result;
  FramePtr out = NewFrame();
  out->format = out_format_;
  out->sample_rate = out_rate_;
  out->nb_samples = capacity > 0 ? capacity : 1;
  out->ch_layout = out_layout_;
  int rc = av_frame_get_buffer(out.get(), 0);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot allocate audio"));
  const uint8_t** in =
      frame != nullptr ? const_cast<const uint8_t**>(frame->extended_data) : nullptr;
  int made = swr_convert(resampler_.get(), out->extended_data, out->nb_samples, in, in_samples);
  if (made < 0) return Fail(AvError(made, ErrorCode::kInternal, "cannot convert audio"));
  out->nb_samples = made;
  samples_out_ += made;
  if (made == 0 && frame == nullptr) return result;
  result.frame = std::move(out);
  return result;
}

Result<ConvertedAudio> AudioConverter::Convert(const AVFrame& frame, double pts_seconds) {
  REPRISE_TRY(Configure(frame));
  if (!started_) {
    started_ = true;
    start_seconds_ = pts_seconds;
  }
  if (passthrough_) {
    samples_out_ += frame.nb_samples;
    return ConvertedAudio{CloneFrame(frame), pts_seconds};
  }
  return Drain(&frame);
}

Result<ConvertedAudio> AudioConverter::Flush() {
  if (!resampler_ || passthrough_) return ConvertedAudio{};
  return Drain(nullptr);
}

}  // namespace reprise::media
