// ShotDetector: finds shot boundaries (cuts) in a stream of small decoded frames, one
// frame at a time, with memory bounded by a few dozen small frames whatever the length.
//
// Each frame is compared with the one before it: the difference is the mean of a
// colour-distribution term (earth mover's distance between the Y, U and V histograms,
// which a slight brightness change moves only slightly) and a pixel term (mean absolute
// difference of the planes), both in 0..1. A frame starts a new shot when its difference
// is at least `min_difference` AND at least `threshold` times the local level (the mean
// difference of the `window` frames on either side): footage that is noisy or moving
// all the time has a high local level, so it does not cut constantly, and a slow pan's
// steady differences never stand out. A cut closer than `min_scene_seconds` to the
// previous one (or to the first frame) is dropped.
//
// Fades through black: frames darker than a black level take no part in cut decisions.
// When a dark run ends, the brightest frame just before it is compared with the frame at
// which the fade-in settles (brightness stops rising); if they differ by at least
// `fade_difference` the run is one boundary, placed at the frame in its middle, otherwise
// (fade out and back into the same shot) none. A video that starts or ends in black has
// no boundary there. Gradual dissolves between shots are not detected as boundaries.
//
// Cuts are reported in increasing time, each once, at most `window` frames (or, after a
// dark run, up to kSettleFrames frames) after the frame that starts the new shot; Flush()
// reports the rest when the input ends. Frames must come in presentation order. Not
// thread-safe; one detector per stream.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

extern "C" {
struct AVFrame;
}

#include "core/error.h"

namespace reprise::stages {

// A picture reduced for analysis: 8-bit full-range planes, luma `width` x `height`,
// chroma (width+1)/2 x (height+1)/2 (4:2:0), tightly packed.
struct SmallFrame {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> y;
  std::vector<uint8_t> u;
  std::vector<uint8_t> v;
  double pts = 0;  // seconds
};

// `frame` (yuv420p or yuvj420p; limited range is stretched to full) reduced to `width`
// columns by area averaging, the height keeping the aspect (at least 1). kInvalidArgument
// for any other pixel format or a width below 2.
[[nodiscard]] Result<SmallFrame> Shrink(const AVFrame& frame, int width, double pts);

struct ShotDetectorOptions {
  double threshold = 3.0;         // times the local level
  double min_difference = 0.08;   // absolute floor of a cut's difference, 0..1
  double fade_difference = 0.12;  // how much a shot must differ across a dark run, 0..1
  double min_scene_seconds = 0.5;
  int window = 2;  // frames on either side for the local level
};

enum class Transition { kCut, kFade };

struct ShotBoundary {
  double time = 0;        // pts of the first frame of the new shot
  int64_t frame = 0;      // its index among the frames pushed, from 0
  double difference = 0;  // the difference that decided it
  Transition transition = Transition::kCut;
};

// The difference of two frames of the same size in 0..1 (see above).
[[nodiscard]] double FrameDifference(const SmallFrame& a, const SmallFrame& b);

class ShotDetector final {
 public:
  // Frames a fade-in may take to settle, and frames kept to find the brightest frame
  // before a dark run.
  static constexpr int kSettleFrames = 48;

  explicit ShotDetector(ShotDetectorOptions options) : options_(options) {}

  // Adds the next frame; returns the boundaries that became certain.
  std::vector<ShotBoundary> Push(SmallFrame frame);
  // The input ended: the boundaries still pending.
  std::vector<ShotBoundary> Flush();

  [[nodiscard]] int64_t frames() const { return count_; }
  // The difference of the newest frame from the one before it (0 for the first frame).
  [[nodiscard]] double last_difference() const { return last_difference_; }

 private:
  struct Scored {
    int64_t frame = 0;
    double time = 0;
    double difference = 0;
    bool dark = false;  // this frame or the one before it is dark
  };
  // A dark run being watched: where it lies, the reference before it, and the fade-in
  // after it until it settles.
  struct DarkRun {
    int64_t first = 0;
    int64_t last = 0;
    double first_time = 0;
    int64_t middle = 0;  // set when the run ends
    double middle_time = 0;
    std::optional<SmallFrame> before;
    bool ended = false;
    int settle_frames = 0;
  };

  // Decides whether scores_[index] starts a shot; a boundary goes to held_.
  void Decide(size_t index);
  void WatchDarkness(const SmallFrame& frame, bool dark);
  // Settles the watched dark run with `after` as the frame past the fade-in (nullptr: none
  // to compare with, so no boundary).
  void SettleDarkRun(const SmallFrame* after);
  // Moves held_ boundaries to `out` in time order once no dark run is pending, dropping
  // those too close to the previous one.
  void Release(std::vector<ShotBoundary>& out);

  ShotDetectorOptions options_;
  int64_t count_ = 0;
  double first_time_ = 0;
  std::optional<SmallFrame> previous_;
  std::deque<Scored> scores_;      // the window around the frames still undecided
  size_t decided_ = 0;             // scores_[decided_] is the next frame to decide
  std::deque<SmallFrame> recent_;  // the last kSettleFrames bright frames of this shot
  std::optional<DarkRun> dark_run_;
  std::vector<ShotBoundary> held_;  // cuts decided while a dark run was pending
  std::optional<double> last_boundary_;
  double last_difference_ = 0;
};

}  // namespace reprise::stages
