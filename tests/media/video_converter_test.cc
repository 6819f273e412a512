#include "media/video_converter.h"

#include <ostream>
#include <string>

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/pixdesc.h>
#include <libavutil/pixfmt.h>
}

#include "tests/media/media_test_util.h"

namespace reprise::media {
namespace {

using testing::ColourNear;
using testing::MeanColour;
using testing::Rgb;
namespace samples = testing::samples;

// An RGB24 picture whose left half is `left` and right half `right`, then converted to
// `format` at the same size.
FramePtr SplitPicture(int width, int height, Rgb left, Rgb right, AVPixelFormat format) {
  return testing::PaintedPicture(width, height, format,
                                 [&](int x, int) { return x < width / 2 ? left : right; });
}

FramePtr ToRgb(const AVFrame& frame) {
  VideoConverter to_rgb(VideoRequest{
      .width = 0, .even_height = false, .apply_rotation = false, .pixel_format = AV_PIX_FMT_RGB24});
  auto converted = to_rgb.Convert(frame, 0);
  EXPECT_TRUE(converted.has_value());
  return std::move(*converted);
}

TEST(VideoConverterSize, KeepsDisplayAspectWithEvenHeight) {
  VideoRequest thumb{.width = 320, .even_height = true, .apply_rotation = true, .pixel_format = -1};
  AVRational square{1, 1};
  EXPECT_EQ(VideoConverter::OutputSize(thumb, 1280, 720, square, 0), (FrameSize{320, 180}));
  // Portrait phone video: 720x1280 on screen -> 320 x 568.9 -> 568.
  EXPECT_EQ(VideoConverter::OutputSize(thumb, 1280, 720, square, 90), (FrameSize{320, 568}));
  EXPECT_EQ(VideoConverter::OutputSize(thumb, 1280, 720, square, 180), (FrameSize{320, 180}));
  // 607 * 320 / 1081 = 179.7 -> 180.
  EXPECT_EQ(VideoConverter::OutputSize(thumb, 1081, 607, square, 0), (FrameSize{320, 180}));
  // Anamorphic PAL 16:9: 720x576 with 64:45 pixels shows as 1024x576.
  EXPECT_EQ(VideoConverter::OutputSize(thumb, 720, 576, AVRational{64, 45}, 0),
            (FrameSize{320, 180}));
  VideoRequest keep{.width = 0, .even_height = false, .apply_rotation = true, .pixel_format = -1};
  EXPECT_EQ(VideoConverter::OutputSize(keep, 1081, 607, square, 0), (FrameSize{1081, 607}));
  EXPECT_EQ(VideoConverter::OutputSize(keep, 1081, 607, square, 270), (FrameSize{607, 1081}));
  VideoRequest no_turn{
      .width = 0, .even_height = true, .apply_rotation = false, .pixel_format = -1};
  EXPECT_EQ(VideoConverter::OutputSize(no_turn, 1081, 607, square, 90), (FrameSize{1081, 608}));
}

struct TurnCase {
  int rotation;
  AVPixelFormat source;
  AVPixelFormat target;
};

// "90 yuv420p -> yuvj420p" in failure messages instead of the struct's raw bytes.
void PrintTo(const TurnCase& c, std::ostream* out) {
  *out << c.rotation << " " << av_get_pix_fmt_name(c.source) << " -> "
       << av_get_pix_fmt_name(c.target);
}

// "turn90_yuv420p_to_yuvj420p": test names say what is turned, and from which format
// into which (pixel format names are letters, digits and underscores).
std::string TurnName(const ::testing::TestParamInfo<TurnCase>& info) {
  const TurnCase& c = info.param;
  return "turn" + std::to_string(c.rotation) + "_" + av_get_pix_fmt_name(c.source) + "_to_" +
         av_get_pix_fmt_name(c.target);
}

class VideoConverterTurn : public ::testing::TestWithParam<TurnCase> {};

// The picture is red on the left and blue on the right: a clockwise quarter turn puts
// red on top, an anticlockwise one blue, a half turn swaps left and right.
TEST_P(VideoConverterTurn, TurnsClockwiseByTheStreamRotation) {
  const TurnCase& c = GetParam();
  FramePtr source = SplitPicture(64, 36, samples::kRed, samples::kBlue, c.source);
  VideoConverter converter(VideoRequest{
      .width = 48, .even_height = true, .apply_rotation = true, .pixel_format = c.target});
  auto converted = converter.Convert(*source, c.rotation);
  ASSERT_TRUE(converted.has_value()) << converted.error().ToString();
  const AVFrame& out = **converted;
  EXPECT_EQ(out.format, c.target);
  EXPECT_EQ(out.width, 48);
  if (c.rotation == 180) {
    EXPECT_EQ(out.height, 28);  // 48 * 36 / 64 = 27 -> even 28
  } else {
    EXPECT_EQ(out.height, 86);  // 48 * 64 / 36 = 85.3 -> even 86
  }
  FramePtr rgb = ToRgb(out);
  const int tolerance = 40;
  if (c.rotation == 90) {
    EXPECT_TRUE(ColourNear(MeanColour(*rgb, 0.1, 0.05, 0.9, 0.4), samples::kRed, tolerance));
    EXPECT_TRUE(ColourNear(MeanColour(*rgb, 0.1, 0.6, 0.9, 0.95), samples::kBlue, tolerance));
  } else if (c.rotation == 270) {
    EXPECT_TRUE(ColourNear(MeanColour(*rgb, 0.1, 0.05, 0.9, 0.4), samples::kBlue, tolerance));
    EXPECT_TRUE(ColourNear(MeanColour(*rgb, 0.1, 0.6, 0.9, 0.95), samples::kRed, tolerance));
  } else {
    EXPECT_TRUE(ColourNear(MeanColour(*rgb, 0.05, 0.1, 0.4, 0.9), samples::kBlue, tolerance));
    EXPECT_TRUE(ColourNear(MeanColour(*rgb, 0.6, 0.1, 0.95, 0.9), samples::kRed, tolerance));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, VideoConverterTurn,
    ::testing::Values(TurnCase{90, AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P},
                      TurnCase{270, AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P},
                      TurnCase{180, AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P},
                      TurnCase{90, AV_PIX_FMT_RGB24, AV_PIX_FMT_RGB24},
                      TurnCase{90, AV_PIX_FMT_YUV420P, AV_PIX_FMT_NV12},
                      // 4:2:2 cannot be turned plane by plane: goes through 4:4:4.
                      TurnCase{90, AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUV422P},
                      TurnCase{270, AV_PIX_FMT_RGB24, AV_PIX_FMT_YUYV422}),
    TurnName);

TEST(VideoConverter, OddSizedChromaTurnsWithoutLosingEdges) {
  FramePtr source = SplitPicture(35, 21, samples::kRed, samples::kBlue, AV_PIX_FMT_YUV420P);
  VideoConverter converter(
      VideoRequest{.width = 0, .even_height = false, .apply_rotation = true, .pixel_format = -1});
  auto converted = converter.Convert(*source, 90);
  ASSERT_TRUE(converted.has_value()) << converted.error().ToString();
  EXPECT_EQ((*converted)->width, 21);
  EXPECT_EQ((*converted)->height, 35);
  EXPECT_EQ((*converted)->format, AV_PIX_FMT_YUV420P);
  FramePtr rgb = ToRgb(**converted);
  EXPECT_TRUE(ColourNear(MeanColour(*rgb, 0, 0, 1, 0.3), samples::kRed, 40));
  EXPECT_TRUE(ColourNear(MeanColour(*rgb, 0, 0.7, 1, 1), samples::kBlue, 40));
}

TEST(VideoConverter, NothingToDoGivesANewReferenceToTheSameBuffers) {
  FramePtr source = SplitPicture(32, 16, samples::kRed, samples::kBlue, AV_PIX_FMT_YUV420P);
  VideoConverter converter(VideoRequest{});
  auto converted = converter.Convert(*source, 0);
  ASSERT_TRUE(converted.has_value());
  EXPECT_NE(converted->get(), source.get());
  EXPECT_EQ((*converted)->data[0], source->data[0]);
}

TEST(VideoConverter, EachFrameIsIndependent) {
  VideoConverter converter(
      VideoRequest{.width = 16, .even_height = true, .apply_rotation = true, .pixel_format = -1});
  FramePtr red = SplitPicture(32, 16, samples::kRed, samples::kRed, AV_PIX_FMT_YUV420P);
  FramePtr blue = SplitPicture(32, 16, samples::kBlue, samples::kBlue, AV_PIX_FMT_YUV420P);
  auto first = converter.Convert(*red, 0);
  auto second = converter.Convert(*blue, 0);
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(ColourNear(MeanColour(*ToRgb(**first)), samples::kRed, 40));
  EXPECT_TRUE(ColourNear(MeanColour(*ToRgb(**second)), samples::kBlue, 40));
}

}  // namespace
}  // namespace reprise::media
