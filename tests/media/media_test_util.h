// Helpers for tests of media and stages: in-memory and failing ByteReaders, decoding a
// picture back to RGB and measuring its colour with a tolerance. Header-only so both
// test binaries (media, stages) can use it without a library of their own.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <cstring>
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
#include "tests/support/media_samples.h"

namespace reprise::testing {

inline std::ostream& operator<<(std::ostream& out, const Rgb& c) {
  return out << "rgb(" << c.r << "," << c.g << "," << c.b << ")";
}

// Reads a string held in memory (an encoded JPEG, say).
class StringReader final : public ByteReader {
 public:
  StringReader(std::string data, std::string name)
      : data_(std::move(data)), name_(std::move(name)) {}
  Result<size_t> Read(std::span<std::byte> buffer) override {
    size_t n = std::min(buffer.size(), data_.size() - position_);
    std::memcpy(buffer.data(), data_.data() + position_, n);
    position_ += n;
    return n;
  }
  Result<void> Seek(int64_t offset) override {
    if (offset < 0 || static_cast<size_t>(offset) > data_.size()) {
      return Fail(ErrorCode::kIo, "seek out of range in " + name_);
    }
    position_ = static_cast<size_t>(offset);
    return {};
  }
  int64_t Size() const override { return static_cast<int64_t>(data_.size()); }
  std::string Name() const override { return name_; }

 private:
  std::string data_;
  std::string name_;
  size_t position_ = 0;
};

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
  StringReader reader(bytes, name);
  return DecodeRgb(reader);
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
