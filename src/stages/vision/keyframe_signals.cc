#include "stages/vision/keyframe_signals.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

namespace reprise::stages::vision {
namespace {

// The palette, in the order names are listed when shares tie.
enum class Name {
  kBlack,
  kWhite,
  kGrey,
  kRed,
  kOrange,
  kYellow,
  kGreen,
  kCyan,
  kBlue,
  kPurple,
  kPink,
  kBrown,
  kCount
};
constexpr std::array<std::string_view, static_cast<size_t>(Name::kCount)> kNames = {
    "black", "white", "grey", "red",    "orange", "yellow",
    "green", "cyan",  "blue", "purple", "pink",   "brown"};

// Pixels the colour count looks at: the picture reduced to about this many.
constexpr int kColourPixels = 96 * 96;

// The plain name of an 8-bit HSV colour (OpenCV's: hue 0..179 in 2-degree steps).
Name NameOf(int hue, int saturation, int value) {
  if (value < 50) return Name::kBlack;
  if (saturation < 40 || (saturation < 64 && value < 100)) {
    if (value > 200) return Name::kWhite;
    return value < 70 ? Name::kBlack : Name::kGrey;
  }
  int degrees = hue * 2;
  bool light = saturation < 128 && value > 180;
  if (degrees < 15 || degrees >= 345) {
    if (light) return Name::kPink;
    return value < 110 && saturation < 200 ? Name::kBrown : Name::kRed;
  }
  if (degrees < 42) return value < 160 ? Name::kBrown : Name::kOrange;
  if (degrees < 70) return value < 110 ? Name::kBrown : Name::kYellow;
  if (degrees < 165) return Name::kGreen;
  if (degrees < 200) return Name::kCyan;
  if (degrees < 260) return Name::kBlue;
  if (degrees < 295) return Name::kPurple;
  return Name::kPink;
}

std::string Hex(double r, double g, double b) {
  char text[8];
  auto byte = [](double channel) {
    return static_cast<unsigned>(std::clamp(static_cast<int>(channel + 0.5), 0, 255));
  };
  std::snprintf(text, sizeof text, "#%02x%02x%02x", byte(r), byte(g), byte(b));
  return text;
}

std::vector<Colour> DominantColours(const cv::Mat& bgr) {
  double scale =
      std::sqrt(static_cast<double>(kColourPixels) / (static_cast<double>(bgr.cols) * bgr.rows));
  cv::Mat small = bgr;
  if (scale < 1) {
    cv::resize(bgr, small,
               cv::Size(std::max(1, static_cast<int>(bgr.cols * scale)),
                        std::max(1, static_cast<int>(bgr.rows * scale))),
               0, 0, cv::INTER_AREA);
  }
  cv::Mat hsv;
  cv::cvtColor(small, hsv, cv::COLOR_BGR2HSV);
  struct Bin {
    int64_t count = 0;
    double b = 0, g = 0, r = 0;
  };
  std::array<Bin, kNames.size()> bins{};
  for (int y = 0; y < small.rows; ++y) {
    const auto* colour = small.ptr<cv::Vec3b>(y);
    const auto* shade = hsv.ptr<cv::Vec3b>(y);
    for (int x = 0; x < small.cols; ++x) {
      Bin& bin = bins[static_cast<size_t>(NameOf(shade[x][0], shade[x][1], shade[x][2]))];
      ++bin.count;
      bin.b += colour[x][0];
      bin.g += colour[x][1];
      bin.r += colour[x][2];
    }
  }
  auto total = static_cast<double>(small.total());
  std::vector<Colour> colours;
  for (size_t i = 0; i < bins.size(); ++i) {
    const Bin& bin = bins[i];
    double share = static_cast<double>(bin.count) / total;
    if (bin.count == 0 || share < KeyframeAnalyzer::kMinColourShare) continue;
    auto n = static_cast<double>(bin.count);
    colours.push_back(Colour{std::string(kNames[i]), Hex(bin.r / n, bin.g / n, bin.b / n), share});
  }
  std::stable_sort(colours.begin(), colours.end(),
                   [](const Colour& a, const Colour& b) { return a.share > b.share; });
  if (colours.size() > 3) colours.resize(3);
  return colours;
}

std::string LightOf(double brightness) {
  if (brightness < 0.25) return "dark";
  if (brightness < 0.45) return "dim";
  if (brightness > 0.7) return "bright";
  return "normal";
}

// `grey` reduced so its longer side is at most `side`.
cv::Mat AtMost(const cv::Mat& grey, int side) {
  int longer = std::max(grey.cols, grey.rows);
  if (longer <= side) return grey;
  double scale = static_cast<double>(side) / longer;
  cv::Mat out;
  cv::resize(grey, out,
             cv::Size(std::max(1, static_cast<int>(grey.cols * scale)),
                      std::max(1, static_cast<int>(grey.rows * scale))),
             0, 0, cv::INTER_AREA);
  return out;
}

int CountFaces(cv::CascadeClassifier& cascade, const cv::Mat& grey) {
  cv::Mat picture = AtMost(grey, KeyframeAnalyzer::kFaceSide);
  cv::Mat equalised;
  cv::equalizeHist(picture, equalised);
  int smallest = std::max(24, std::min(equalised.cols, equalised.rows) / 20);
  std::vector<cv::Rect> faces;
  cascade.detectMultiScale(equalised, faces, /*scaleFactor=*/1.1, /*minNeighbors=*/5, 0,
                           cv::Size(smallest, smallest));
  return static_cast<int>(faces.size());
}

// Letters and digits in a word (each byte of a UTF-8 sequence past ASCII counts once per
// character, by its lead byte).
int LettersAndDigits(std::string_view word) {
  int count = 0;
  for (char c : word) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80 ? std::isalnum(byte) != 0 : (byte & 0xC0) == 0xC0) ++count;
  }
  return count;
}

