#include "media/png_encoder.h"

#include <cstring>

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/pixfmt.h>
}

#include "media/decode_pass.h"
#include "tests/media/media_test_util.h"

namespace reprise::media {
namespace {

using testing::ColourNear;
using testing::MeanColour;
namespace samples = testing::samples;

// The PNG's one picture decoded as RGBA at its own size.
FramePtr DecodeRgba(const std::string& png) {
  auto reader = OpenMemoryReader(png, "memory.png");
  auto frame = DecodeFirstVideoFrame(*reader, VideoRequest{.width = 0,
                                                           .even_height = false,
                                                           .apply_rotation = false,
                                                           .pixel_format = AV_PIX_FMT_RGBA});
  EXPECT_TRUE(frame.has_value()) << (frame ? "" : frame.error().ToString());
  return frame ? std::move(*frame) : nullptr;
}

TEST(EncodePng, RgbaRoundTripsLosslesslyWithAlpha) {
  FramePtr picture = NewFrame();
  picture->width = 37;
  picture->height = 11;
  picture->format = AV_PIX_FMT_RGBA;
  ASSERT_GE(av_frame_get_buffer(picture.get(), 0), 0);
  for (int y = 0; y < picture->height; ++y) {
    uint8_t* row = picture->data[0] + static_cast<ptrdiff_t>(y) * picture->linesize[0];
    for (int x = 0; x < picture->width; ++x) {
      row[x * 4] = static_cast<uint8_t>(x * 7);
      row[x * 4 + 1] = static_cast<uint8_t>(y * 23);
      row[x * 4 + 2] = static_cast<uint8_t>(x ^ y);
      row[x * 4 + 3] = static_cast<uint8_t>(x < 10 ? 0 : 255 - y);
    }
  }
  auto png = EncodePng(*picture);
  ASSERT_TRUE(png.has_value()) << png.error().ToString();
  ASSERT_GT(png->size(), 8u);
  EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  FramePtr back = DecodeRgba(*png);
  ASSERT_NE(back, nullptr);
  ASSERT_EQ(back->width, 37);
  ASSERT_EQ(back->height, 11);
  for (int y = 0; y < picture->height; ++y) {
    EXPECT_EQ(std::memcmp(picture->data[0] + static_cast<ptrdiff_t>(y) * picture->linesize[0],
                          back->data[0] + static_cast<ptrdiff_t>(y) * back->linesize[0],
                          static_cast<size_t>(picture->width) * 4),
              0)
        << "row " << y;
  }
}

TEST(EncodePng, ConvertsOtherPixelFormats) {
  FramePtr picture =
      testing::PaintedPicture(33, 17, AV_PIX_FMT_YUV420P, [](int, int) { return samples::kRed; });
  auto png = EncodePng(*picture);
  ASSERT_TRUE(png.has_value()) << png.error().ToString();
  FramePtr back = testing::DecodeRgb(*png, "memory.png");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->width, 33);
  EXPECT_EQ(back->height, 17);
  EXPECT_TRUE(ColourNear(MeanColour(*back), samples::kRed, 12));
}

}  // namespace
}  // namespace reprise::media
