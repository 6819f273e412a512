// A WAV file of any size made up as it is read (a 44-byte header for 48 kHz stereo s16,
// then seeded pseudo-random samples), for tests that stream large media without holding
// or writing it. Header-only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

#include "core/io.h"

namespace reprise::testing {

// A WAV file of `size` bytes: nothing of it is ever held whole.
class GeneratedWav final : public ByteSource {
 public:
  explicit GeneratedWav(int64_t size) : size_(size) {
    auto le32 = [&](uint32_t v) {
      for (int i = 0; i < 4; ++i) header_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    };
    auto le16 = [&](uint16_t v) {
      header_.push_back(static_cast<char>(v & 0xff));
      header_.push_back(static_cast<char>(v >> 8));
    };
    auto data_bytes = static_cast<uint32_t>(size - 44);
    header_ = "RIFF";
    le32(36 + data_bytes);
    header_ += "WAVEfmt ";
    le32(16);
    le16(1);  // PCM
    le16(2);
    le32(48000);
    le32(48000 * 4);
    le16(4);
    le16(16);
    header_ += "data";
    le32(data_bytes);
  }

  Result<size_t> Read(std::span<std::byte> buffer) override {
    size_t n = static_cast<size_t>(std::min<int64_t>(size_ - offset_, buffer.size()));
    for (size_t i = 0; i < n; ++i, ++offset_) {
      if (offset_ < 44) {
        buffer[i] = static_cast<std::byte>(header_[offset_]);
      } else {
        state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        buffer[i] = static_cast<std::byte>(state_ >> 56);
      }
    }
    return n;
  }
  std::string Name() const override { return "generated wav"; }

 private:
  int64_t size_;
  int64_t offset_ = 0;
  uint64_t state_ = 12345;
  std::string header_;
};

}  // namespace reprise::testing