std::string Trim(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

Result<std::string> ReadText(tesseract::TessBaseAPI& ocr, const cv::Mat& grey) {
  // Tesseract reads letters best at 20+ pixels high: small pictures are enlarged (on-screen
  // text in a 640-wide keyframe is often smaller), large ones reduced to bound the time.
  cv::Mat page = AtMost(grey, 2000);
  if (page.cols < 1000) {
    double scale = std::min(3.0, 1280.0 / page.cols);
    cv::Mat larger;
    cv::resize(page, larger,
               cv::Size(static_cast<int>(page.cols * scale), static_cast<int>(page.rows * scale)),
               0, 0, cv::INTER_CUBIC);
    page = larger;
  }
  if (!page.isContinuous()) page = page.clone();
  ocr.SetImage(page.data, page.cols, page.rows, 1, static_cast<int>(page.step));
  ocr.SetSourceResolution(300);
  if (ocr.Recognize(nullptr) != 0) {
    ocr.Clear();
    return Fail(ErrorCode::kInternal, "Tesseract could not read the picture");
  }
  std::string text;
  std::unique_ptr<tesseract::ResultIterator> words(ocr.GetIterator());
  if (words) {
    do {
      std::unique_ptr<char[]> word(words->GetUTF8Text(tesseract::RIL_WORD));
      if (!word) continue;
      std::string trimmed = Trim(word.get());
      if (words->Confidence(tesseract::RIL_WORD) < KeyframeAnalyzer::kMinWordConfidence ||
          LettersAndDigits(trimmed) < 2) {
        continue;
      }
      if (!text.empty()) text += ' ';
      text += trimmed;
    } while (words->Next(tesseract::RIL_WORD));
  }
  words.reset();
  ocr.Clear();
  return text;
}

// The width and height in a JPEG's frame header (SOFn), read without decoding.
Result<cv::Size> JpegSize(std::string_view jpeg) {
  auto at = [&](size_t i) { return static_cast<unsigned char>(jpeg[i]); };
  auto not_jpeg = [](const std::string& why) {
    return Fail(ErrorCode::kUnsupportedMedia, "not a JPEG picture: " + why);
  };
  if (jpeg.size() < 4 || at(0) != 0xFF || at(1) != 0xD8) return not_jpeg("no start-of-image");
  size_t i = 2;
  while (true) {
    if (i >= jpeg.size() || at(i) != 0xFF) return not_jpeg("no frame header");
    while (i < jpeg.size() && at(i) == 0xFF) ++i;  // fill bytes before a marker
    if (i >= jpeg.size()) return not_jpeg("no frame header");
    unsigned marker = at(i++);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (marker == 0xD9 || marker == 0xDA) return not_jpeg("no frame header before the scan");
    if (i + 2 > jpeg.size()) return not_jpeg("a segment cut short");
    size_t length = (size_t{at(i)} << 8) | at(i + 1);
    if (length < 2 || i + length > jpeg.size()) return not_jpeg("a segment cut short");
    bool frame =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) {
      if (length < 8) return not_jpeg("a frame header cut short");
      int height = (at(i + 3) << 8) | at(i + 4);
      int width = (at(i + 5) << 8) | at(i + 6);
      if (width == 0 || height == 0) return not_jpeg("a frame of no size");
      return cv::Size(width, height);
    }
    i += length;
  }
}

