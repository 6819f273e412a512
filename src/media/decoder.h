// A decoder for one stream of an opened input (libavcodec's send/receive API).
//
// Send() a packet, then Receive() until it answers false (decoder needs more input or
// is drained); Send(nullptr) starts draining at end of stream. A packet the decoder
// rejects as corrupt is reported as kUnsupportedMedia so the caller can count it and go
// on, as players do. Not thread-safe; libavcodec may use its own threads inside.
#pragma once

#include <memory>

#include "core/error.h"
#include "media/ffmpeg.h"

namespace reprise::media {

class Decoder {
 public:
  // `threads`: 0 lets libavcodec pick from the CPU count; 1 decodes on the caller's
  // thread only (least latency before the first frame).
  [[nodiscard]] static Result<std::unique_ptr<Decoder>> Open(const AVStream& stream, int threads);

  // nullptr flushes (end of stream).
  [[nodiscard]] Result<void> Send(const AVPacket* packet);
  // Fills `frame` (unreferenced first) and returns true, or returns false when the
  // decoder needs more input or has been drained.
  [[nodiscard]] Result<bool> Receive(AVFrame& frame);

  [[nodiscard]] const AVCodecContext& context() const { return *context_; }
  [[nodiscard]] AVRational time_base() const { return time_base_; }

 private:
  Decoder(CodecPtr context, AVRational time_base)
      : context_(std::move(context)), time_base_(time_base) {}

  CodecPtr context_;
  AVRational time_base_;  // the stream's, in which frame timestamps are expressed
  bool drained_ = false;
};

}  // namespace reprise::media
