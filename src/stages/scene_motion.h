// SceneMotion: a scene's "motion" in scenes.json, the mean difference (ShotDetector's
// FrameDifference, 0..1) of its frames from the frame before each, leaving out its first
// frame, whose difference is the boundary's that starts it (and the video's first frame,
// which has none). A scene of one frame has motion 0.
//
// Boundaries become known some frames after the frames they close (a whole dark run late
// after a fade), so differences wait in spans of consecutive frames until the boundary
// that ends their scene comes. Past kMaxSpans, the two neighbouring spans covering the
// fewest frames merge, so memory stays bounded however late a boundary comes and spans
// stay about equally long; a boundary that falls inside a merged span splits it in
// proportion to its frames (only a run of more than kMaxSpans undecided frames, that is
// a long dark run, is averaged like that).
//
// Frames are added in order, each once; Take() ends are increasing. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

namespace reprise::stages {

class SceneMotion final {
 public:
  static constexpr std::size_t kMaxSpans = 512;

  // Frame `frame` (its index among the frames, from 0) differs by `difference` from the
  // frame before it. Frame 0 is ignored.
  void Add(int64_t frame, double difference);

  // The motion of the scene that ends before frame `end` (the first frame of the next
  // scene, or the number of frames at the end); its frames are forgotten, and so is
  // frame `end`'s difference when it has been added (the next scene's boundary).
  double Take(int64_t end);

  [[nodiscard]] std::size_t spans() const { return spans_.size(); }

 private:
  struct Span {
    int64_t first = 0;  // frames [first, end)
    int64_t end = 0;
    double sum = 0;
  };

  // Removes the frames before `end` from the spans; adds their sum and count.
  void Consume(int64_t end, double& sum, double& count);

  std::deque<Span> spans_;
  int64_t scene_start_ = 0;
};

}  // namespace reprise::stages
