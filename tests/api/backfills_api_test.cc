// /api/v1/backfills, /api/v1/rollbacks and /api/v1/process over real HTTP on loopback,
// against a real SQLite catalog and blob directory holding real media: the plan, a
// detached start run to the end by the worker pool and backfill pump `serve` runs, the
// state machine's refusals, paging, owner scoping with two owners and an admin, and
// malformed bodies.
#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/api/api_fixture.h"
#include "tests/support/api_server.h"
#include "tests/support/media_suite.h"

namespace reprise::http {
namespace {

using nlohmann::json;
using testing::JsonOf;

class BackfillsApiTest : public testing::MediaSuite,
                         public ::testing::WithParamInterface<testing::ApiBackend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(api_.ok());
    // Owner a: two videos and a sound; owner b: one video.
    a_videos_ = {Ingest(samples_->H264AacMp4(), "a"), Ingest(samples_->Vp9OpusWebm(), "a")};
    Ingest(samples_->Mp3(), "a");
    b_video_ = Ingest(samples_->VideoOnlyMp4(), "b");
  }

  std::string Ingest(const std::string& path, const std::string& owner) {
    ingest::Options options;
    options.owner = owner;
    auto item = api_.app().ingestor().IngestFile(path, options);
    EXPECT_TRUE(item.asset) << (item.error ? item.error->ToString() : item.skip_reason);
    return item.asset ? item.asset->id : std::string();
  }

  httplib::Result Post(const std::string& token, const std::string& path, const std::string& body) {
    return api_.Client(token)->Post(path, body, "application/json");
  }
  httplib::Result Get(const std::string& token, const std::string& path) {
    return api_.Client(token)->Get(path);
  }

  // Starts a thumbnail backfill for `token` and returns its id.
  int64_t StartThumbnails(const std::string& token, const std::string& extra = "") {
    auto response = Post(token, "/api/v1/backfills", R"({"stages": ["thumbnail"])" + extra + "}");
    EXPECT_TRUE(response);
    if (!response) return 0;
    EXPECT_EQ(response->status, 202) << response->body;
    return JsonOf(response).value("id", int64_t{0});
  }

  static int StatusOf(const httplib::Result& response) { return response ? response->status : 0; }
  static std::string ErrorMessage(const httplib::Result& response) {
    json body = JsonOf(response);
    return body.is_object() ? body["error"].value("message", "") : "";
  }

  // The pump of `serve` looks for undriven backfills every queue.poll_seconds.
  testing::ApiServer api_{GetParam(), [](Config& config) { config.queue.poll_seconds = 0.05; },
                          testing::TwoOwnerTokens()};
  std::vector<std::string> a_videos_;
  std::string b_video_;
};

TEST_P(BackfillsApiTest, ADryRunAnswersThePlanOfTheCommandLineAndStartsNothing) {
  auto response =
      Post("admin", "/api/v1/backfills", R"({"stages": ["thumbnail"], "dry_run": true})");
  ASSERT_EQ(StatusOf(response), 200) << response->body;
  json plan = JsonOf(response);
  // Whether a picture can come out of the sound is known once its stage has run.
  EXPECT_EQ(plan["items"], 4);
  EXPECT_EQ(plan["assets_seen"], 4);

  services::BackfillSpec spec;
  spec.stages = {"thumbnail"};
  auto expected = api_.app().backfill_service().Plan(services::Caller::Admin(), spec);
  ASSERT_TRUE(expected) << expected.error().ToString();
  EXPECT_EQ(plan, services::PlanJson(*expected)) << "the view `backfill --dry-run --json` prints";
  EXPECT_EQ(JsonOf(Get("admin", "/api/v1/backfills"))["items"], json::array());

  // Nothing selected: the plan says which filter emptied it.
  json empty = JsonOf(Post("admin", "/api/v1/backfills",
                           R"({"stages": ["thumbnail"], "kind": "image", "dry_run": true})"));
  EXPECT_EQ(empty["items"], 0);
  ASSERT_TRUE(empty.contains("empty_because")) << empty.dump();
  EXPECT_EQ(empty["empty_because"][0]["filter"], "--kind");
}

