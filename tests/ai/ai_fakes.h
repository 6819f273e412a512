// What the tests of src/ai share: limits in one call, a Sleeper that advances a FakeClock
// instead of waiting (and records each wait), and real media for requests: a JPEG encoded by
// libavcodec and a PCM WAV of a tone. Header-only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "ai/limiter.h"
#include "ai/sleeper.h"
#include "core/clock.h"
#include "media/ffmpeg.h"
#include "media/jpeg_encoder.h"

namespace reprise::ai {

inline RequestLimits Limits(int max_concurrent, int requests_per_minute = 0) {
  RequestLimits limits;
  limits.max_concurrent = max_concurrent;
  limits.requests_per_minute = requests_per_minute;
  return limits;
}

class FakeSleeper final : public Sleeper {
 public:
  explicit FakeSleeper(FakeClock& clock) : clock_(clock) {}
  void Sleep(std::chrono::microseconds duration) override {
    std::lock_guard lock(mutex_);
    waits_.push_back(duration);
    clock_.Advance(duration.count());
  }
  std::vector<std::chrono::microseconds> waits() const {
    std::lock_guard lock(mutex_);
    return waits_;
  }

 private:
  FakeClock& clock_;
  mutable std::mutex mutex_;
  std::vector<std::chrono::microseconds> waits_;
};

// A width x height JPEG of a gradient, as the stages will send keyframes.
inline std::string MakeJpeg(int width, int height) {
  media::FramePtr frame(av_frame_alloc());
  frame->format = AV_PIX_FMT_YUVJ420P;
  frame->width = width;
  frame->height = height;
  EXPECT_EQ(av_frame_get_buffer(frame.get(), 0), 0);
  for (int plane = 0; plane < 3; ++plane) {
    const int h = plane == 0 ? height : (height + 1) / 2;
    const int w = plane == 0 ? width : (width + 1) / 2;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        frame->data[plane][y * frame->linesize[plane] + x] =
            static_cast<uint8_t>(plane == 0 ? (x * 255 / w + y) & 0xff : 128 + plane * 10);
      }
    }
  }
  auto jpeg = media::EncodeJpeg(*frame, 3);
  EXPECT_TRUE(jpeg) << jpeg.error().ToString();
  return jpeg ? *jpeg : std::string();
}

// `seconds` of a 440 Hz tone, 16 kHz mono s16 PCM, as the transcript stage sends audio.
inline std::string MakeWav(double seconds, int rate = 16000) {
  const auto samples = static_cast<uint32_t>(seconds * rate);
  std::string wav;
  auto le = [&](uint32_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) wav.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  };
  wav += "RIFF";
  le(36 + samples * 2, 4);
  wav += "WAVEfmt ";
  le(16, 4);
  le(1, 2);
  le(1, 2);
  le(static_cast<uint32_t>(rate), 4);
  le(static_cast<uint32_t>(rate) * 2, 4);
  le(2, 2);
  le(16, 2);
  wav += "data";
  le(samples * 2, 4);
  for (uint32_t i = 0; i < samples; ++i) {
    const double value = 8000 * std::sin(2 * M_PI * 440 * i / rate);
    le(static_cast<uint16_t>(static_cast<int16_t>(value)), 2);
  }
  return wav;
}

}  // namespace reprise::ai
