#include "stages/scene_motion.h"

#include <cstddef>

namespace reprise::stages {

void SceneMotion::Add(int64_t frame, double difference) {
  if (frame <= scene_start_) return;  // the video's first frame, or a boundary's
  spans_.push_back(Span{frame, frame + 1, difference});
  if (spans_.size() <= kMaxSpans) return;
  // Merge the neighbours that cover the fewest frames together, so spans stay about
  // equally long (at most about twice the undecided frames / kMaxSpans each).
  std::size_t best = 0;
  int64_t best_frames = -1;
  for (std::size_t i = 0; i + 1 < spans_.size(); ++i) {
    int64_t frames = spans_[i + 1].end - spans_[i].first;
    if (best_frames < 0 || frames < best_frames) best = i, best_frames = frames;
  }
  spans_[best].end = spans_[best + 1].end;
  spans_[best].sum += spans_[best + 1].sum;
  spans_.erase(spans_.begin() + static_cast<std::ptrdiff_t>(best) + 1);
}

void SceneMotion::Consume(int64_t end, double& sum, double& count) {
  while (!spans_.empty() && spans_.front().first < end) {
    Span& span = spans_.front();
    auto frames = static_cast<double>(span.end - span.first);
    if (span.end <= end) {
      sum += span.sum;
      count += frames;
      spans_.pop_front();
      continue;
    }
    auto before = static_cast<double>(end - span.first);
    double part = span.sum * before / frames;
    sum += part;
    count += before;
    span.sum -= part;
    span.first = end;
  }
}

double SceneMotion::Take(int64_t end) {
  double sum = 0;
  double count = 0;
  Consume(end, sum, count);
  // The boundary frame's own difference belongs to neither scene.
  double ignored_sum = 0;
  double ignored_count = 0;
  Consume(end + 1, ignored_sum, ignored_count);
  scene_start_ = end;
  return count > 0 ? sum / count : 0;
}

}  // namespace reprise::stages