TEST_P(BackfillsApiTest, AStartAnswers202WithItsLocationAndServesWorkersRunItToTheEnd) {
  auto response = Post("tokA", "/api/v1/backfills",
                       R"({"stages": ["thumbnail"], "mode": "missing", "rate": "600/m",
                           "priority": 5, "skip_reset": true})");
  ASSERT_EQ(StatusOf(response), 202) << response->body;
  json created = JsonOf(response);
  const std::string location = "/api/v1/backfills/" + std::to_string(created["id"].get<int64_t>());
  EXPECT_EQ(response->get_header_value("Location"), location);
  EXPECT_EQ(created["state"], "running");
  EXPECT_EQ(created["owner"], "a");
  EXPECT_EQ(created["mode"], "missing");
  EXPECT_DOUBLE_EQ(created["options"]["rate_per_second"].get<double>(), 10.0);
  EXPECT_EQ(created["options"]["priority"], 5);
  EXPECT_EQ(created["options"]["skip_reset"], true);

  json status = JsonOf(Get("tokA", location));
  EXPECT_EQ(status["progress"]["total"], 3) << "owner a's assets only";
  EXPECT_EQ(status["progress"]["outcomes"]["pending"], 3);
  EXPECT_TRUE(status["progress"].contains("eta_seconds"));
  EXPECT_TRUE(status["driver_lease"]["waiting_for_worker"].get<bool>()) << status.dump(2);

  // What `serve` runs beside the API: a worker pool and the backfill pump.
  auto options = api_.app().WorkerDefaults();
  options.concurrency = 2;
  options.poll_micros = 20'000;
  auto worker = api_.app().NewWorker(options);
  ASSERT_TRUE(worker->Start());
  auto pump = api_.app().NewBackfillPump(options.lease_micros);
  pump->SetOnDispatch([&worker] { worker->Wake(); });
  pump->Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (status["state"] == "running" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = JsonOf(Get("tokA", location));
  }
  pump->Stop();
  worker->Shutdown();
  EXPECT_EQ(status["state"], "succeeded") << status.dump(2);
  EXPECT_EQ(status["progress"]["outcomes"]["processed"], 2) << "the videos";
  EXPECT_EQ(status["progress"]["outcomes"]["skipped"], 1) << "the sound: no picture";
  EXPECT_TRUE(status["progress"]["eta_seconds"].is_null()) << "it has ended";
  EXPECT_TRUE(status["driver_lease"].is_null());

  json diff = JsonOf(Get("tokA", location + "/diff"));
  EXPECT_EQ(diff["frozen"], 3);
  EXPECT_EQ(diff["live"], 0) << "nothing is missing now";
  EXPECT_EQ(diff["only_frozen"], 3);
}

