#include "media/jpeg_encoder.h"

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/pixfmt.h>
}

#include "media/video_converter.h"
#include "tests/media/media_test_util.h"

namespace reprise::media {
namespace {

using testing::ColourNear;
using testing::MeanColour;
namespace samples = testing::samples;

// A picture of `colour` with a faint texture, so the quantiser has detail to drop.
FramePtr SolidPicture(int width, int height, testing::Rgb colour, AVPixelFormat format) {
  return testing::PaintedPicture(width, height, format, [&](int x, int y) {
    return testing::Rgb{colour.r ^ ((x * 7 + y * 3) & 0x1f), colour.g ^ ((x * 5) & 0x1f),
                        colour.b ^ ((y * 11) & 0x1f)};
  });
}

TEST(EncodeJpeg, RoundTripsThroughTheMjpegDecoder) {
  FramePtr picture = SolidPicture(96, 64, samples::kBlue, AV_PIX_FMT_YUVJ420P);
  auto jpeg = EncodeJpeg(*picture, 3);
  ASSERT_TRUE(jpeg.has_value()) << jpeg.error().ToString();
  ASSERT_GT(jpeg->size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>((*jpeg)[0]), 0xFF);  // SOI marker
  EXPECT_EQ(static_cast<unsigned char>((*jpeg)[1]), 0xD8);
  FramePtr back = testing::DecodeRgb(*jpeg, "memory.jpg");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->width, 96);
  EXPECT_EQ(back->height, 64);
  EXPECT_TRUE(ColourNear(MeanColour(*back), samples::kBlue, 30));
}

TEST(EncodeJpeg, ConvertsOtherPixelFormats) {
  FramePtr picture = SolidPicture(33, 17, samples::kRed, AV_PIX_FMT_YUV420P);
  auto jpeg = EncodeJpeg(*picture, 2);
  ASSERT_TRUE(jpeg.has_value()) << jpeg.error().ToString();
  FramePtr back = testing::DecodeRgb(*jpeg, "memory.jpg");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->width, 33);
  EXPECT_EQ(back->height, 17);
  EXPECT_TRUE(ColourNear(MeanColour(*back), samples::kRed, 30));
}

TEST(EncodeJpeg, LowerQuantiserMakesLargerFiles) {
  FramePtr picture = SolidPicture(128, 96, samples::kGreen, AV_PIX_FMT_YUVJ420P);
  auto best = EncodeJpeg(*picture, 1);
  auto worst = EncodeJpeg(*picture, 31);
  ASSERT_TRUE(best && worst);
  EXPECT_GT(best->size(), worst->size());
}

TEST(EncodeJpeg, RejectsQualityOutOfRange) {
  FramePtr picture = SolidPicture(16, 16, samples::kGreen, AV_PIX_FMT_YUVJ420P);
  for (int quality : {0, 32}) {
    auto jpeg = EncodeJpeg(*picture, quality);
    ASSERT_FALSE(jpeg.has_value());
    EXPECT_EQ(jpeg.error().code, ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace reprise::media
