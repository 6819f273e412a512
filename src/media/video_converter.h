// Converts decoded video frames to what one VideoRequest asks for: display orientation
// (the stream's clockwise rotation applied), a target width with the display aspect
// kept (sample aspect ratio and rotation included), an even height when asked, and a
// pixel format. Scaling is libswscale; rotation by quarter turns is a plane copy done
// here, so no filter graph is needed.
//
// Every Convert() returns a new, independently referenced frame (a consumer may keep
// it); when nothing needs changing it is a new reference to the input's buffers.
// Errors: kInvalidArgument for a pixel format libswscale cannot produce, kInternal when
// libav cannot allocate. One converter per thread; it caches its scaler between frames.
#pragma once

#include "core/error.h"
#include "media/ffmpeg.h"
#include "media/media_info.h"

namespace reprise::media {

struct FrameSize {
  int width = 0;
  int height = 0;
  bool operator==(const FrameSize&) const = default;
};

class VideoConverter {
 public:
  explicit VideoConverter(VideoRequest request) : request_(request) {}

  // `rotation`: the stream's display rotation in degrees clockwise (0, 90, 180, 270).
  [[nodiscard]] Result<FramePtr> Convert(const AVFrame& frame, int rotation);

  // The size Convert() produces for a coded `width` x `height` picture with the given
  // sample aspect ratio and rotation.
  [[nodiscard]] static FrameSize OutputSize(const VideoRequest& request, int width, int height,
                                            AVRational sample_aspect, int rotation);

  [[nodiscard]] const VideoRequest& request() const { return request_; }

 private:
  // Scales `source` into a new frame of `size` and `format`; `scaler` is the cached
  // context for this step.
  [[nodiscard]] Result<FramePtr> Scale(SwsPtr& scaler, const AVFrame& source, FrameSize size,
                                       AVPixelFormat format);

  VideoRequest request_;
  SwsPtr scaler_;      // decoded frame -> requested (or rotatable) format and size
  SwsPtr after_turn_;  // rotated frame -> requested format, when rotation needed a detour
};

}  // namespace reprise::media