TEST_P(BackfillsApiTest, AnOwnerSeesAndSteersOnlyItsOwnBackfillsAndAnAdminSeesAll) {
  const int64_t a = StartThumbnails("tokA");
  const int64_t b = StartThumbnails("tokB");
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  const std::string a_path = "/api/v1/backfills/" + std::to_string(a);

  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", a_path},
                                                        {"GET", a_path + "/diff"},
                                                        {"POST", a_path + "/pause"},
                                                        {"POST", a_path + "/resume"},
                                                        {"POST", a_path + "/cancel"}}) {
    auto response = method == "GET" ? Get("tokB", path) : Post("tokB", path, "");
    EXPECT_EQ(StatusOf(response), 404) << method << " " << path << ": " << response->body;
  }
  json b_list = JsonOf(Get("tokB", "/api/v1/backfills"))["items"];
  ASSERT_EQ(b_list.size(), 1u);
  EXPECT_EQ(b_list[0]["id"], b);
  EXPECT_EQ(b_list[0]["progress"]["total"], 1) << "b's one video";
  json admin_list = JsonOf(Get("admin", "/api/v1/backfills"))["items"];
  ASSERT_EQ(admin_list.size(), 2u);
  EXPECT_EQ(admin_list[0]["id"], b) << "newest first";
  EXPECT_EQ(admin_list[1]["id"], a);
  json narrowed = JsonOf(Get("admin", "/api/v1/backfills?owner=a"))["items"];
  ASSERT_EQ(narrowed.size(), 1u);
  EXPECT_EQ(narrowed[0]["id"], a);
  EXPECT_EQ(StatusOf(Get("admin", a_path)), 200);
  EXPECT_EQ(StatusOf(Get("tokA", "/api/v1/backfills?owner=b")), 403);

  // A non-admin cannot start a backfill for another owner; an admin can.
  EXPECT_EQ(StatusOf(Post("tokA", "/api/v1/backfills", R"({"stages": ["thumbnail"], "owner": "b",
                                                         "dry_run": true})")),
            403);
  json for_b = JsonOf(
      Post("admin", "/api/v1/backfills", R"({"all_stages": true, "owner": "b", "dry_run": true})"));
  EXPECT_EQ(for_b["assets_seen"], 1) << for_b.dump();
  // Without a token, or with an unknown one: 401.
  EXPECT_EQ(StatusOf(Get("", "/api/v1/backfills")), 401);
  EXPECT_EQ(StatusOf(Get("tokC", "/api/v1/backfills")), 401);
}

TEST_P(BackfillsApiTest, PauseResumeAndCancelRefuseMovesTheStateDoesNotAllowWith409) {
  const std::string path = "/api/v1/backfills/" + std::to_string(StartThumbnails("tokA"));
  auto paused = Post("tokA", path + "/pause", "");
  ASSERT_EQ(StatusOf(paused), 200) << paused->body;
  EXPECT_EQ(JsonOf(paused)["state"], "paused");
  auto again = Post("tokA", path + "/pause", "");
  EXPECT_EQ(StatusOf(again), 409);
  EXPECT_EQ(JsonOf(again)["error"]["code"], "conflict");
  EXPECT_NE(ErrorMessage(again).find("already paused"), std::string::npos) << again->body;

  auto resumed = Post("tokA", path + "/resume", "");
  ASSERT_EQ(StatusOf(resumed), 200) << resumed->body;
  EXPECT_EQ(JsonOf(resumed)["state"], "running");

  auto cancelled = Post("tokA", path + "/cancel", "");
  ASSERT_EQ(StatusOf(cancelled), 200) << cancelled->body;
  EXPECT_EQ(JsonOf(cancelled)["state"], "cancelled") << "no job held an item: at once";
  for (const char* verb : {"/cancel", "/pause", "/resume"}) {
    auto refused = Post("tokA", path + verb, "");
    EXPECT_EQ(StatusOf(refused), 409) << verb << ": " << refused->body;
  }
  json status = JsonOf(Get("tokA", path));
  EXPECT_EQ(status["progress"]["outcomes"]["cancelled"], 3);
}

