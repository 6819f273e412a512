// /api/v1/jobs..., /api/v1/queue and /api/v1/stages over real HTTP on loopback, with two
// owners' tokens and an admin.
#include <httplib.h>

#include <string>

#include <gtest/gtest.h>

#include "tests/api/api_fixture.h"

namespace reprise::testing {
namespace {

using nlohmann::json;

class JobsApiTest : public ApiTest {
 protected:
  // Claims every queued job and fails it.
  void FailQueued() {
    catalog::ClaimRequest claim;
    claim.worker_id = "w";
    claim.max_jobs = 100;
    auto jobs = api_.app().catalog().ClaimJobs(claim);
    ASSERT_TRUE(jobs);
    for (const auto& job : *jobs) {
      catalog::JobOutcome outcome;
      outcome.state = catalog::JobState::kFailed;
      outcome.error = Error{ErrorCode::kIo, "disk on fire", ""};
      ASSERT_TRUE(api_.app().catalog().FinishJob(job.id, "w", outcome));
    }
  }
  int64_t OnlyJobOf(const std::string& token) {
    json jobs = JsonOf(Get("/api/v1/jobs", token));
    EXPECT_EQ(jobs["items"].size(), 1u) << jobs.dump(2);
    return jobs["items"].empty() ? 0 : jobs["items"][0]["id"].get<int64_t>();
  }
};

TEST_P(JobsApiTest, JobsAreListedPagedAndScopedByOwner) {
  auto a = Ingest({samples_->Wav(), samples_->Mp3()}, "a");
  auto b = Ingest({samples_->PngImage()}, "b");
  json all = JsonOf(Get("/api/v1/jobs"));
  ASSERT_EQ(all["items"].size(), 3u);
  json first = JsonOf(Get("/api/v1/jobs?limit=2"));
  ASSERT_EQ(first["items"].size(), 2u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  json rest = JsonOf(Get("/api/v1/jobs?limit=2&cursor=" + first["next_cursor"].get<std::string>()));
  ASSERT_EQ(rest["items"].size(), 1u);
  EXPECT_TRUE(rest["next_cursor"].is_null());
  EXPECT_EQ(rest["items"][0]["asset_id"], a[0]);  // newest first

  json theirs = JsonOf(Get("/api/v1/jobs", "tokB"));
  ASSERT_EQ(theirs["items"].size(), 1u);
  EXPECT_EQ(theirs["items"][0]["asset_id"], b[0]);
  EXPECT_EQ(JsonOf(Get("/api/v1/jobs?asset=" + a[1], "tokA"))["items"].size(), 1u);
  EXPECT_EQ(JsonOf(Get("/api/v1/jobs?asset=" + a[1], "tokB"))["items"].size(), 0u);
  EXPECT_EQ(JsonOf(Get("/api/v1/jobs?state=queued&stage=thumbnail"))["items"].size(), 3u);
  EXPECT_EQ(JsonOf(Get("/api/v1/jobs?state=failed"))["items"].size(), 0u);
  EXPECT_TRUE(HasStatus(Get("/api/v1/jobs?owner=a", "tokB"), 403));

  const int64_t id = theirs["items"][0]["id"];
  json one = JsonOf(Get("/api/v1/jobs/" + std::to_string(id), "tokB"));
  EXPECT_EQ(one, theirs["items"][0]);
  EXPECT_TRUE(HasStatus(Get("/api/v1/jobs/" + std::to_string(id), "tokA"), 404));

  for (const char* bad : {"state=sleeping", "limit=0", "limit=-1", "cursor=abc", "stages=x"}) {
    EXPECT_TRUE(HasStatus(Get(std::string("/api/v1/jobs?") + bad), 400)) << bad;
  }
  EXPECT_NE(Message(Get("/api/v1/jobs?state=sleeping")).find("query parameter 'state'"),
            std::string::npos);
  for (const char* bad : {"abc", "0", "-3", "99999999999999999999"}) {
    auto response = Get(std::string("/api/v1/jobs/") + bad);
    EXPECT_TRUE(HasStatus(response, 400)) << bad;
    EXPECT_NE(Message(response).find("job id"), std::string::npos);
  }
  EXPECT_TRUE(HasStatus(Get("/api/v1/jobs/424242"), 404));
}

TEST_P(JobsApiTest, OnlyFailedOrCancelledJobsAreRetried) {
  Ingest({samples_->Wav()}, "a");
  const int64_t id = OnlyJobOf("tokA");
  const std::string path = "/api/v1/jobs/" + std::to_string(id);

  auto refused = Post(path + "/retry", "", "tokA");
  EXPECT_TRUE(HasStatus(refused, 409));
  EXPECT_NE(Message(refused).find("only failed or cancelled"), std::string::npos);
  EXPECT_TRUE(HasStatus(Post(path + "/retry", "", "tokB"), 404));
  EXPECT_TRUE(HasStatus(Post(path + "/cancel", "", "tokB"), 404));

  auto cancelled = Post(path + "/cancel", "", "tokA");
  ASSERT_TRUE(HasStatus(cancelled, 200));
  EXPECT_EQ(JsonOf(cancelled), json({{"id", id}, {"state", "cancelled"}}));
  EXPECT_TRUE(HasStatus(Post(path + "/cancel", "", "tokA"), 409));  // already finished

  auto retried = Post(path + "/retry", "", "tokA");
  ASSERT_TRUE(HasStatus(retried, 200));
  EXPECT_EQ(JsonOf(retried), json({{"retried", 1}}));
  EXPECT_EQ(JsonOf(Get(path, "tokA"))["state"], "queued");
  EXPECT_TRUE(HasStatus(Get(path + "/retry"), 405));
}

TEST_P(JobsApiTest, RetryByFilterTakesTheCommandLinesOptionsStrictly) {
  Ingest({samples_->Wav()}, "a");
  Ingest({samples_->Mp3()}, "b");
  FailQueued();
  EXPECT_TRUE(HasStatus(Post("/api/v1/jobs/retry", R"({"owner":"b"})", "tokA"), 403));
  auto mine = Post("/api/v1/jobs/retry", R"({"stage":"probe"})", "tokA");
  ASSERT_TRUE(HasStatus(mine, 200));
  EXPECT_EQ(JsonOf(mine), json({{"retried", 1}}));
  EXPECT_EQ(JsonOf(Get("/api/v1/jobs?state=failed", "tokB"))["items"].size(), 1u);

  struct Case {
    std::string body;
    std::string named;
  };
  for (const auto& c :
       std::vector<Case>{{R"({"stag":"probe"})", "'stag'"},
                         {R"({"stage":3})", "'stage'"},
                         {R"({"owner":["a"]})", "'owner'"},
                         {R"([1,2])", "object"},
                         {R"({"stage":)", "not valid JSON"},
                         {std::string(100, '[') + std::string(100, ']'), "deeper"}}) {
    auto response = Post("/api/v1/jobs/retry", c.body);
    EXPECT_TRUE(HasStatus(response, 400)) << c.body;
    EXPECT_NE(Message(response).find(c.named), std::string::npos)
        << c.body << ": " << Message(response);
  }
  // No body: every failed job the caller sees.
  auto rest = Post("/api/v1/jobs/retry");
  ASSERT_TRUE(HasStatus(rest, 200));
  EXPECT_EQ(JsonOf(rest), json({{"retried", 1}}));
}

TEST_P(JobsApiTest, QueueAndStagesCountOnlyWhatTheCallerSees) {
  // b's first: a processing pool runs whatever is queued, not only what it was given.
  Ingest({samples_->PngImage()}, "b", /*process=*/true);
  Ingest({samples_->Wav(), samples_->Mp3()}, "a");
  json queue_a = JsonOf(Get("/api/v1/queue", "tokA"));
  EXPECT_EQ(queue_a["depth"]["probe"]["queued"], 2) << queue_a.dump(2);
  EXPECT_TRUE(queue_a["backfills_waiting"].is_array());
  EXPECT_TRUE(queue_a["oldest_waiting_seconds"].is_number());
  json queue_b = JsonOf(Get("/api/v1/queue", "tokB"));
  EXPECT_TRUE(queue_b["depth"].empty()) << queue_b.dump(2);
  EXPECT_TRUE(queue_b["oldest_waiting_seconds"].is_null());
  EXPECT_EQ(JsonOf(Get("/api/v1/queue"))["depth"]["probe"]["queued"], 2);
  EXPECT_TRUE(HasStatus(Get("/api/v1/queue?owner=a", "tokB"), 403));
  EXPECT_TRUE(HasStatus(Get("/api/v1/queue?ownr=a"), 400));

  auto count = [](const json& stages, const std::string& name, const std::string& field) {
    for (const auto& stage : stages) {
      if (stage["name"] == name) return stage["counts"][field].get<int64_t>();
    }
    ADD_FAILURE() << "no stage " << name;
    return int64_t{-1};
  };
  json stages_a = JsonOf(Get("/api/v1/stages", "tokA"));
  EXPECT_EQ(count(stages_a, "probe", "missing"), 2);
  EXPECT_EQ(count(stages_a, "probe", "current"), 0);
  json stages_b = JsonOf(Get("/api/v1/stages", "tokB"));
  EXPECT_EQ(count(stages_b, "probe", "current"), 1);
  EXPECT_EQ(count(stages_b, "probe", "missing"), 0);
  json narrowed = JsonOf(Get("/api/v1/stages?owner=b"));
  EXPECT_EQ(narrowed, stages_b);
  EXPECT_TRUE(HasStatus(Get("/api/v1/stages?owner=b", "tokA"), 403));
  EXPECT_TRUE(HasStatus(Get("/api/v1/stages", "nobody"), 401));
}

INSTANTIATE_TEST_SUITE_P(Backends, JobsApiTest, ::testing::ValuesIn(ApiBackends()), ApiBackendName);

}  // namespace
}  // namespace reprise::testing
