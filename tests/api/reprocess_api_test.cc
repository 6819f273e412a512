// Seed 001's POST /api/v1/samples/reprocess: each curl example of the seed's README,
// word for word apart from the host, run with the real curl against a server on
// loopback holding real media, and what each one did to the library.
#include <httplib.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/api_server.h"
#include "tests/support/media_suite.h"

namespace reprise::http {
namespace {

using nlohmann::json;
using testing::JsonOf;

// The examples as the seed gives them (its "### Examples" block).
constexpr const char* kDryRun = R"(curl -X POST http://localhost:8000/api/v1/samples/reprocess \
  -H "Content-Type: application/json" \
  -d '{"dry_run": true, "limit": 5}')";
constexpr const char* kAll = R"(curl -X POST http://localhost:8000/api/v1/samples/reprocess \
  -H "Content-Type: application/json" \
  -d '{}')";
constexpr const char* kFailed = R"(curl -X POST http://localhost:8000/api/v1/samples/reprocess \
  -H "Content-Type: application/json" \
  -d '{"filter_status": "failed"}')";
constexpr const char* kFirstTen = R"(curl -X POST http://localhost:8000/api/v1/samples/reprocess \
  -H "Content-Type: application/json" \
  -d '{"limit": 10}')";
constexpr const char* kBrokenLinks =
    R"(curl -X POST http://localhost:8000/api/v1/samples/reprocess \
  -H "Content-Type: application/json" \
  -d '{"broken_links_only": true}')";

class ReprocessApiTest : public testing::MediaSuite,
                         public ::testing::WithParamInterface<testing::ApiBackend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(api_.ok());
    for (const std::string* path :
         {&samples_->H264AacMp4(), &samples_->Vp9OpusWebm(), &samples_->Mp3(),
          &samples_->PngImage(), &samples_->VideoOnlyMp4(), &samples_->Wav()}) {
      auto item = api_.app().ingestor().IngestFile(*path, ingest::Options{});
      ASSERT_TRUE(item.asset) << (item.error ? item.error->ToString() : item.skip_reason);
      ids_.push_back(item.asset->id);
    }
  }

  // Runs the seed's command through a shell with this server in place of
  // localhost:8000, and parses what curl printed.
  json Curl(std::string command) {
    const std::string seed_host = "http://localhost:8000";
    command.replace(command.find(seed_host), seed_host.size(), api_.base_url());
    auto result = testing::RunCommand({"sh", "-c", command});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    try {
      return json::parse(result.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << e.what() << "\n" << result.output;
      return nullptr;
    }
  }

  json Backfills() { return JsonOf(api_.Client()->Get("/api/v1/backfills"))["items"]; }

  testing::ApiServer api_{GetParam(), {}};  // no tokens: the seed's curls carry none
  std::vector<std::string> ids_;
};

TEST_P(ReprocessApiTest, ADryRunCountsTheSamplesUpToTheLimitAndStartsNothing) {
  json answer = Curl(kDryRun);
  EXPECT_EQ(answer["total_samples"], 5);
  EXPECT_EQ(answer["status"], "dry_run");
  EXPECT_EQ(answer["message"], "Dry run: would reprocess 5 samples. Nothing was changed.");
  EXPECT_EQ(Backfills(), json::array());
}

TEST_P(ReprocessApiTest, AnEmptyBodyReprocessesEverySampleThroughEveryStage) {
  json answer = Curl(kAll);
  EXPECT_EQ(answer, json({{"message",
                           "Started reprocessing 6 samples in the background. Check logs for "
                           "progress."},
                          {"total_samples", 6},
                          {"status", "started"}}));
  json backfills = Backfills();
  ASSERT_EQ(backfills.size(), 1u);
  const json& backfill = backfills[0];
  EXPECT_EQ(backfill["mode"], "all") << "current results are rebuilt";
  EXPECT_EQ(backfill["state"], "running");
  EXPECT_EQ(backfill["stages"].size(), api_.app().registry().All().size());
  EXPECT_EQ(backfill["options"]["skip_reset"], false);
}

TEST_P(ReprocessApiTest, FilterStatusSelectsOnlySamplesInThatStatus) {
  json none = Curl(kFailed);
  EXPECT_EQ(none["total_samples"], 0);
  EXPECT_EQ(none["status"], "completed");
  EXPECT_EQ(Backfills(), json::array()) << "nothing to do starts nothing";

  ASSERT_TRUE(api_.app().catalog().SetAssetStatus(ids_[1], catalog::AssetStatus::kFailed));
  json one = Curl(kFailed);
  EXPECT_EQ(one["total_samples"], 1);
  EXPECT_EQ(one["status"], "started");
  json backfills = Backfills();
  ASSERT_EQ(backfills.size(), 1u);
  EXPECT_EQ(backfills[0]["selection"]["status"], "failed");
  json status = JsonOf(api_.Client()->Get(
      ("/api/v1/backfills/" + std::to_string(backfills[0]["id"].get<int64_t>())).c_str()));
  EXPECT_EQ(status["plan"]["assets_selected"], 1);
}

TEST_P(ReprocessApiTest, ALimitReprocessesTheFirstSamplesOnly) {
  json answer = Curl(kFirstTen);
  EXPECT_EQ(answer["total_samples"], 6) << "fewer samples than the limit";
  EXPECT_EQ(answer["status"], "started");
  json backfills = Backfills();
  ASSERT_EQ(backfills.size(), 1u);
  EXPECT_EQ(backfills[0]["options"]["limit"], 10);
}

TEST_P(ReprocessApiTest, BrokenLinksOnlyIsNotImplementedYetAndSaysSo) {
  json answer = Curl(kBrokenLinks);
  EXPECT_EQ(answer["error"]["code"], "not_implemented") << answer.dump();
  EXPECT_NE(answer["error"]["message"].get<std::string>().find("broken_links_only"),
            std::string::npos);
  auto response = api_.Client()->Post("/api/v1/samples/reprocess", R"({"broken_links_only": true})",
                                      "application/json");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 501);
  EXPECT_EQ(Backfills(), json::array());
  // false is the default: it changes nothing.
  json plain = JsonOf(api_.Client()->Post("/api/v1/samples/reprocess",
                                          R"({"broken_links_only": false, "dry_run": true})",
                                          "application/json"));
  EXPECT_EQ(plain["total_samples"], 6);
}

