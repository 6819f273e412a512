// HlsVideoEncoder: H.264 (libx264) for one HLS rendition, with a keyframe (IDR) forced
// on the first frame at or after every multiple of segment_seconds and none elsewhere
// (no scene-cut keyframes, a keyframe interval longer than a segment), so that every
// segment HlsWriter cuts starts on a keyframe and lasts segment_seconds.
//
// Frames must be planar YUV 4:2:0 at the configured size, in presentation order; their
// timestamps (seconds, 0 = presentation start) are kept at 1/90000 s, the MPEG-TS clock.
// Packets reach `on_packet` with pts/dts in time_base(), in decode order, during Encode()
// and Flush(). The encoder writes SPS/PPS in-band before every keyframe (no global
// header), as MPEG-TS wants.
//
// Errors: kInvalidArgument when libx264 is missing or refuses the settings; the
// encoder's own errors as kInternal; on_packet's errors unchanged. Not thread-safe
// (libx264 runs its own threads inside).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "media/ffmpeg.h"

namespace reprise::media {

struct HlsVideoEncoderConfig {
  int width = 0;
  int height = 0;
  double frame_rate = 25;  // nominal; used for rate control and the keyframe interval
  double segment_seconds = 2;
  std::string preset = "veryfast";
  int crf = 23;
  int max_bit_rate = 0;  // kb/s cap (VBV); 0 leaves the rate to crf
  int threads = 0;       // libx264 threads; 0 picks from the CPU count
};

class HlsVideoEncoder {
 public:
  using PacketFn = std::function<Result<void>(AVPacket& packet)>;

  [[nodiscard]] static Result<std::unique_ptr<HlsVideoEncoder>> Open(
      const HlsVideoEncoderConfig& config, PacketFn on_packet);

  [[nodiscard]] Result<void> Encode(const AVFrame& frame, double pts_seconds);
  [[nodiscard]] Result<void> Flush();

  [[nodiscard]] Result<void> FillParameters(AVCodecParameters& parameters) const;
  [[nodiscard]] static AVRational time_base() { return AVRational{1, 90000}; }
  [[nodiscard]] int64_t frames() const { return frames_; }

 private:
  HlsVideoEncoder(CodecPtr context, PacketFn on_packet, double segment_seconds)
      : context_(std::move(context)),
        on_packet_(std::move(on_packet)),
        segment_seconds_(segment_seconds) {}

  [[nodiscard]] Result<void> Send(const AVFrame* frame);

  CodecPtr context_;
  PacketFn on_packet_;
  double segment_seconds_;
  double next_keyframe_ = 0;
  int64_t last_pts_ = AV_NOPTS_VALUE;
  int64_t frames_ = 0;
  FramePtr frame_ = NewFrame();
  PacketPtr packet_ = NewPacket();
};

}  // namespace reprise::media
