#include "stages/vision/keyframe_signals.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace reprise::stages::vision {
namespace {

// fonts-dejavu-core (scripts/install-deps.sh).
constexpr const char* kFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
// A photo of a footballer facing the camera, from opencv-doc's sample data.
constexpr const char* kFacePhoto = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string Describe(const KeyframeSignals& signals) {
  std::string out = "brightness " + std::to_string(signals.brightness) + " (" + signals.light +
                    "), faces " + std::to_string(signals.faces) + ", text '" + signals.text +
                    "', colours";
  for (const Colour& colour : signals.colours) {
    out += " " + colour.name + " " + colour.hex + " " + std::to_string(colour.share);
  }
  return out;
}

class KeyframeSignalsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    auto analyzer = KeyframeAnalyzer::Create(VisionModels::Debian());
    ASSERT_TRUE(analyzer.has_value()) << analyzer.error().ToString();
    analyzer_ = analyzer->release();
  }
  static void TearDownTestSuite() {
    delete analyzer_;
    analyzer_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  // One JPEG picture made by ffmpeg from a lavfi filter graph.
  static std::string Jpeg(const std::string& name, const std::string& graph) {
    std::string path = dir_->Join(name + ".jpg");
    EXPECT_TRUE(testing::Ffmpeg({"-f", "lavfi", "-i", graph, "-frames:v", "1", "-q:v", "2", path}))
        << graph;
    return testing::ReadFile(path);
  }

  // `text` in large letters (DejaVu Sans Bold) centred on a plain picture.
  static std::string TextPicture(const std::string& name, const std::string& text,
                                 const std::string& background, const std::string& ink) {
    return Jpeg(name, "color=c=" + background + ":s=640x360,drawtext=fontfile=" + kFont +
                          ":text='" + text + "':fontsize=56:fontcolor=" + ink +
                          ":x=(w-text_w)/2:y=(h-text_h)/2");
  }

  static KeyframeSignals Analyze(const std::string& jpeg) {
    auto signals = analyzer_->Analyze(jpeg);
    EXPECT_TRUE(signals.has_value()) << signals.error().ToString();
    if (!signals) return {};
    std::printf("[ signals  ] %s\n", Describe(*signals).c_str());
    return *signals;
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline KeyframeAnalyzer* analyzer_ = nullptr;
};

TEST_F(KeyframeSignalsTest, SolidColoursAreNamedWithTheirBrightness) {
  struct Case {
    std::string lavfi;  // lavfi's colour
    std::string name;   // the palette's
    std::string light;
  };
  for (const Case& c : std::vector<Case>{{"red", "red", "dim"},
                                         {"blue", "blue", "dark"},
                                         {"green", "green", "dim"},
                                         {"yellow", "yellow", "bright"},
                                         {"darkorange", "orange", "normal"},
                                         {"white", "white", "bright"},
                                         {"black", "black", "dark"},
                                         {"gray", "grey", "normal"},
                                         {"0x505050", "grey", "dim"}}) {
    SCOPED_TRACE(c.lavfi);
    KeyframeSignals signals =
        Analyze(Jpeg("solid_" + c.lavfi, "color=c=" + c.lavfi + ":s=320x240"));
    ASSERT_EQ(signals.colours.size(), 1u) << Describe(signals);
    EXPECT_EQ(signals.colours[0].name, c.name);
    EXPECT_NEAR(signals.colours[0].share, 1.0, 1e-9);
    EXPECT_EQ(signals.colours[0].hex.size(), 7u);
    EXPECT_EQ(signals.light, c.light) << signals.brightness;
    EXPECT_EQ(signals.faces, 0);
    EXPECT_EQ(signals.text, "");
  }
  // The hex is the mean colour of the pixels: white is near #ffffff.
  KeyframeSignals white = Analyze(Jpeg("solid_white", "color=c=white:s=320x240"));
  ASSERT_EQ(white.colours.size(), 1u);
  EXPECT_GE(white.colours[0].hex, "#f0f0f0");
  EXPECT_GT(white.brightness, 0.95);
}

TEST_F(KeyframeSignalsTest, TwoColourPictureHasBothAtHalfEach) {
  KeyframeSignals signals =
      Analyze(Jpeg("split", "color=c=red:s=160x240[a];color=c=blue:s=160x240[b];[a][b]hstack"));
  ASSERT_GE(signals.colours.size(), 2u) << Describe(signals);
  std::vector<std::string> names{signals.colours[0].name, signals.colours[1].name};
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"blue", "red"}));
  EXPECT_NEAR(signals.colours[0].share, 0.5, 0.05);
  EXPECT_NEAR(signals.colours[1].share, 0.5, 0.05);
  EXPECT_GE(signals.colours[0].share, signals.colours[1].share);
}

TEST_F(KeyframeSignalsTest, ReadsLargeOnScreenText) {
  KeyframeSignals dark_on_light =
      Analyze(TextPicture("text_black", "QUICK BROWN FOX", "white", "black"));
  std::string text = Lower(dark_on_light.text);
  for (const char* word : {"quick", "brown", "fox"}) {
    EXPECT_NE(text.find(word), std::string::npos) << word << " in '" << dark_on_light.text << "'";
  }
  // Subtitle colours: light letters on a dark picture.
  KeyframeSignals light_on_dark =
      Analyze(TextPicture("text_yellow", "Harbour Lights", "0x101040", "yellow"));
  text = Lower(light_on_dark.text);
  for (const char* word : {"harbour", "lights"}) {
    EXPECT_NE(text.find(word), std::string::npos) << word << " in '" << light_on_dark.text << "'";
  }
  EXPECT_EQ(light_on_dark.light, "dark");
}

