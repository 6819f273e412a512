#include "media/ffmpeg.h"

#include <cstdlib>
#include <string>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
}

#include "media/libav_log.h"

namespace reprise::media {
namespace {

template <class T>
T* OrAbort(T* allocated) {
  if (allocated == nullptr) std::abort();
  return allocated;
}

}  // namespace

void InitFfmpeg(bool quiet) {
  // Warnings reach the callback, which counts them in a LibavLogScope and writes them
  // to the routed logger, if any; libav itself prints nothing.
  av_log_set_level(AV_LOG_WARNING);
  InstallLibavLogCallback();
  if (quiet) RouteLibavLog(nullptr);
}

void InputFormatDeleter::operator()(AVFormatContext* context) const {
  avformat_close_input(&context);
}

void OutputFormatDeleter::operator()(AVFormatContext* context) const {
  avformat_free_context(context);
}

void IoDeleter::operator()(AVIOContext* context) const {
  if (context == nullptr) return;
  // libav may have replaced the buffer we gave it, so free the one it holds now.
  av_freep(&context->buffer);
  avio_context_free(&context);
}

void CodecDeleter::operator()(AVCodecContext* context) const { avcodec_free_context(&context); }

void FrameDeleter::operator()(AVFrame* frame) const { av_frame_free(&frame); }

void PacketDeleter::operator()(AVPacket* packet) const { av_packet_free(&packet); }

void SwsDeleter::operator()(SwsContext* context) const { sws_freeContext(context); }

void SwrDeleter::operator()(SwrContext* context) const { swr_free(&context); }
void AudioFifoDeleter::operator()(AVAudioFifo* fifo) const { av_audio_fifo_free(fifo); }

FramePtr NewFrame() { return FramePtr(OrAbort(av_frame_alloc())); }

PacketPtr NewPacket() { return PacketPtr(OrAbort(av_packet_alloc())); }

FramePtr CloneFrame(const AVFrame& frame) { return FramePtr(OrAbort(av_frame_clone(&frame))); }

IoPtr NewIo(int buffer_size, bool writable, void* opaque, IoReadFn read, IoWriteFn write,
            IoSeekFn seek) {
  auto* buffer = static_cast<unsigned char*>(OrAbort(av_malloc(static_cast<size_t>(buffer_size))));
  AVIOContext* io =
      avio_alloc_context(buffer, buffer_size, writable ? 1 : 0, opaque, read, write, seek);
  if (io == nullptr) {
    av_free(buffer);
    std::abort();
  }
  return IoPtr(io);
}

Error AvError(int averror, ErrorCode code, std::string_view what) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(averror, text, sizeof text);
  return Error{code, std::string(what) + ": " + text, "averror:" + std::to_string(averror)};
}

ErrorCode InputDataCode(int averror, ErrorCode otherwise) {
  return averror == AVERROR_INVALIDDATA ? ErrorCode::kUnsupportedMedia : otherwise;
}

bool IsAgain(int averror) { return averror == AVERROR(EAGAIN); }

bool IsEof(int averror) { return averror == AVERROR_EOF; }

bool HasTimestamp(int64_t timestamp) { return timestamp != AV_NOPTS_VALUE; }

double TimestampSeconds(int64_t timestamp, AVRational time_base, double fallback) {
  if (!HasTimestamp(timestamp) || time_base.den == 0) return fallback;
  return static_cast<double>(timestamp) * av_q2d(time_base);
}

}  // namespace reprise::media