Result<cv::Mat> Decode(std::string_view jpeg) {
  if (jpeg.size() > KeyframeAnalyzer::kMaxBytes) {
    return Fail(ErrorCode::kInvalidArgument, "picture of " + std::to_string(jpeg.size()) +
                                                 " bytes is larger than " +
                                                 std::to_string(KeyframeAnalyzer::kMaxBytes));
  }
  auto size = JpegSize(jpeg);
  if (!size) return Fail(size.error());
  if (size->width > KeyframeAnalyzer::kMaxSide || size->height > KeyframeAnalyzer::kMaxSide) {
    return Fail(ErrorCode::kInvalidArgument, "picture of " + std::to_string(size->width) + "x" +
                                                 std::to_string(size->height) + " is larger than " +
                                                 std::to_string(KeyframeAnalyzer::kMaxSide) +
                                                 " pixels either way");
  }
  int longer = std::max(size->width, size->height);
  int flags = cv::IMREAD_COLOR;
  if (longer > 4 * KeyframeAnalyzer::kDecodeSide) {
    flags = cv::IMREAD_REDUCED_COLOR_8;
  } else if (longer > 2 * KeyframeAnalyzer::kDecodeSide) {
    flags = cv::IMREAD_REDUCED_COLOR_4;
  } else if (longer > KeyframeAnalyzer::kDecodeSide) {
    flags = cv::IMREAD_REDUCED_COLOR_2;
  }
  cv::Mat bytes(1, static_cast<int>(jpeg.size()), CV_8U,
                const_cast<char*>(jpeg.data()));  // imdecode only reads it
  cv::Mat picture = cv::imdecode(bytes, flags);
  if (picture.empty() || picture.type() != CV_8UC3) {
    return Fail(ErrorCode::kUnsupportedMedia, "the JPEG picture does not decode");
  }
  return picture;
}

// "tesseract-ocr-chi-sim" for "chi_sim".
std::string TessdataPackage(std::string language) {
  std::replace(language.begin(), language.end(), '_', '-');
  return "tesseract-ocr-" + language;
}

Result<void> ExpectFile(const std::string& path, const std::string& package) {
  std::error_code error;
  if (std::filesystem::is_regular_file(path, error)) return {};
  return Fail(ErrorCode::kUnavailable,
              "model file " + path + " is missing (Debian package " + package + ")");
}

}  // namespace

VisionModels VisionModels::Debian() {
  return VisionModels{"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
                      "/usr/share/tesseract-ocr/5/tessdata", "eng"};
}

KeyframeAnalyzer::KeyframeAnalyzer(std::unique_ptr<cv::CascadeClassifier> faces,
                                   std::unique_ptr<tesseract::TessBaseAPI> ocr)
    : faces_(std::move(faces)), ocr_(std::move(ocr)) {}

KeyframeAnalyzer::~KeyframeAnalyzer() = default;

Result<std::unique_ptr<KeyframeAnalyzer>> KeyframeAnalyzer::Create(const VisionModels& files) {
  if (files.language.empty() || files.language.find_first_of("/.+ ") != std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "Tesseract language '" + files.language + "' is not a language code");
  }
  REPRISE_TRY(ExpectFile(files.face_cascade, "opencv-data"));
  std::string traineddata = files.tessdata + "/" + files.language + ".traineddata";
  REPRISE_TRY(ExpectFile(traineddata, TessdataPackage(files.language)));
  auto faces = std::make_unique<cv::CascadeClassifier>();
  try {
    if (!faces->load(files.face_cascade) || faces->empty()) {
      return Fail(ErrorCode::kUnavailable, "face cascade " + files.face_cascade +
                                               " does not load (Debian package opencv-data)");
    }
  } catch (const cv::Exception& error) {
    return Fail(ErrorCode::kUnavailable,
                "face cascade " + files.face_cascade + " does not load: " + error.what());
  }
  auto ocr = std::make_unique<tesseract::TessBaseAPI>();
  // Tesseract's progress and warnings go to its debug file, not to our standard error.
  ocr->SetVariable("debug_file", "/dev/null");
  if (ocr->Init(files.tessdata.c_str(), files.language.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
    return Fail(ErrorCode::kUnavailable, "Tesseract language data " + traineddata +
                                             " does not load (Debian package " +
                                             TessdataPackage(files.language) + ")");
  }
  ocr->SetPageSegMode(tesseract::PSM_SPARSE_TEXT);
  return std::unique_ptr<KeyframeAnalyzer>(new KeyframeAnalyzer(std::move(faces), std::move(ocr)));
}

Result<KeyframeSignals> KeyframeAnalyzer::Analyze(std::string_view jpeg) {
  try {
    auto picture = Decode(jpeg);
    if (!picture) return Fail(picture.error());
    KeyframeSignals signals;
    signals.colours = DominantColours(*picture);
    cv::Mat grey;
    cv::cvtColor(*picture, grey, cv::COLOR_BGR2GRAY);
    signals.brightness = cv::mean(grey)[0] / 255.0;
    signals.light = LightOf(signals.brightness);
    signals.faces = CountFaces(*faces_, grey);
    auto text = ReadText(*ocr_, grey);
    if (!text) return Fail(text.error());
    signals.text = std::move(*text);
    return signals;
  } catch (const cv::Exception& error) {
    // OpenCV reports what it cannot do (a decoder it refuses, memory) by throwing.
    return Fail(ErrorCode::kUnsupportedMedia,
                std::string("the picture could not be analysed: ") + error.what());
  }
}

}  // namespace reprise::stages::vision
