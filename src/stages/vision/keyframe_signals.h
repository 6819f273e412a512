// Keyframe signals: what a picture shows that can be measured without a model service,
// for the `semantics` stage's signal fallback (issue 14): dominant colours, brightness,
// frontal faces (OpenCV's Haar cascade from Debian's opencv-data) and on-screen text
// (Tesseract with Debian's tesseract-ocr-eng).
//
// KeyframeAnalyzer::Create() loads the face cascade and the Tesseract language data once;
// a model file that is missing gives kUnavailable naming the path and the Debian package
// that ships it, one that does not load gives kUnavailable too. Analyze() takes the bytes
// of one JPEG picture:
// - kUnsupportedMedia when they are not a JPEG (no start-of-image marker, no frame
//   header before the scan, a header cut short) or do not decode; a JPEG whose scan is
//   cut short yields the signals of what decoded (libjpeg fills the rest with grey);
// - kInvalidArgument for a picture wider or taller than kMaxSide or a file over kMaxBytes
//   (refused before it is decoded). Large pictures are decoded reduced by libjpeg (1/2, 1/4, 1/8)
//   to at most kDecodeSide on their longer side, so memory stays bounded by that.
// Signals:
// - colours: every pixel of a reduced picture is given one plain name of a fixed palette
//   (black, white, grey, red, orange, yellow, green, cyan, blue, purple, pink, brown) by
//   its hue, saturation and value; the names holding at least kMinColourShare of the
//   pixels, at most three, largest share first, each with the mean colour of its pixels
//   as "#rrggbb";
// - brightness: the mean luma (BT.601) in 0..1, and `light` its bucket: "dark" below
//   0.25, "dim" below 0.45, "bright" above 0.7, else "normal";
// - faces: frontal faces found by the Haar cascade on the equalised greyscale picture
//   (at most kFaceSide on its longer side; a face must be at least 1/20 of the shorter
//   side);
// - text: the words Tesseract reads (sparse text: on-screen text is not laid out like a
//   page) on the greyscale picture, enlarged when narrower than 1000 pixels, that it is
//   at least kMinWordConfidence sure of and that hold two or more letters or digits,
//   joined by single spaces; "" when none.
//
// Not thread-safe: one analyzer serves one thread at a time (Tesseract keeps the page it
// reads); make one per thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace cv {
class CascadeClassifier;
}
namespace tesseract {
class TessBaseAPI;
}

namespace reprise::stages::vision {

// The model files an analyzer loads.
struct VisionModels {
  std::string face_cascade;  // an OpenCV Haar cascade XML file
  std::string tessdata;      // the folder holding <language>.traineddata
  std::string language;      // Tesseract's language code, e.g. "eng"

  // Debian 12's paths: opencv-data's frontal-face cascade, tesseract-ocr-eng's data; "eng".
  static VisionModels Debian();
};

struct Colour {
  std::string name;  // one of the palette's plain names
  std::string hex;   // "#rrggbb", the mean colour of its pixels
  double share = 0;  // of the picture's pixels, 0..1
};

struct KeyframeSignals {
  std::vector<Colour> colours;  // dominant, at most 3, largest first
  double brightness = 0;        // mean luma 0..1
  std::string light;            // "dark" (<0.25) | "dim" (<0.45) | "bright" (>0.7) | "normal"
  int faces = 0;                // frontal faces found (OpenCV Haar)
  std::string text;             // on-screen text read by Tesseract ("" when none), trimmed
};

class KeyframeAnalyzer final {
 public:
  static constexpr int kMaxSide = 8192;          // pictures larger either way are refused
  static constexpr size_t kMaxBytes = 64 << 20;  // and so are larger files
  static constexpr int kDecodeSide = 2048;       // decoded no larger than this (by 1/2..1/8)
  static constexpr int kFaceSide = 1280;
  static constexpr double kMinColourShare = 0.05;
  static constexpr int kMinWordConfidence = 70;  // Tesseract's 0..100

  [[nodiscard]] static Result<std::unique_ptr<KeyframeAnalyzer>> Create(const VisionModels& files);
  ~KeyframeAnalyzer();
  KeyframeAnalyzer(const KeyframeAnalyzer&) = delete;
  KeyframeAnalyzer& operator=(const KeyframeAnalyzer&) = delete;

  [[nodiscard]] Result<KeyframeSignals> Analyze(std::string_view jpeg);

 private:
  KeyframeAnalyzer(std::unique_ptr<cv::CascadeClassifier> faces,
                   std::unique_ptr<tesseract::TessBaseAPI> ocr);

  std::unique_ptr<cv::CascadeClassifier> faces_;
  std::unique_ptr<tesseract::TessBaseAPI> ocr_;
};

}  // namespace reprise::stages::vision