TEST_P(BackfillsApiTest, MalformedBodiesAnswer400NamingWhatIsWrong) {
  for (const auto& [body, word] : std::vector<std::pair<std::string, std::string>>{
           {R"({"stagse": ["thumbnail"]})", "stagse"},
           {R"({"stages": "thumbnail"})", "stages"},
           {R"({"stages": ["thumbnail"], "limit": "ten"})", "limit"},
           {R"({"stages": ["thumbnail"], "limit": 0})", "limit"},
           {R"({"stages": ["thumbnail"], "dry_run": "yes"})", "dry_run"},
           {R"({"stages": ["thumbnail"], "mode": "sometimes"})", "sometimes"},
           {R"({"stages": ["thumbnail"], "mode": "missing", "force": true})", "force"},
           {R"({"stages": ["thumbnail"], "rate": "5/week"})", "rate"},
           {R"({"stages": ["thumbnail"], "rate": [5]})", "rate"},
           {R"({"stages": ["thumbnail"], "delay": -1})", "delay"},
           {R"({"stages": ["thumbnail"], "where": "duration >"})", "field 'where'"},
           {R"({"stages": ["thumbnail"], "kind": "hologram"})", "field 'kind'"},
           {R"({"stages": ["thumbnail"], "created_after": "yesterday"})", "field 'created_after'"},
           {R"({"stages": ["no-such-stage"]})", "no-such-stage"},
           {R"({})", "all_stages"},
           {R"({"stages": ["thumbnail"],)", "JSON"},
           {R"([])", "object"},
           {"", "empty"}}) {
    auto response = Post("tokA", "/api/v1/backfills", body);
    EXPECT_EQ(StatusOf(response), 400) << body << ": " << response->body;
    EXPECT_NE(ErrorMessage(response).find(word), std::string::npos)
        << word << " in " << response->body;
  }
  EXPECT_EQ(JsonOf(Get("admin", "/api/v1/backfills"))["items"], json::array())
      << "nothing was started";

  for (const auto& [body, word] : std::vector<std::pair<std::string, std::string>>{
           {R"({"dry_run": true})", "stage"},
           {R"({"stage": "thumbnail", "to": "x"})", "'to'"},
           {R"({"stage": 3})", "stage"},
           {R"({"stage": "no-such-stage", "dry_run": true})", "no-such-stage"},
           {R"({"stage": "thumbnail", "status": "done"})", "field 'status'"}}) {
    auto response = Post("tokA", "/api/v1/rollbacks", body);
    EXPECT_EQ(StatusOf(response), 400) << body << ": " << response->body;
    EXPECT_NE(ErrorMessage(response).find(word), std::string::npos) << response->body;
  }
  for (const auto& [body, word] : std::vector<std::pair<std::string, std::string>>{
           {R"({"stage": ["thumbnail"]})", "'stage'"},
           {R"({"retry_failed": 1})", "retry_failed"},
           {R"({"stages": ["no-such-stage"]})", "no-such-stage"}}) {
    auto response = Post("tokA", "/api/v1/process", body);
    EXPECT_EQ(StatusOf(response), 400) << body << ": " << response->body;
    EXPECT_NE(ErrorMessage(response).find(word), std::string::npos) << response->body;
  }
  EXPECT_EQ(StatusOf(Get("tokA", "/api/v1/backfills/abc")), 400);
  EXPECT_EQ(StatusOf(Get("tokA", "/api/v1/backfills/999")), 404);
  EXPECT_EQ(StatusOf(Get("tokA", "/api/v1/backfills?limit=0")), 400);
  EXPECT_EQ(StatusOf(Get("tokA", "/api/v1/backfills?cursor=zz")), 400);
  auto typo = Get("tokA", "/api/v1/backfills?lmit=2");
  EXPECT_EQ(StatusOf(typo), 400);
  EXPECT_NE(ErrorMessage(typo).find("lmit"), std::string::npos) << typo->body;
  EXPECT_EQ(StatusOf(Get("tokA", "/api/v1/backfills/1?verbose=1")), 400);
}

