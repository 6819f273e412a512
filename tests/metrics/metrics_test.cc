// Metrics: what the registry holds after observations and scrapes, read back from the
// Prometheus text format the TextSerializer writes.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include "tests/support/prometheus_text.h"

namespace reprise::metrics {
namespace {

using testing::ParsePromText;
using testing::PromHas;
using testing::PromValue;

TEST(Metrics, RequestsCountByMethodRouteAndStatusWithALatencyHistogram) {
  Metrics metrics;
  metrics.ObserveRequest("GET", "/api/v1/assets/{id}", 200, 0.002);
  metrics.ObserveRequest("GET", "/api/v1/assets/{id}", 200, 0.003);
  metrics.ObserveRequest("GET", "/api/v1/assets/{id}", 404, 0.001);
  metrics.ObserveRequest("GET", "", 404, 0.0001);
  auto samples = ParsePromText(metrics.Scrape());
  EXPECT_EQ(PromValue(samples, "reprise_http_requests_total",
                      {{"method", "GET"}, {"route", "/api/v1/assets/{id}"}, {"status", "200"}}),
            2);
  EXPECT_EQ(PromValue(samples, "reprise_http_requests_total",
                      {{"route", "/api/v1/assets/{id}"}, {"status", "404"}}),
            1);
  EXPECT_EQ(PromValue(samples, "reprise_http_requests_total", {{"route", "unmatched"}}), 1);
  EXPECT_EQ(PromValue(samples, "reprise_http_request_duration_seconds_count",
                      {{"route", "/api/v1/assets/{id}"}}),
            3);
  EXPECT_NEAR(PromValue(samples, "reprise_http_request_duration_seconds_sum",
                        {{"route", "/api/v1/assets/{id}"}}),
              0.006, 1e-9);
  // Two of the three within 2.5 ms, all within 5 ms.
  EXPECT_EQ(PromValue(samples, "reprise_http_request_duration_seconds_bucket",
                      {{"route", "/api/v1/assets/{id}"}, {"le", "0.0025"}}),
            2);
  EXPECT_EQ(PromValue(samples, "reprise_http_request_duration_seconds_bucket",
                      {{"route", "/api/v1/assets/{id}"}, {"le", "0.005"}}),
            3);
}

TEST(Metrics, JobsCountOncePerStageAndStageRunsHaveDurations) {
  Metrics metrics;
  metrics.ObserveJob({"probe", "thumbnail"}, "succeeded");
  metrics.ObserveJob({"probe"}, "retry");
  metrics.ObserveStage("probe", "done", 0.2);
  metrics.ObserveStage("thumbnail", "failed", 1.5);
  auto samples = ParsePromText(metrics.Scrape());
  EXPECT_EQ(PromValue(samples, "reprise_jobs_finished_total",
                      {{"stage", "probe"}, {"outcome", "succeeded"}}),
            1);
  EXPECT_EQ(PromValue(samples, "reprise_jobs_finished_total",
                      {{"stage", "thumbnail"}, {"outcome", "succeeded"}}),
            1);
  EXPECT_EQ(
      PromValue(samples, "reprise_jobs_finished_total", {{"stage", "probe"}, {"outcome", "retry"}}),
      1);
  EXPECT_EQ(
      PromValue(samples, "reprise_stage_runs_total", {{"stage", "thumbnail"}, {"state", "failed"}}),
      1);
  EXPECT_EQ(PromValue(samples, "reprise_stage_duration_seconds_count", {{"stage", "probe"}}), 1);
  EXPECT_EQ(PromValue(samples, "reprise_stage_duration_seconds_bucket",
                      {{"stage", "thumbnail"}, {"le", "1"}}),
            0);
  EXPECT_EQ(PromValue(samples, "reprise_stage_duration_seconds_bucket",
                      {{"stage", "thumbnail"}, {"le", "2.5"}}),
            1);
}

TEST(Metrics, GaugesComeFromTheCollectorAtEachScrapeAndSeriesThatEndedGo) {
  Metrics metrics;
  int scrapes = 0;
  metrics.SetCollector([&]() -> Result<Snapshot> {
    ++scrapes;
    Snapshot snapshot;
    if (scrapes == 1) {
      snapshot.queue = {{"probe", "queued", 4}, {"hls", "running", 1}};
      snapshot.oldest_queued_seconds = 12.5;
      snapshot.backfills = {{7, "running", 10, {{"processed", 3}, {"pending", 7}}}};
    } else {
      snapshot.queue = {{"probe", "queued", 1}};
    }
    return snapshot;
  });
  auto first = ParsePromText(metrics.Scrape());
  EXPECT_EQ(PromValue(first, "reprise_queue_jobs", {{"stage", "probe"}, {"state", "queued"}}), 4);
  EXPECT_EQ(PromValue(first, "reprise_queue_jobs", {{"stage", "hls"}, {"state", "running"}}), 1);
  EXPECT_EQ(PromValue(first, "reprise_queue_oldest_queued_seconds"), 12.5);
  EXPECT_EQ(PromValue(first, "reprise_backfill_items", {{"backfill", "7"}, {"outcome", "planned"}}),
            10);
  EXPECT_EQ(
      PromValue(first, "reprise_backfill_items", {{"backfill", "7"}, {"outcome", "processed"}}), 3);

  auto second = ParsePromText(metrics.Scrape());
  EXPECT_EQ(PromValue(second, "reprise_queue_jobs", {{"stage", "probe"}, {"state", "queued"}}), 1);
  EXPECT_FALSE(PromHas(second, "reprise_queue_jobs", {{"stage", "hls"}}));
  EXPECT_FALSE(PromHas(second, "reprise_backfill_items", {{"backfill", "7"}}));
  EXPECT_EQ(PromValue(second, "reprise_queue_oldest_queued_seconds"), 0);
}

TEST(Metrics, AFailingCollectorCountsAnErrorAndKeepsTheLastGauges) {
  Metrics metrics;
  bool fail = false;
  metrics.SetCollector([&]() -> Result<Snapshot> {
    if (fail) return Fail(ErrorCode::kUnavailable, "catalog is locked");
    Snapshot snapshot;
    snapshot.queue = {{"probe", "queued", 2}};
    return snapshot;
  });
  ASSERT_EQ(PromValue(ParsePromText(metrics.Scrape()), "reprise_scrape_errors_total"), 0);
  fail = true;
  auto samples = ParsePromText(metrics.Scrape());
  EXPECT_EQ(PromValue(samples, "reprise_scrape_errors_total"), 1);
  EXPECT_EQ(PromValue(samples, "reprise_queue_jobs", {{"stage", "probe"}}), 2);
}

TEST(Metrics, TheExpositionHasHelpAndTypeLines) {
  Metrics metrics;
  metrics.ObserveRequest("GET", "/healthz", 200, 0.001);
  std::string text = metrics.Scrape();
  EXPECT_NE(text.find("# TYPE reprise_http_requests_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE reprise_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("# HELP reprise_http_requests_total "), std::string::npos);
}

}  // namespace
}  // namespace reprise::metrics
