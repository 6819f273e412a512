// Time estimates of a backfill: the work of each job, from the stages' past runs, and the
// wall time of all jobs under the run's pacing, dispatched as the Driver dispatches them.
//
// A job runs all of one asset's selected stages in one decode pass, and every stage of
// the pass is recorded from the pass's start to its end (the executor starts every
// derivative before the pass and completes them after it). So a stage's past run time
// already holds the shared decoding and, when it ran beside other stages, their work
// too: summing the stages of a job would count the pass once per stage. A job is
// estimated at its slowest stage instead. That is exact when the history comes from
// passes of the same stages, and low by the other stages' own work when each stage's
// history comes from passes of it alone (the decoding is still counted once). For jobs
// of one stage the service takes, where there are any, the runs of that stage alone in
// its pass (catalog::StageHistoryQuery::alone), so a stage is not charged with the
// others' work of earlier full passes.
//
// The wall time then follows the Driver (driver.h): at most `concurrency` jobs at once,
// starts no faster than the token bucket of `rate_per_second` (full at the start, holding
// max(1, rate) starts) and at least `delay_seconds` apart, and a slot freed by a job
// filled at the driver's next step, `poll_seconds` apart. Jobs are taken as all of the
// mean length.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reprise::backfill {

// One stage's time per run, from its history; both 0 when it has none.
struct StageTime {
  double per_run = 0;           // seconds, for media without a known duration
  double per_media_minute = 0;  // seconds per minute of media; 0: use per_run

  // Seconds for `runs` runs, `without_duration` of them on media of unknown length,
  // over `media_seconds` of media (the others').
  [[nodiscard]] double For(int64_t runs, int64_t without_duration, double media_seconds) const;
};

// The selected stages of each asset, grouped by the set of stages, so the work of a job
// can be its slowest stage without keeping one entry per asset.
class JobTally {
 public:
  // Pairs in scan order: all pairs of one asset come together.
  void Add(std::string_view asset_id, size_t stage_index, std::optional<double> duration_seconds);
  [[nodiscard]] int64_t jobs() const;
  // Seconds of work of all jobs, each at its slowest stage; `stages` by stage index.
  [[nodiscard]] double WorkSeconds(const std::vector<StageTime>& stages) const;
  // Seconds of the runs of stage `index` alone.
  [[nodiscard]] double StageSeconds(size_t index, const StageTime& time) const;

 private:
  struct Shape {
    int64_t jobs = 0;
    int64_t without_duration = 0;
    double media_seconds = 0;
  };
  void Flush();
  [[nodiscard]] std::map<std::vector<size_t>, Shape> Shapes() const;

  std::map<std::vector<size_t>, Shape> shapes_;  // by the stage indexes a job runs
  std::string asset_;
  std::vector<size_t> stages_;
  std::optional<double> duration_;
};

struct Pacing {
  int concurrency = 1;         // jobs at once (the backfill's cap, the worker slots)
  double rate_per_second = 0;  // starts per second; 0: no limit
  double delay_seconds = 0;    // between starts
  double poll_seconds = 0;     // between driver steps
};

// Wall seconds from the first start to the end of the last of `jobs` jobs of
// `seconds_per_job` each.
[[nodiscard]] double PacedSeconds(int64_t jobs, double seconds_per_job, const Pacing& pacing);
// The least the rate and the delay allow for `jobs` starts, however short the jobs and
// however many run at once: (jobs - 1) delays, or the starts beyond the bucket at the rate.
[[nodiscard]] double PacingSeconds(int64_t jobs, const Pacing& pacing);

}  // namespace reprise::backfill