TEST_P(ReprocessApiTest, SkipResetAndStatusNamesMapOntoTheBackfill) {
  auto response = api_.Client()->Post(
      "/api/v1/samples/reprocess",
      R"({"filter_status": "completed", "limit": 2, "skip_reset": true, "dry_run": false})",
      "application/json");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(JsonOf(response)["status"], "completed") << "no sample is ready yet";
  for (const auto& id : ids_) {
    ASSERT_TRUE(api_.app().catalog().SetAssetStatus(id, catalog::AssetStatus::kReady));
  }
  response = api_.Client()->Post(
      "/api/v1/samples/reprocess",
      R"({"filter_status": "completed", "limit": 2, "skip_reset": true})", "application/json");
  json answer = JsonOf(response);
  EXPECT_EQ(answer["total_samples"], 2);
  json backfill = Backfills()[0];
  EXPECT_EQ(response->get_header_value("Location"),
            "/api/v1/backfills/" + std::to_string(backfill["id"].get<int64_t>()));
  EXPECT_EQ(backfill["selection"]["status"], "ready") << "the seed's completed is ready";
  EXPECT_EQ(backfill["options"]["skip_reset"], true);
}

TEST_P(ReprocessApiTest, UnknownFieldsAndWrongTypesAnswer400NamingThem) {
  for (const auto& [body, word] : std::vector<std::pair<std::string, std::string>>{
           {R"({"lmit": 10})", "lmit"},
           {R"({"limit": "10"})", "limit"},
           {R"({"limit": 0})", "limit"},
           {R"({"dry_run": 1})", "dry_run"},
           {R"({"filter_status": "done"})", "filter_status"},
           {R"({"broken_links_only": "yes"})", "broken_links_only"},
           {R"({"dry_run": true)", "JSON"}}) {
    auto response = api_.Client()->Post("/api/v1/samples/reprocess", body, "application/json");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << body << ": " << response->body;
    EXPECT_NE(response->body.find(word), std::string::npos) << word << ": " << response->body;
  }
  EXPECT_EQ(Backfills(), json::array());
}

INSTANTIATE_TEST_SUITE_P(Backends, ReprocessApiTest, ::testing::ValuesIn(testing::ApiBackends()),
                         testing::ApiBackendName);

}  // namespace
}  // namespace reprise::http
