// The one place that owns FFmpeg handles. Every libav* object reprise creates lives in
// one of the unique_ptr aliases below, whose deleters are the only callers of FFmpeg's
// free/close functions; code elsewhere never frees a handle by hand.
//
// Errors from libav* calls become an Error through AvError(): the message names what was
// being done plus av_strerror's text, the origin is "averror:N". AVERROR(EAGAIN) and
// AVERROR_EOF are flow control (decoder wants input, stream ended), tested with IsAgain()
// and IsEof(), never reported as errors.
//
// InitFfmpeg() must be called once at start-up (app/, tests) before any other media
// call; it routes libav's log through libav_log.h (nothing reaches stderr directly). It
// is idempotent and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include "core/error.h"

namespace reprise::media {

// libav's lines go to the logger named by RouteLibavLog() (libav_log.h), never straight
// to stderr; quiet also unroutes them. Either way they are counted in LibavLogScopes.
void InitFfmpeg(bool quiet = false);

struct InputFormatDeleter {
  void operator()(AVFormatContext* context) const;  // avformat_close_input
};
// An output context never owns its AVIOContext here: custom I/O is held by an IoPtr
// that must outlive it.
struct OutputFormatDeleter {
  void operator()(AVFormatContext* context) const;  // avformat_free_context
};
struct IoDeleter {
  void operator()(AVIOContext* context) const;  // frees its buffer, then avio_context_free
};
struct CodecDeleter {
  void operator()(AVCodecContext* context) const;
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const;
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const;
};
struct SwsDeleter {
  void operator()(SwsContext* context) const;
};
struct SwrDeleter {
  void operator()(SwrContext* context) const;
};
struct AudioFifoDeleter {
  void operator()(AVAudioFifo* fifo) const;  // av_audio_fifo_free
};

using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;
using IoPtr = std::unique_ptr<AVIOContext, IoDeleter>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;
using SwrPtr = std::unique_ptr<SwrContext, SwrDeleter>;
using AudioFifoPtr = std::unique_ptr<AVAudioFifo, AudioFifoDeleter>;

// Allocation helpers; they abort on out-of-memory like operator new (libav returns
// nullptr, which no caller could handle better).
FramePtr NewFrame();
PacketPtr NewPacket();
// A new reference to `frame`'s buffers (av_frame_clone).
FramePtr CloneFrame(const AVFrame& frame);

// Custom I/O: an AVIOContext with its own buffer of `buffer_size` bytes calling back into
// `opaque` (which must outlive it). Unused callbacks may be nullptr.
using IoReadFn = int (*)(void* opaque, uint8_t* buffer, int size);
using IoWriteFn = int (*)(void* opaque, uint8_t* buffer, int size);
using IoSeekFn = int64_t (*)(void* opaque, int64_t offset, int whence);
IoPtr NewIo(int buffer_size, bool writable, void* opaque, IoReadFn read, IoWriteFn write,
            IoSeekFn seek);

// "what: <av_strerror text>" with origin "averror:N".
Error AvError(int averror, ErrorCode code, std::string_view what);
// The code of a libav failure on data that came from the input (a copied packet being
// muxed, say): AVERROR_INVALIDDATA blames the input, kUnsupportedMedia (permanent, never
// retried), whichever step noticed it; anything else is `otherwise`.
ErrorCode InputDataCode(int averror, ErrorCode otherwise = ErrorCode::kInternal);

bool IsAgain(int averror);
bool IsEof(int averror);

// Seconds for a timestamp in `time_base`, or `fallback` when it is AV_NOPTS_VALUE.
double TimestampSeconds(int64_t timestamp, AVRational time_base, double fallback = 0);
bool HasTimestamp(int64_t timestamp);

}  // namespace reprise::media
