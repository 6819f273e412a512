#include "media/jpeg_encoder.h"

#include "media/video_converter.h"

namespace reprise::media {

Result<std::string> EncodeJpeg(const AVFrame& picture, int quality) {
  if (quality < 1 || quality > 31) {
    return Fail(ErrorCode::kInvalidArgument,
                "JPEG quality must be 1..31, got " + std::to_string(quality));
  }
  auto format = static_cast<AVPixelFormat>(picture.format);
  FramePtr input;
  if (format == AV_PIX_FMT_YUVJ420P || format == AV_PIX_FMT_YUVJ422P ||
      format == AV_PIX_FMT_YUVJ444P) {
    input = CloneFrame(picture);
  } else {
    VideoConverter converter(VideoRequest{.width = picture.width,
                                          .even_height = false,
                                          .apply_rotation = false,
                                          .pixel_format = AV_PIX_FMT_YUVJ420P});
    auto converted = converter.Convert(picture, 0);
    if (!converted) return Fail(converted.error());
    input = std::move(*converted);
    format = AV_PIX_FMT_YUVJ420P;
  }

  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (codec == nullptr) return Fail(ErrorCode::kInternal, "libavcodec has no mjpeg encoder");
  CodecPtr encoder(avcodec_alloc_context3(codec));
  if (!encoder) return Fail(ErrorCode::kInternal, "out of memory allocating the mjpeg encoder");
  encoder->width = input->width;
  encoder->height = input->height;
  encoder->pix_fmt = format;
  encoder->time_base = AVRational{1, 25};
  encoder->color_range = AVCOL_RANGE_JPEG;
  // A fixed quantiser, as `ffmpeg -q:v`: the encoder reads it from the frame.
  encoder->flags |= AV_CODEC_FLAG_QSCALE;
  encoder->global_quality = FF_QP2LAMBDA * quality;
  input->quality = encoder->global_quality;
  input->pict_type = AV_PICTURE_TYPE_NONE;
  input->pts = 0;
  int rc = avcodec_open2(encoder.get(), codec, nullptr);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot open the mjpeg encoder"));

  rc = avcodec_send_frame(encoder.get(), input.get());
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot encode JPEG"));
  rc = avcodec_send_frame(encoder.get(), nullptr);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot finish JPEG"));
  std::string bytes;
  PacketPtr packet = NewPacket();
  while (true) {
    rc = avcodec_receive_packet(encoder.get(), packet.get());
    if (IsAgain(rc) || IsEof(rc)) break;
    if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot encode JPEG"));
    bytes.append(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size));
    av_packet_unref(packet.get());
  }
  if (bytes.empty()) return Fail(ErrorCode::kInternal, "the mjpeg encoder produced nothing");
  return bytes;
}

}  // namespace reprise::media
