// Metrics: the process's Prometheus metrics, kept in a prometheus::Registry
// (prometheus-cpp) and written out in the text exposition format by its TextSerializer.
//
// Two kinds of series:
// - counters and histograms fed as things happen, cheap enough for hot paths (a label
//   lookup and an atomic add): HTTP requests by method, route pattern and status with a
//   latency histogram by route; jobs finished by stage and outcome; stage runs by stage
//   and state with a duration histogram by stage;
// - gauges read at scrape time from a Collector (the App's, over the catalog): queue depth
//   by stage and state, the age of the oldest waiting job, and the items of every
//   backfill that has not ended by outcome. Each scrape replaces them whole, so a stage
//   whose queue emptied or a backfill that ended drops out instead of going stale. A
//   collector that fails counts in reprise_scrape_errors_total and leaves the gauges of
//   the previous scrape.
//
// Route labels are patterns ("/api/v1/assets/{id}"), never raw paths, so the number of
// series stays bounded. Metrics does no I/O of its own; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace reprise::metrics {

// What the scrape-time gauges show.
struct Snapshot {
  struct QueueDepth {
    std::string stage;
    std::string state;  // "queued", "running", "failed"
    int64_t jobs = 0;
  };
  struct Backfill {
    int64_t id = 0;
    std::string state;                        // "running", "paused", ...
    int64_t items = 0;                        // planned items
    std::map<std::string, int64_t> outcomes;  // items by outcome ("processed", ...)
  };
  std::vector<QueueDepth> queue;
  double oldest_queued_seconds = 0;  // 0 when nothing waits
  std::vector<Backfill> backfills;   // those that have not ended
};

class Metrics final {
 public:
  using Collector = std::function<Result<Snapshot>()>;

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One answered HTTP request: `route` is the matched pattern ("" when none matched,
  // shown as "unmatched").
  void ObserveRequest(std::string_view method, std::string_view route, int status, double seconds);
  // A job whose lease ended with `outcome` (queue::OutcomeName), counted once for each
  // of its stages.
  void ObserveJob(const std::vector<std::string>& stages, std::string_view outcome);
  // One stage run that ended in `state` ("done", "failed", "skipped") after `seconds`.
  void ObserveStage(std::string_view stage, std::string_view state, double seconds);

  // Set once, before the first scrape.
  void SetCollector(Collector collector);

  // Runs the collector, then writes every series in the Prometheus text format.
  [[nodiscard]] std::string Scrape();

  // The exposition's Content-Type.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void Refresh();

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* request_seconds_;
  prometheus::Family<prometheus::Counter>* jobs_;
  prometheus::Family<prometheus::Counter>* stage_runs_;
  prometheus::Family<prometheus::Histogram>* stage_seconds_;
  prometheus::Family<prometheus::Gauge>* queue_depth_;
  prometheus::Family<prometheus::Gauge>* oldest_queued_;
  prometheus::Family<prometheus::Gauge>* backfill_items_;
  prometheus::Family<prometheus::Counter>* scrape_errors_;

  std::mutex scrape_mutex_;  // one scrape at a time; guards the gauges below
  Collector collector_;
  // The snapshot's series, each with its family, removed at the next scrape.
  std::vector<std::pair<prometheus::Family<prometheus::Gauge>*, prometheus::Gauge*>> gauges_;
};

}  // namespace reprise::metrics
