#include "media/decoder.h"

#include <string>

#include "media/libav_log.h"

namespace reprise::media {

Result<std::unique_ptr<Decoder>> Decoder::Open(const AVStream& stream, int threads) {
  const AVCodecParameters& par = *stream.codecpar;
  std::string what = std::string(avcodec_get_name(par.codec_id)) + " decoder for stream " +
                     std::to_string(stream.index);
  const AVCodec* codec = avcodec_find_decoder(par.codec_id);
  if (codec == nullptr) return Fail(ErrorCode::kUnsupportedMedia, "no " + what);
  CodecPtr context(avcodec_alloc_context3(codec));
  if (!context) return Fail(ErrorCode::kInternal, "out of memory allocating the " + what);
  int rc = avcodec_parameters_to_context(context.get(), &par);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kUnsupportedMedia, "cannot set up the " + what));
  context->pkt_timebase = stream.time_base;
  context->thread_count = threads;
  AttachLibavLogScope(*context);  // before open: frame threads copy the context
  rc = avcodec_open2(context.get(), codec, nullptr);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kUnsupportedMedia, "cannot open the " + what));
  return std::unique_ptr<Decoder>(new Decoder(std::move(context), stream.time_base));
}

Result<void> Decoder::Send(const AVPacket* packet) {
  if (drained_) return {};
  if (packet == nullptr) drained_ = true;
  int rc = avcodec_send_packet(context_.get(), packet);
  // EAGAIN cannot happen when every Send is followed by Receive until false; EOF means
  // the decoder was already flushed.
  if (rc < 0 && !IsAgain(rc) && !IsEof(rc)) {
    return Fail(AvError(rc, ErrorCode::kUnsupportedMedia, "cannot decode a packet"));
  }
  return {};
}

Result<bool> Decoder::Receive(AVFrame& frame) {
  av_frame_unref(&frame);
  int rc = avcodec_receive_frame(context_.get(), &frame);
  if (rc >= 0) return true;
  if (IsAgain(rc) || IsEof(rc)) return false;
  return Fail(AvError(rc, ErrorCode::kUnsupportedMedia, "cannot decode a frame"));
}

}  // namespace reprise::media
