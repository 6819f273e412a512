#include "metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace reprise::metrics {
namespace {

using prometheus::Histogram;

// From a health check (well under a millisecond) to a slow upload.
const Histogram::BucketBoundaries& RequestBuckets() {
  static const Histogram::BucketBoundaries kBuckets{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return kBuckets;
}

// From a probe of a small file to an HLS encode of a long video.
const Histogram::BucketBoundaries& StageBuckets() {
  static const Histogram::BucketBoundaries kBuckets{0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5, 5,
                                                    10,   30,   60,  120,  300, 900, 3600};
  return kBuckets;
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("reprise_http_requests_total")
                   .Help("HTTP requests answered, by method, route pattern and status")
                   .Register(*registry_);
  request_seconds_ = &prometheus::BuildHistogram()
                          .Name("reprise_http_request_duration_seconds")
                          .Help("Time to answer an HTTP request, by method and route pattern")
                          .Register(*registry_);
  jobs_ = &prometheus::BuildCounter()
               .Name("reprise_jobs_finished_total")
               .Help("Job leases ended, once per stage of the job, by stage and outcome")
               .Register(*registry_);
  stage_runs_ = &prometheus::BuildCounter()
                     .Name("reprise_stage_runs_total")
                     .Help("Stage runs ended, by stage and state (done, failed, skipped)")
                     .Register(*registry_);
  stage_seconds_ =
      &prometheus::BuildHistogram()
           .Name("reprise_stage_duration_seconds")
           .Help(
               "Wall time of the run a stage was part of (the stages of a job share one "
               "decode pass), by stage")
           .Register(*registry_);
  queue_depth_ = &prometheus::BuildGauge()
                      .Name("reprise_queue_jobs")
                      .Help("Jobs in the queue by stage and state, read at scrape time")
                      .Register(*registry_);
  oldest_queued_ = &prometheus::BuildGauge()
                        .Name("reprise_queue_oldest_queued_seconds")
                        .Help("Age of the oldest job waiting to run (0: none)")
                        .Register(*registry_);
  backfill_items_ = &prometheus::BuildGauge()
                         .Name("reprise_backfill_items")
                         .Help(
                             "Items of each backfill that has not ended, by outcome "
                             "(\"planned\": all its items)")
                         .Register(*registry_);
  scrape_errors_ = &prometheus::BuildCounter()
                        .Name("reprise_scrape_errors_total")
                        .Help("Scrapes whose catalog gauges could not be read")
                        .Register(*registry_);
}

Metrics::~Metrics() = default;

void Metrics::ObserveRequest(std::string_view method, std::string_view route, int status,
                             double seconds) {
  std::string pattern = route.empty() ? "unmatched" : std::string(route);
  requests_
      ->Add(
          {{"method", std::string(method)}, {"route", pattern}, {"status", std::to_string(status)}})
      .Increment();
  request_seconds_->Add({{"method", std::string(method)}, {"route", pattern}}, RequestBuckets())
      .Observe(seconds);
}

void Metrics::ObserveJob(const std::vector<std::string>& stages, std::string_view outcome) {
  for (const auto& stage : stages) {
    jobs_->Add({{"stage", stage}, {"outcome", std::string(outcome)}}).Increment();
  }
}

void Metrics::ObserveStage(std::string_view stage, std::string_view state, double seconds) {
  stage_runs_->Add({{"stage", std::string(stage)}, {"state", std::string(state)}}).Increment();
  stage_seconds_->Add({{"stage", std::string(stage)}}, StageBuckets()).Observe(seconds);
}

void Metrics::SetCollector(Collector collector) {
  std::lock_guard lock(scrape_mutex_);
  collector_ = std::move(collector);
}

void Metrics::Refresh() {
  if (!collector_) return;
  auto snapshot = collector_();
  if (!snapshot) {
    scrape_errors_->Add({}).Increment();
    return;
  }
  // Series of the previous snapshot go: what is not in this one is over.
  for (auto [family, gauge] : gauges_) family->Remove(gauge);
  gauges_.clear();
  auto set = [&](prometheus::Family<prometheus::Gauge>& family, const prometheus::Labels& labels,
                 double value) {
    prometheus::Gauge& gauge = family.Add(labels);
    gauge.Set(value);
    gauges_.emplace_back(&family, &gauge);
  };
  for (const auto& depth : snapshot->queue) {
    set(*queue_depth_, {{"stage", depth.stage}, {"state", depth.state}},
        static_cast<double>(depth.jobs));
  }
  set(*oldest_queued_, {}, snapshot->oldest_queued_seconds);
  for (const auto& backfill : snapshot->backfills) {
    std::string id = std::to_string(backfill.id);
    set(*backfill_items_, {{"backfill", id}, {"state", backfill.state}, {"outcome", "planned"}},
        static_cast<double>(backfill.items));
    for (const auto& [outcome, count] : backfill.outcomes) {
      set(*backfill_items_, {{"backfill", id}, {"state", backfill.state}, {"outcome", outcome}},
          static_cast<double>(count));
    }
  }
}

std::string Metrics::Scrape() {
  std::lock_guard lock(scrape_mutex_);
  Refresh();
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace reprise::metrics
