// GET /metrics over real HTTP on loopback, after real requests and an uploaded asset
// processed by a worker pool of the same App: the series name route patterns and stages
// with the counts that happened.
#include <httplib.h>

#include <gtest/gtest.h>

#include "queue/process.h"
#include "tests/support/api_server.h"
#include "tests/support/media_suite.h"
#include "tests/support/prometheus_text.h"

namespace reprise::http {
namespace {

using testing::ParsePromText;
using testing::PromHas;
using testing::PromValue;

class MetricsRouteTest : public testing::MediaSuite {};

TEST_F(MetricsRouteTest, CountersNameRoutePatternsAndStagesAfterRequestsAndAProcessedAsset) {
  testing::ApiServer api([](Config& c) { c.pipeline_stages = {"probe", "thumbnail"}; });
  ASSERT_TRUE(api.ok());
  auto client = api.Client();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->Get("/healthz"));
  ASSERT_TRUE(client->Get("/no/such/route"));
  auto uploaded = client->Post("/api/v1/assets?name=clip.mp4",
                               testing::ReadFile(samples_->H264AacMp4()), "video/mp4");
  ASSERT_TRUE(uploaded);
  ASSERT_EQ(uploaded->status, 201) << uploaded->body;
  std::string key = testing::JsonOf(uploaded)["asset"]["original"]["key"];
  auto url = api.context().signer->Sign(key);
  ASSERT_TRUE(url);
  auto blob = client->Get(url->c_str());
  ASSERT_TRUE(blob);
  ASSERT_EQ(blob->status, 200);

  auto before = client->Get("/metrics");
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200);
  EXPECT_EQ(before->get_header_value("Content-Type"), metrics::Metrics::kContentType);
  auto queued = ParsePromText(before->body);
  EXPECT_EQ(PromValue(queued, "reprise_http_requests_total",
                      {{"method", "GET"}, {"route", "/healthz"}, {"status", "200"}}),
            3);
  EXPECT_EQ(
      PromValue(queued, "reprise_http_requests_total", {{"route", "unmatched"}, {"status", "404"}}),
      1);
  EXPECT_EQ(PromValue(queued, "reprise_http_requests_total",
                      {{"method", "POST"}, {"route", "/api/v1/assets"}, {"status", "201"}}),
            1);
  EXPECT_EQ(PromValue(queued, "reprise_http_requests_total",
                      {{"route", "/blobs/{key...}"}, {"status", "200"}}),
            1);
  EXPECT_EQ(
      PromValue(queued, "reprise_http_request_duration_seconds_count", {{"route", "/healthz"}}), 3);
  EXPECT_FALSE(PromHas(queued, "reprise_http_requests_total", {{"route", "/no/such/route"}}))
      << "raw paths never become labels";
  EXPECT_EQ(PromValue(queued, "reprise_queue_jobs", {{"stage", "probe"}, {"state", "queued"}}), 1);
  EXPECT_EQ(PromValue(queued, "reprise_queue_jobs", {{"stage", "thumbnail"}, {"state", "queued"}}),
            1);
  EXPECT_EQ(PromValue(queued, "reprise_jobs_finished_total"), 0);

  auto processed = api.app().processor().Run(queue::ProcessOptions{});
  ASSERT_TRUE(processed) << processed.error().ToString();
  ASSERT_EQ(processed->jobs, 1);
  ASSERT_EQ(processed->jobs_failed, 0);

  auto after = client->Get("/metrics");
  ASSERT_TRUE(after);
  auto done = ParsePromText(after->body);
  EXPECT_EQ(PromValue(done, "reprise_jobs_finished_total",
                      {{"stage", "probe"}, {"outcome", "succeeded"}}),
            1);
  EXPECT_EQ(PromValue(done, "reprise_jobs_finished_total",
                      {{"stage", "thumbnail"}, {"outcome", "succeeded"}}),
            1);
  EXPECT_EQ(PromValue(done, "reprise_stage_runs_total", {{"stage", "probe"}, {"state", "done"}}),
            1);
  EXPECT_EQ(
      PromValue(done, "reprise_stage_runs_total", {{"stage", "thumbnail"}, {"state", "done"}}), 1);
  EXPECT_EQ(PromValue(done, "reprise_stage_duration_seconds_count", {{"stage", "thumbnail"}}), 1);
  EXPECT_EQ(PromValue(done, "reprise_queue_jobs", {{"state", "queued"}}), 0);
  EXPECT_EQ(
      PromValue(done, "reprise_http_requests_total", {{"route", "/metrics"}, {"status", "200"}}), 1)
      << "the first scrape, counted once answered";
}

}  // namespace
}  // namespace reprise::http
