#include "stages/shot_detector.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

namespace reprise::stages {
namespace {

// Mean full-range luma below which a frame counts as dark (black or nearly: the bottom of
// a fade). Night scenes sit well above it; lavfi's `fade` and broadcast black sit below.
constexpr double kDarkLevel = 20.0;
// A fade-in has settled when a frame brightens by less than this over the one before.
constexpr double kSettledRise = 0.5;
constexpr int kLumaBins = 64;
constexpr int kChromaBins = 32;

enum class Range { kFull, kLimitedLuma, kLimitedChroma };

uint8_t ToFull(int value, Range range) {
  double full = value;
  if (range == Range::kLimitedLuma) full = (value - 16) * 255.0 / 219.0;
  if (range == Range::kLimitedChroma) full = (value - 128) * 255.0 / 224.0 + 128.0;
  return static_cast<uint8_t>(std::clamp(std::lround(full), 0L, 255L));
}

// Area average of a `sw` x `sh` plane into `dw` x `dh` (dw <= sw, dh <= sh). Within a
// block at most kSamples rows and columns are read, evenly spaced, so shrinking a 4K
// frame costs about what a small one does.
std::vector<uint8_t> ShrinkPlane(const uint8_t* src, int stride, int sw, int sh, int dw, int dh,
                                 Range range) {
  constexpr int kSamples = 4;
  int x_step = std::max(1, sw / dw / kSamples);
  int y_step = std::max(1, sh / dh / kSamples);
  std::vector<int> x_edges(dw + 1);
  for (int x = 0; x <= dw; ++x) x_edges[x] = static_cast<int>(int64_t{x} * sw / dw);
  std::vector<uint8_t> out(static_cast<size_t>(dw) * dh);
  std::vector<int64_t> sums(dw);
  std::vector<int64_t> counts(dw);
  for (int y = 0; y < dh; ++y) {
    int y0 = static_cast<int>(int64_t{y} * sh / dh);
    int y1 = static_cast<int>(int64_t{y + 1} * sh / dh);
    std::fill(sums.begin(), sums.end(), 0);
    std::fill(counts.begin(), counts.end(), 0);
    for (int sy = y0; sy < y1; sy += y_step) {
      const uint8_t* line = src + static_cast<ptrdiff_t>(sy) * stride;
      for (int x = 0; x < dw; ++x) {
        for (int sx = x_edges[x]; sx < x_edges[x + 1]; sx += x_step) {
          sums[x] += line[sx];
          ++counts[x];
        }
      }
    }
    for (int x = 0; x < dw; ++x) {
      out[static_cast<size_t>(y) * dw + x] =
          ToFull(static_cast<int>((sums[x] + counts[x] / 2) / counts[x]), range);
    }
  }
  return out;
}

double MeanLuma(const SmallFrame& frame) {
  if (frame.y.empty()) return 0;
  int64_t sum = 0;
  for (uint8_t value : frame.y) sum += value;
  return static_cast<double>(sum) / static_cast<double>(frame.y.size());
}

// Earth mover's distance between the value distributions of two planes, 0..1 (1: all of
// one at 0 and all of the other at 255).
template <int kBins>
double HistogramDistance(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.empty() || a.size() != b.size()) return 0;
  std::array<int64_t, kBins> ha{};
  std::array<int64_t, kBins> hb{};
  constexpr int kShift = kBins == 64 ? 2 : 3;
  static_assert(256 >> kShift == kBins);
  for (uint8_t value : a) ++ha[value >> kShift];
  for (uint8_t value : b) ++hb[value >> kShift];
  int64_t cumulative = 0;
  int64_t moved = 0;
  for (int bin = 0; bin + 1 < kBins; ++bin) {
    cumulative += ha[bin] - hb[bin];
    moved += std::llabs(cumulative);
  }
  return static_cast<double>(moved) / (static_cast<double>(a.size()) * (kBins - 1));
}

double PixelDistance(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.empty() || a.size() != b.size()) return 0;
  int64_t sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(int{a[i]} - int{b[i]});
  return static_cast<double>(sum) / (255.0 * static_cast<double>(a.size()));
}

