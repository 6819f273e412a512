#include "backfill/estimate.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>

namespace reprise::backfill {

double StageTime::For(int64_t runs, int64_t without_duration, double media_seconds) const {
  if (per_media_minute > 0) {
    return per_media_minute * media_seconds / 60.0 +
           per_run * static_cast<double>(without_duration);
  }
  return per_run * static_cast<double>(runs);
}

void JobTally::Add(std::string_view asset_id, size_t stage_index,
                   std::optional<double> duration_seconds) {
  if (asset_id != asset_) {
    Flush();
    asset_ = std::string(asset_id);
    duration_ = duration_seconds;
  }
  stages_.push_back(stage_index);
}

void JobTally::Flush() {
  if (stages_.empty()) return;
  Shape& shape = shapes_[stages_];
  ++shape.jobs;
  if (duration_ && *duration_ > 0) {
    shape.media_seconds += *duration_;
  } else {
    ++shape.without_duration;
  }
  stages_.clear();
}

std::map<std::vector<size_t>, JobTally::Shape> JobTally::Shapes() const {
  JobTally all = *this;
  all.Flush();  // the asset being added
  return all.shapes_;
}

int64_t JobTally::jobs() const {
  int64_t jobs = 0;
  for (const auto& [stages, shape] : Shapes()) jobs += shape.jobs;
  return jobs;
}

double JobTally::StageSeconds(size_t index, const StageTime& time) const {
  double seconds = 0;
  for (const auto& [indexes, shape] : Shapes()) {
    if (std::find(indexes.begin(), indexes.end(), index) == indexes.end()) continue;
    seconds += time.For(shape.jobs, shape.without_duration, shape.media_seconds);
  }
  return seconds;
}

double JobTally::WorkSeconds(const std::vector<StageTime>& stages) const {
  double seconds = 0;
  for (const auto& [indexes, shape] : Shapes()) {
    double slowest = 0;
    for (size_t index : indexes) {
      slowest = std::max(
          slowest, stages.at(index).For(shape.jobs, shape.without_duration, shape.media_seconds));
    }
    seconds += slowest;
  }
  return seconds;
}

double PacedSeconds(int64_t jobs, double seconds_per_job, const Pacing& pacing) {
  if (jobs <= 0) return 0;
  const double poll = std::max(pacing.poll_seconds, 0.0);
  // A foreground driver steps when the delay or the rate allows the next start
  // (Driver::MicrosUntilNextStart), so pacing is not rounded up to its polls.
  const double delay = std::max(pacing.delay_seconds, 0.0);
  const double rate = std::max(pacing.rate_per_second, 0.0);
  const double burst = std::max(1.0, rate);
  double tokens = burst;
  double tokens_at = 0;

  // When each slot can take its next job; a slot freed by a finished job is filled at the
  // driver's next step, half a poll later on average.
  const int64_t slots = std::min<int64_t>(std::max(pacing.concurrency, 1), jobs);
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (int64_t i = 0; i < slots; ++i) free_at.push(0);
  double last_start = 0;
  double last_end = 0;
  for (int64_t k = 0; k < jobs; ++k) {
    double start = std::max(free_at.top(), last_start);
    free_at.pop();
    if (k > 0 && delay > 0) start = std::max(start, last_start + delay);
    if (rate > 0) {
      tokens = std::min(burst, tokens + rate * (start - tokens_at));
      if (tokens < 1) {
        start += (1 - tokens) / rate;
        tokens = 1;
      }
      tokens_at = start;
      tokens -= 1;
    }
    last_start = start;
    last_end = std::max(last_end, start + seconds_per_job);
    free_at.push(start + seconds_per_job + poll / 2);
  }
  // The driver notices the end at its next step.
  return last_end + poll / 2;
}

double PacingSeconds(int64_t jobs, const Pacing& pacing) {
  if (jobs <= 0) return 0;
  double seconds = static_cast<double>(jobs - 1) * std::max(pacing.delay_seconds, 0.0);
  if (pacing.rate_per_second > 0) {
    const double burst = std::max(1.0, pacing.rate_per_second);
    seconds = std::max(seconds,
                       std::max(0.0, static_cast<double>(jobs) - burst) / pacing.rate_per_second);
  }
  return seconds;
}

}  // namespace reprise::backfill