TEST_P(BackfillsApiTest, TheListPagesNewestFirstByCursor) {
  std::vector<int64_t> ids;
  for (const char* stage : {"probe", "thumbnail", "cover"}) {
    auto response =
        Post("admin", "/api/v1/backfills", std::string(R"({"stages": [")") + stage + R"("]})");
    ASSERT_EQ(StatusOf(response), 202) << response->body;
    ids.push_back(JsonOf(response)["id"]);
  }
  auto first = Get("admin", "/api/v1/backfills?limit=2");
  ASSERT_EQ(StatusOf(first), 200);
  json page = JsonOf(first);
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["items"][0]["id"], ids[2]);
  EXPECT_EQ(page["items"][1]["id"], ids[1]);
  ASSERT_TRUE(page["next_cursor"].is_string()) << page.dump();
  json rest = JsonOf(
      Get("admin", "/api/v1/backfills?limit=2&cursor=" + page["next_cursor"].get<std::string>()));
  ASSERT_EQ(rest["items"].size(), 1u);
  EXPECT_EQ(rest["items"][0]["id"], ids[0]);
  EXPECT_TRUE(rest["next_cursor"].is_null());
}

TEST_P(BackfillsApiTest, ARollbackDryRunCountsOnlyTheCallersAssets) {
  auto mine = Post("tokA", "/api/v1/rollbacks", R"({"stage": "thumbnail", "dry_run": true})");
  ASSERT_EQ(StatusOf(mine), 200) << mine->body;
  json report = JsonOf(mine);
  EXPECT_EQ(report["assets"], 3) << "owner a's assets only";
  EXPECT_EQ(report["dry_run"], true);
  EXPECT_EQ(report["rolled_back"], 0);
  EXPECT_EQ(report["no_current"], 3) << "nothing was built yet";
  json all = JsonOf(Post("admin", "/api/v1/rollbacks", R"({"stage": "thumbnail"})"));
  EXPECT_EQ(all["assets"], 4);
  EXPECT_EQ(all["dry_run"], false);
  EXPECT_EQ(StatusOf(Post("tokA", "/api/v1/rollbacks", R"({"stage": "thumbnail", "owner": "b"})")),
            403);
}

TEST_P(BackfillsApiTest, ProcessEnqueuesWhatIsDueOnTheCallersAssetsAndAnswersAtOnce) {
  auto response = Post("tokA", "/api/v1/process", "");
  ASSERT_EQ(StatusOf(response), 202) << response->body;
  json counts = JsonOf(response);
  EXPECT_EQ(counts["assets_seen"], 3);
  EXPECT_EQ(counts["assets_due"], 3);
  EXPECT_EQ(counts["jobs_created"], 3);
  json again = JsonOf(Post("tokA", "/api/v1/process", R"({"stages": ["thumbnail"]})"));
  EXPECT_EQ(again["jobs_created"], 0) << "already queued";
  EXPECT_GE(again["stages_already_active"].get<int64_t>(), 2) << again.dump();
  EXPECT_EQ(StatusOf(Post("tokA", "/api/v1/process", R"({"owner": "b"})")), 403);
  json b = JsonOf(Post("admin", "/api/v1/process", R"({"owner": "b", "retry_failed": true})"));
  EXPECT_EQ(b["assets_seen"], 1);
  EXPECT_EQ(b["jobs_created"], 1);
}

TEST_P(BackfillsApiTest, SeedReprocessingWithATokenReprocessesOnlyThatOwnersSamples) {
  json mine = JsonOf(Post("tokB", "/api/v1/samples/reprocess", R"({"dry_run": true})"));
  EXPECT_EQ(mine["total_samples"], 1) << mine.dump();
  auto started = Post("tokA", "/api/v1/samples/reprocess", "{}");
  ASSERT_EQ(StatusOf(started), 200) << started->body;
  EXPECT_EQ(JsonOf(started)["total_samples"], 3);
  const std::string location = started->get_header_value("Location");
  EXPECT_EQ(JsonOf(Get("tokA", location))["owner"], "a");
  EXPECT_EQ(StatusOf(Get("tokB", location)), 404);
  EXPECT_EQ(JsonOf(Get("tokB", "/api/v1/backfills"))["items"], json::array());
}

INSTANTIATE_TEST_SUITE_P(Backends, BackfillsApiTest, ::testing::ValuesIn(testing::ApiBackends()),
                         testing::ApiBackendName);

}  // namespace
}  // namespace reprise::http
