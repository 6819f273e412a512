// Converts decoded audio to what one AudioRequest asks for (sample rate, channel count,
// sample format) with libswresample. Resampling buffers a few samples between calls, so
// Flush() at end of stream returns the rest. Timestamps of converted audio count the
// samples produced from the first input timestamp, so they do not drift.
//
// Every frame returned is newly referenced (a consumer may keep it); when the request
// matches the input it is a new reference to the input's buffers. A returned frame may
// hold zero samples while the resampler fills up. Errors: kInvalidArgument for a layout
// or format libswresample refuses, kInternal when libav cannot allocate.
// One converter per thread.
#pragma once

#include "core/error.h"
#include "media/ffmpeg.h"
#include "media/media_info.h"

namespace reprise::media {

struct ConvertedAudio {
  FramePtr frame;  // nullptr from Flush() when nothing was buffered
  double pts_seconds = 0;
};

class AudioConverter {
 public:
  explicit AudioConverter(AudioRequest request) : request_(request) {}

  [[nodiscard]] Result<ConvertedAudio> Convert(const AVFrame& frame, double pts_seconds);
  [[nodiscard]] Result<ConvertedAudio> Flush();

  [[nodiscard]] const AudioRequest& request() const { return request_; }

 private:
  [[nodiscard]] Result<void> Configure(const AVFrame& frame);
  [[nodiscard]] Result<ConvertedAudio> Drain(const AVFrame* frame);

  AudioRequest request_;
  SwrPtr resampler_;
  // What the resampler was set up for, to notice a mid-stream format change.
  int in_rate_ = 0;
  int in_format_ = -1;
  int in_channels_ = 0;
  int out_rate_ = 0;
  int out_format_ = -1;
  AVChannelLayout out_layout_{};
  bool passthrough_ = false;
  bool started_ = false;
  double start_seconds_ = 0;
  int64_t samples_out_ = 0;
};

}  // namespace reprise::media