const SmallFrame* Brightest(const std::deque<SmallFrame>& frames) {
  const SmallFrame* best = nullptr;
  double best_luma = -1;
  for (const SmallFrame& frame : frames) {
    double luma = MeanLuma(frame);
    if (luma > best_luma) best = &frame, best_luma = luma;
  }
  return best;
}

}  // namespace

Result<SmallFrame> Shrink(const AVFrame& frame, int width, double pts) {
  auto format = static_cast<AVPixelFormat>(frame.format);
  if (format != AV_PIX_FMT_YUV420P && format != AV_PIX_FMT_YUVJ420P) {
    return Fail(ErrorCode::kInvalidArgument,
                "shot analysis needs yuv420p frames, got format " + std::to_string(frame.format));
  }
  if (width < 2 || frame.width < 1 || frame.height < 1) {
    return Fail(ErrorCode::kInvalidArgument, "cannot shrink a " + std::to_string(frame.width) +
                                                 "x" + std::to_string(frame.height) +
                                                 " frame to width " + std::to_string(width));
  }
  SmallFrame out;
  out.pts = pts;
  out.width = std::min(width, frame.width);
  out.height = std::clamp(
      static_cast<int>(std::lround(static_cast<double>(frame.height) * out.width / frame.width)), 1,
      frame.height);
  bool limited = format == AV_PIX_FMT_YUV420P;
  out.y = ShrinkPlane(frame.data[0], frame.linesize[0], frame.width, frame.height, out.width,
                      out.height, limited ? Range::kLimitedLuma : Range::kFull);
  int cw = (frame.width + 1) / 2;
  int ch = (frame.height + 1) / 2;
  int dcw = std::min((out.width + 1) / 2, cw);
  int dch = std::min((out.height + 1) / 2, ch);
  Range chroma = limited ? Range::kLimitedChroma : Range::kFull;
  out.u = ShrinkPlane(frame.data[1], frame.linesize[1], cw, ch, dcw, dch, chroma);
  out.v = ShrinkPlane(frame.data[2], frame.linesize[2], cw, ch, dcw, dch, chroma);
  return out;
}

double FrameDifference(const SmallFrame& a, const SmallFrame& b) {
  double histogram =
      (2 * HistogramDistance<kLumaBins>(a.y, b.y) + HistogramDistance<kChromaBins>(a.u, b.u) +
       HistogramDistance<kChromaBins>(a.v, b.v)) /
      4;
  double pixels =
      (2 * PixelDistance(a.y, b.y) + PixelDistance(a.u, b.u) + PixelDistance(a.v, b.v)) / 4;
  return (histogram + pixels) / 2;
}

std::vector<ShotBoundary> ShotDetector::Push(SmallFrame frame) {
  std::vector<ShotBoundary> out;
  int64_t index = count_++;
  if (index == 0) {
    first_time_ = frame.pts;
    last_boundary_ = frame.pts;
  }
  bool dark = MeanLuma(frame) < kDarkLevel;
  Scored scored{index, frame.pts, 0, dark};
  if (previous_) {
    scored.difference = FrameDifference(*previous_, frame);
    scored.dark = dark || MeanLuma(*previous_) < kDarkLevel;
  }
  last_difference_ = scored.difference;
  scores_.push_back(scored);
  WatchDarkness(frame, dark);
  auto window = static_cast<size_t>(options_.window);
  while (decided_ < scores_.size() && scores_.size() - 1 - decided_ >= window) {
    Decide(decided_++);
  }
  while (decided_ > window) {
    scores_.pop_front();
    --decided_;
  }
  Release(out);
  previous_ = std::move(frame);
  return out;
}

std::vector<ShotBoundary> ShotDetector::Flush() {
  std::vector<ShotBoundary> out;
  while (decided_ < scores_.size()) Decide(decided_++);
  if (dark_run_) {
    if (dark_run_->ended) {
      SettleDarkRun(Brightest(recent_));
    } else {
      dark_run_.reset();  // the video ends in black: no boundary there
    }
  }
  Release(out);
  return out;
}

