// Helpers for tests of media and stages: a failing ByteReader, painting a picture,
// decoding a picture back to RGB and measuring its colour with a tolerance. Header-only
// so both test binaries (media, stages) can use it without a library of their own.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/pixfmt.h>
}

#include "core/io.h"
#include "media/decode_pass.h"
#include "media/ffmpeg.h"
#include "media/video_converter.h"
#include "tests/support/media_samples.h"

namespace reprise::testing {

inline std::ostream& operator<<(std::ostream& out, const Rgb& c) {
  return out << "rgb(" << c.r << "," << c.g << "," << c.b << ")";
}

// Wraps a reader; once armed, every read fails with kIo (a disk or network failure in
// the middle of a job). Counts the bytes it passed on.
class FlakyReader final : public ByteReader {
 public:
  explicit FlakyReader(std::unique_ptr<ByteReader> inner) : inner_(std::move(inner)) {}
  void Arm() { armed_ = true; }
  int64_t bytes_read() const { return bytes_read_; }
  Result<size_t> Read(std::span<std::byte> buffer) override {
    if (armed_) return Fail(ErrorCode::kIo, "injected read failure in " + Name());
    auto n = inner_->Read(buffer);
    if (n) bytes_read_ += static_cast<int64_t>(*n);
    return n;
  }
  Result<void> Seek(int64_t offset) override { return inner_->Seek(offset); }
  int64_t Size() const override { return inner_->Size(); }
  std::string Name() const override { return inner_->Name(); }

 private:
  std::unique_ptr<ByteReader> inner_;
  bool armed_ = false;
  int64_t bytes_read_ = 0;
};

inline std::unique_ptr<ByteReader> OpenOrDie(const std::string& path) {
  auto reader = OpenFileReader(path);
  if (!reader) {
    ADD_FAILURE() << reader.error().ToString();
    std::abort();
  }
  return std::move(*reader);
}

// The first picture of an encoded file (a JPEG in memory, a video), as RGB24 at its own
// size, unrotated.
inline media::FramePtr DecodeRgb(ByteReader& reader) {
  auto frame =
      media::DecodeFirstVideoFrame(reader, media::VideoRequest{.width = 0,
                                                               .even_height = false,
                                                               .apply_rotation = false,
                                                               .pixel_format = AV_PIX_FMT_RGB24});
  if (!frame) {
    ADD_FAILURE() << "cannot decode " << reader.Name() << ": " << frame.error().ToString();
    return nullptr;
  }
  return std::move(*frame);
}

inline media::FramePtr DecodeRgb(const std::string& bytes, const std::string& name) {
  auto reader = OpenMemoryReader(bytes, name);
  return DecodeRgb(*reader);
}

// A width x height picture whose pixel (x, y) is colour_at(x, y), drawn in RGB24 and
// then converted to `format` (returned as drawn when that is RGB24).
inline media::FramePtr PaintedPicture(int width, int height, AVPixelFormat format,
                                      const std::function<Rgb(int x, int y)>& colour_at) {
  media::FramePtr rgb = media::NewFrame();
  rgb->width = width;
  rgb->height = height;
  rgb->format = AV_PIX_FMT_RGB24;
  EXPECT_GE(av_frame_get_buffer(rgb.get(), 0), 0);
  for (int y = 0; y < height; ++y) {
    uint8_t* row = rgb->data[0] + static_cast<ptrdiff_t>(y) * rgb->linesize[0];
    for (int x = 0; x < width; ++x) {
      Rgb c = colour_at(x, y);
      row[x * 3] = static_cast<uint8_t>(c.r);
      row[x * 3 + 1] = static_cast<uint8_t>(c.g);
      row[x * 3 + 2] = static_cast<uint8_t>(c.b);
    }
  }
  if (format == AV_PIX_FMT_RGB24) return rgb;
  media::VideoConverter converter(media::VideoRequest{
      .width = 0, .even_height = false, .apply_rotation = false, .pixel_format = format});
  auto converted = converter.Convert(*rgb, 0);
  EXPECT_TRUE(converted.has_value());
  return std::move(*converted);
}

// Mean colour of an RGB24 frame over the rectangle given in fractions of its size.
inline Rgb MeanColour(const AVFrame& rgb, double x0 = 0, double y0 = 0, double x1 = 1,
                      double y1 = 1) {
  int left = static_cast<int>(x0 * rgb.width);
  int right = std::max(left + 1, static_cast<int>(x1 * rgb.width));
  int top = static_cast<int>(y0 * rgb.height);
  int bottom = std::max(top + 1, static_cast<int>(y1 * rgb.height));
  int64_t sum[3] = {0, 0, 0};
  int64_t count = 0;
  for (int y = top; y < bottom; ++y) {
    const uint8_t* row = rgb.data[0] + static_cast<ptrdiff_t>(y) * rgb.linesize[0];
    for (int x = left; x < right; ++x) {
      for (int c = 0; c < 3; ++c) sum[c] += row[x * 3 + c];
      ++count;
    }
  }
  return Rgb{static_cast<int>(sum[0] / count), static_cast<int>(sum[1] / count),
             static_cast<int>(sum[2] / count)};
}

inline ::testing::AssertionResult ColourNear(const Rgb& got, const Rgb& want, int tolerance) {
  if (std::abs(got.r - want.r) <= tolerance && std::abs(got.g - want.g) <= tolerance &&
      std::abs(got.b - want.b) <= tolerance) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << got << " is not within " << tolerance << " of " << want;
}

}  // namespace reprise::testing