TEST_F(KeyframeSignalsTest, PicturesWithoutTextReadNothing) {
  EXPECT_EQ(Analyze(Jpeg("bars", "smptebars=s=640x360")).text, "");
  EXPECT_EQ(Analyze(Jpeg("gradient", "gradients=s=640x360:seed=7")).text, "");
}

TEST_F(KeyframeSignalsTest, FindsTheFaceInAPhotoAndNoneInPatterns) {
  std::string photo = testing::ReadFile(kFacePhoto);
  ASSERT_FALSE(photo.empty()) << kFacePhoto << " (Debian package opencv-doc)";
  EXPECT_GE(Analyze(photo).faces, 1);
  EXPECT_EQ(Analyze(Jpeg("testsrc", "testsrc=s=640x360")).faces, 0);
  EXPECT_EQ(Analyze(Jpeg("mandelbrot", "mandelbrot=s=640x360")).faces, 0);
}

// Pictures larger than kDecodeSide are decoded reduced; the signals hold.
TEST_F(KeyframeSignalsTest, LargePictureIsDecodedReduced) {
  KeyframeSignals signals = Analyze(
      Jpeg("large", "color=c=blue:s=4000x3000,drawbox=x=0:y=0:w=2000:h=3000:c=yellow:t=fill"));
  ASSERT_EQ(signals.colours.size(), 2u) << Describe(signals);
  EXPECT_NEAR(signals.colours[0].share, 0.5, 0.05);
}

TEST_F(KeyframeSignalsTest, CorruptOrNonJpegBytesAreUnsupportedMedia) {
  std::string jpeg = Jpeg("valid", "testsrc=s=320x240");
  std::string random(4096, '\0');
  std::mt19937 rng(7);
  for (char& c : random) c = static_cast<char>(rng());
  std::string garbage_after_header = jpeg.substr(0, 2) + random;
  std::string png = "\x89PNG\r\n\x1a\n" + random;
  for (const std::string& bytes : {std::string(), random, png, jpeg.substr(0, 40),
                                   garbage_after_header, std::string("\xFF\xD8\xFF\xD9", 4)}) {
    auto signals = analyzer_->Analyze(bytes);
    ASSERT_FALSE(signals.has_value()) << bytes.size() << " bytes";
    EXPECT_EQ(signals.error().code, ErrorCode::kUnsupportedMedia) << signals.error().ToString();
  }
  // The analyzer still works after refusing them.
  EXPECT_EQ(Analyze(jpeg).colours.empty(), false);
}

TEST_F(KeyframeSignalsTest, PictureLargerThanTheLimitIsRefusedBeforeDecoding) {
  std::string jpeg = Jpeg("small", "color=c=red:s=64x48");
  // Rewrite the frame header (SOF0: FF C0, length, precision, height, width) to claim
  // 9000x9000; the scan data stays that of 64x48.
  size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (size_t at : {sof + 5, sof + 7}) {
    jpeg[at] = static_cast<char>(9000 >> 8);
    jpeg[at + 1] = static_cast<char>(9000 & 0xFF);
  }
  auto signals = analyzer_->Analyze(jpeg);
  ASSERT_FALSE(signals.has_value());
  EXPECT_EQ(signals.error().code, ErrorCode::kInvalidArgument) << signals.error().ToString();
  EXPECT_NE(signals.error().message.find("9000x9000"), std::string::npos);
}

TEST(KeyframeAnalyzerCreate, MissingModelFilesAreUnavailableNamingPathAndPackage) {
  VisionModels no_cascade = VisionModels::Debian();
  no_cascade.face_cascade = "/nonexistent/haarcascade_frontalface_default.xml";
  auto analyzer = KeyframeAnalyzer::Create(no_cascade);
  ASSERT_FALSE(analyzer.has_value());
  EXPECT_EQ(analyzer.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(analyzer.error().message.find(no_cascade.face_cascade), std::string::npos)
      << analyzer.error().message;
  EXPECT_NE(analyzer.error().message.find("opencv-data"), std::string::npos);

  VisionModels no_language = VisionModels::Debian();
  no_language.language = "chi_sim";
  no_language.tessdata = "/nonexistent/tessdata";
  analyzer = KeyframeAnalyzer::Create(no_language);
  ASSERT_FALSE(analyzer.has_value());
  EXPECT_EQ(analyzer.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(analyzer.error().message.find("/nonexistent/tessdata/chi_sim.traineddata"),
            std::string::npos)
      << analyzer.error().message;
  EXPECT_NE(analyzer.error().message.find("tesseract-ocr-chi-sim"), std::string::npos);

  testing::TempDir dir;
  VisionModels broken = VisionModels::Debian();
  broken.face_cascade = dir.Join("cascade.xml");
  testing::WriteFile(broken.face_cascade, "<opencv_storage></opencv_storage>\n");
  analyzer = KeyframeAnalyzer::Create(broken);
  ASSERT_FALSE(analyzer.has_value());
  EXPECT_EQ(analyzer.error().code, ErrorCode::kUnavailable) << analyzer.error().ToString();

  VisionModels bad_language = VisionModels::Debian();
  bad_language.language = "../eng";
  analyzer = KeyframeAnalyzer::Create(bad_language);
  ASSERT_FALSE(analyzer.has_value());
  EXPECT_EQ(analyzer.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace reprise::stages::vision