void ShotDetector::Decide(size_t index) {
  const Scored& scored = scores_[index];
  if (scored.frame == 0 || scored.dark || scored.difference < options_.min_difference) return;
  auto window = static_cast<size_t>(options_.window);
  double sum = 0;
  int count = 0;
  for (size_t i = index >= window ? index - window : 0; i < scores_.size() && i <= index + window;
       ++i) {
    if (i == index || scores_[i].frame == 0) continue;
    sum += scores_[i].difference;
    ++count;
  }
  double level = count > 0 ? sum / count : 0;
  if (scored.difference < options_.threshold * level) return;
  ShotBoundary boundary{scored.time, scored.frame, scored.difference, Transition::kCut};
  if (dark_run_ && dark_run_->ended && scored.frame > dark_run_->last) {
    // A cut during the fade-in: the fade-in ends with the frame before it.
    const SmallFrame* after = nullptr;
    for (const SmallFrame& frame : recent_) {
      if (frame.pts < scored.time) after = &frame;
    }
    held_.push_back(boundary);
    std::optional<SmallFrame> settled;
    if (after != nullptr) settled = *after;
    SettleDarkRun(settled ? &*settled : nullptr);
    return;
  }
  held_.push_back(boundary);
}

void ShotDetector::WatchDarkness(const SmallFrame& frame, bool dark) {
  int64_t index = count_ - 1;
  if (dark) {
    if (dark_run_ && dark_run_->ended) {
      // Dark again before the fade-in settled: what was seen in between ends that run,
      // and is the reference before this one.
      std::optional<SmallFrame> between;
      if (const SmallFrame* brightest = Brightest(recent_)) between = *brightest;
      SettleDarkRun(between ? &*between : nullptr);
      recent_.clear();
      if (between) recent_.push_back(std::move(*between));
    }
    if (!dark_run_) {
      DarkRun run;
      run.first = index;
      run.first_time = frame.pts;
      if (const SmallFrame* brightest = Brightest(recent_)) run.before = *brightest;
      recent_.clear();
      dark_run_ = std::move(run);
    }
    dark_run_->last = index;
    return;
  }
  bool rising_stopped = false;
  if (!recent_.empty()) {
    rising_stopped = MeanLuma(frame) <= MeanLuma(recent_.back()) + kSettledRise;
  }
  recent_.push_back(frame);
  if (recent_.size() > static_cast<size_t>(kSettleFrames)) recent_.pop_front();
  if (!dark_run_) return;
  if (!dark_run_->ended) {
    dark_run_->ended = true;
    // The middle frame of the run, timed by interpolation between the run's first frame
    // and this one (the frame after it), so no per-frame record is kept however long the
    // run: frames are evenly spaced across a black run.
    int64_t frames_in_run = dark_run_->last - dark_run_->first + 1;
    int64_t middle = frames_in_run / 2;
    double step = (frame.pts - dark_run_->first_time) / static_cast<double>(frames_in_run);
    dark_run_->middle = dark_run_->first + middle;
    dark_run_->middle_time = dark_run_->first_time + step * static_cast<double>(middle);
  }
  ++dark_run_->settle_frames;
  bool bright_again = dark_run_->before && MeanLuma(frame) >= 0.9 * MeanLuma(*dark_run_->before);
  if ((dark_run_->settle_frames >= 2 && rising_stopped) || bright_again ||
      dark_run_->settle_frames >= kSettleFrames) {
    SettleDarkRun(&recent_.back());
  }
}

void ShotDetector::SettleDarkRun(const SmallFrame* after) {
  if (!dark_run_) return;
  DarkRun run = std::move(*dark_run_);
  dark_run_.reset();
  if (!run.before || after == nullptr) return;
  double difference = FrameDifference(*run.before, *after);
  if (difference < options_.fade_difference) return;
  held_.push_back(ShotBoundary{run.middle_time, run.middle, difference, Transition::kFade});
}

void ShotDetector::Release(std::vector<ShotBoundary>& out) {
  if (dark_run_ || held_.empty()) return;
  std::sort(held_.begin(), held_.end(),
            [](const ShotBoundary& a, const ShotBoundary& b) { return a.time < b.time; });
  for (const ShotBoundary& boundary : held_) {
    double since = boundary.time - last_boundary_.value_or(first_time_);
    if (since < options_.min_scene_seconds || since <= 0) continue;
    out.push_back(boundary);
    last_boundary_ = boundary.time;
    // A later fade compares against frames of this shot only.
    while (!recent_.empty() && recent_.front().pts < boundary.time) recent_.pop_front();
  }
  held_.clear();
}

}  // namespace reprise::stages
