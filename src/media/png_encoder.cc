#include "media/png_encoder.h"

#include "media/video_converter.h"

namespace reprise::media {
namespace {

bool PngTakesAsIs(AVPixelFormat format) {
  return format == AV_PIX_FMT_RGBA || format == AV_PIX_FMT_RGB24 || format == AV_PIX_FMT_GRAY8;
}

// Drains every packet the encoder has into `bytes`; EAGAIN and EOF end the drain.
Result<void> DrainPackets(AVCodecContext& encoder, std::string& bytes) {
  PacketPtr packet = NewPacket();
  for (int rc = avcodec_receive_packet(&encoder, packet.get()); !IsAgain(rc) && !IsEof(rc);
       rc = avcodec_receive_packet(&encoder, packet.get())) {
    if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot encode PNG"));
    bytes.append(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size));
    av_packet_unref(packet.get());
  }
  return {};
}

}  // namespace

Result<std::string> EncodePng(const AVFrame& picture) {
  auto format = static_cast<AVPixelFormat>(picture.format);
  FramePtr input;
  if (PngTakesAsIs(format)) {
    input = CloneFrame(picture);
  } else {
    VideoConverter converter(VideoRequest{.width = picture.width,
                                          .even_height = false,
                                          .apply_rotation = false,
                                          .pixel_format = AV_PIX_FMT_RGBA});
    auto converted = converter.Convert(picture, 0);
    if (!converted) return Fail(converted.error());
    input = std::move(*converted);
    format = AV_PIX_FMT_RGBA;
  }

  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
  if (codec == nullptr) return Fail(ErrorCode::kInternal, "libavcodec has no png encoder");
  CodecPtr encoder(avcodec_alloc_context3(codec));
  if (!encoder) return Fail(ErrorCode::kInternal, "out of memory allocating the png encoder");
  encoder->width = input->width;
  encoder->height = input->height;
  encoder->pix_fmt = format;
  encoder->time_base = AVRational{1, 1};
  input->pts = 0;
  int rc = avcodec_open2(encoder.get(), codec, nullptr);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot open the png encoder"));

  std::string bytes;
  rc = avcodec_send_frame(encoder.get(), input.get());
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot encode PNG"));
  REPRISE_TRY(DrainPackets(*encoder, bytes));
  rc = avcodec_send_frame(encoder.get(), nullptr);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot finish PNG"));
  REPRISE_TRY(DrainPackets(*encoder, bytes));
  if (bytes.empty()) return Fail(ErrorCode::kInternal, "the png encoder produced nothing");
  return bytes;
}

}  // namespace reprise::media
