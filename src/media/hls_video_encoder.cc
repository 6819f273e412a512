#include "media/hls_video_encoder.h"

#include <cmath>
#include <string>

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixfmt.h>
}

namespace reprise::media {
namespace {

// Frames this close before a boundary count as on it (timestamps are rounded).
constexpr double kBoundaryTolerance = 1e-3;

}  // namespace

Result<std::unique_ptr<HlsVideoEncoder>> HlsVideoEncoder::Open(const HlsVideoEncoderConfig& config,
                                                               PacketFn on_packet) {
  if (config.width <= 0 || config.height <= 0 || config.width % 2 != 0 || config.height % 2 != 0 ||
      !(config.frame_rate > 0) || !(config.segment_seconds > 0)) {
    return Fail(ErrorCode::kInvalidArgument,
                "H.264 for HLS needs an even size, a frame rate and a segment length");
  }
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) return Fail(ErrorCode::kInvalidArgument, "libavcodec has no libx264");
  CodecPtr context(avcodec_alloc_context3(codec));
  if (!context) return Fail(ErrorCode::kInternal, "cannot allocate a video encoder");
  context->width = config.width;
  context->height = config.height;
  context->pix_fmt = AV_PIX_FMT_YUV420P;
  context->time_base = time_base();
  context->framerate = av_d2q(config.frame_rate, 100000);
  context->sample_aspect_ratio = AVRational{1, 1};
  context->thread_count = config.threads;
  // Keyframes come from Encode() at segment boundaries; x264's own would only add
  // keyframes inside segments.
  context->gop_size = static_cast<int>(std::ceil(2 * config.segment_seconds * config.frame_rate));
  context->keyint_min = context->gop_size;
  if (config.max_bit_rate > 0) {
    context->rc_max_rate = int64_t{config.max_bit_rate} * 1000;
    context->rc_buffer_size = 2 * config.max_bit_rate * 1000;
  }
  AVDictionary* options = nullptr;
  av_dict_set(&options, "preset", config.preset.c_str(), 0);
  av_dict_set(&options, "crf", std::to_string(config.crf).c_str(), 0);
  av_dict_set(&options, "forced-idr", "1", 0);
  av_dict_set(&options, "x264-params", "scenecut=0:open-gop=0", 0);
  int rc = avcodec_open2(context.get(), codec, &options);
  av_dict_free(&options);
  if (rc < 0) {
    return Fail(AvError(rc, ErrorCode::kInvalidArgument,
                        "cannot open libx264 at " + std::to_string(config.width) + "x" +
                            std::to_string(config.height) + " preset " + config.preset));
  }
  return std::unique_ptr<HlsVideoEncoder>(
      new HlsVideoEncoder(std::move(context), std::move(on_packet), config.segment_seconds));
}

Result<void> HlsVideoEncoder::Encode(const AVFrame& frame, double pts_seconds) {
  if (frame.width != context_->width || frame.height != context_->height ||
      frame.format != AV_PIX_FMT_YUV420P) {
    return Fail(ErrorCode::kInvalidArgument, "frame does not match the H.264 encoder's size");
  }
  int64_t pts = std::llround(pts_seconds * time_base().den);
  // A repeated or backward timestamp (rare in broken inputs) would make x264 fail.
  if (HasTimestamp(last_pts_) && pts <= last_pts_) pts = last_pts_ + 1;
  last_pts_ = pts;
  int rc = av_frame_ref(frame_.get(), &frame);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot reference a video frame"));
  frame_->pts = pts;
  frame_->pict_type = AV_PICTURE_TYPE_NONE;
  if (pts_seconds >= next_keyframe_ - kBoundaryTolerance) {
    frame_->pict_type = AV_PICTURE_TYPE_I;
    next_keyframe_ =
        (std::floor((pts_seconds + kBoundaryTolerance) / segment_seconds_) + 1) * segment_seconds_;
  }
  ++frames_;
  auto sent = Send(frame_.get());
  av_frame_unref(frame_.get());
  return sent;
}

Result<void> HlsVideoEncoder::Flush() { return Send(nullptr); }

Result<void> HlsVideoEncoder::Send(const AVFrame* frame) {
  int rc = avcodec_send_frame(context_.get(), frame);
  if (rc < 0 && !IsEof(rc)) {
    return Fail(AvError(rc, ErrorCode::kInternal, "libx264 refused a frame"));
  }
  while (true) {
    rc = avcodec_receive_packet(context_.get(), packet_.get());
    if (IsAgain(rc) || IsEof(rc)) return {};
    if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "libx264 failed"));
    auto delivered = on_packet_(*packet_);
    av_packet_unref(packet_.get());
    if (!delivered) return delivered;
  }
}

Result<void> HlsVideoEncoder::FillParameters(AVCodecParameters& parameters) const {
  int rc = avcodec_parameters_from_context(&parameters, context_.get());
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot describe the video stream"));
  return {};
}

}  // namespace reprise::media
