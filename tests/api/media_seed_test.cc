// Seed 004's media API, replayed: each curl example of the seed run with the curl command
// word for word apart from host and token, and its frontend's polling code
// (GET /api/v1/media/{asset_id} until status is ready, then url, thumbnail_url,
// metadata.duration and metadata.width x height) emulated over real HTTP.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/api/import_fixture.h"

namespace reprise::testing {
namespace {

using Json = nlohmann::json;

class MediaSeedTest : public ImportApiTest {
 protected:
  // The seed's curl command with its host replaced by this server's, and a bearer token.
  static CommandResult Curl(const ApiServer& api, std::vector<std::string> argv) {
    for (auto& arg : argv) {
      const std::string host = "http://localhost:8000";
      if (arg.rfind(host, 0) == 0) arg = api.base_url() + arg.substr(host.size());
    }
    argv.insert(argv.begin() + 1, {"-sS", "-H", "Authorization: Bearer alice-token"});
    return RunCommand(argv);
  }
};

// "Option B: Manual Import (Test URL)" of the seed, verbatim.
const std::vector<std::string> kSeedImport = {
    "curl", "-X",
    "POST", "http://localhost:8000/api/v1/media/import-from-url",
    "-H",   "Content-Type: application/json",
    "-d",   R"({
    "url": "https://commondatastorage.googleapis.com/gtv-videos-bucket/sample/BigBuckBunny.mp4",
    "name": "test_video.mp4",
    "type": "video",
    "metadata": {"test": true}
  })"};

// "6. Access Media" of the seed, verbatim.
const std::vector<std::string> kSeedList = {"curl", "http://localhost:8000/api/v1/media/"};

TEST_F(MediaSeedTest, TheSeedsImportExampleAnswersAssetIdAndImportJobId) {
  ApiServer& api = Serve();
  ASSERT_TRUE(api.ok());
  CommandResult posted = Curl(api, kSeedImport);
  ASSERT_EQ(posted.exit_code, 0) << posted.output;
  Json answer = Json::parse(posted.out);
  ASSERT_TRUE(answer["asset_id"].is_string()) << posted.out;
  ASSERT_TRUE(answer["import_job_id"].is_string()) << posted.out;

  // Polled as the seed's frontend does: still processing (no download runs here).
  auto polled =
      api.Client("alice-token")->Get("/api/v1/media/" + answer["asset_id"].get<std::string>());
  ASSERT_TRUE(polled);
  ASSERT_EQ(polled->status, 200) << polled->body;
  Json asset = JsonOf(polled);
  EXPECT_EQ(asset["status"], "uploading");
  EXPECT_EQ(asset["name"], "test_video.mp4");
  EXPECT_EQ(asset["type"], "video");
  EXPECT_EQ(asset["metadata"]["test"], true);

  CommandResult listed = Curl(api, kSeedList);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  Json list = Json::parse(listed.out);
  ASSERT_EQ(list["assets"].size(), 1u) << listed.out;
  EXPECT_EQ(list["assets"][0]["id"], answer["asset_id"]);
}

TEST_F(MediaSeedTest, APolledImportBecomesReadyWithSignedUrlsAndMetadata) {
  ApiServer& api = Serve();
  ASSERT_TRUE(api.ok());
  files_.AddFile("BigBuckBunny.mp4", ReadFile(samples_->H264AacMp4()));
  std::vector<std::string> argv = kSeedImport;
  // The seed's body with the video at the test's own server instead of Google's.
  const std::string google =
      "https://commondatastorage.googleapis.com/gtv-videos-bucket/sample/BigBuckBunny.mp4";
  argv.back().replace(argv.back().find(google), google.size(),
                      files_.Url("/files/BigBuckBunny.mp4"));
  CommandResult posted = Curl(api, argv);
  ASSERT_EQ(posted.exit_code, 0) << posted.output;
  std::string asset_id = Json::parse(posted.out)["asset_id"];

  StartBackground(api);
  Json asset = WaitForStatus(api, "alice-token", "/api/v1/media/" + asset_id, "ready");
  EXPECT_EQ(asset["name"], "test_video.mp4");
  EXPECT_EQ(asset["type"], "video");
  EXPECT_EQ(asset["import_job_id"], asset_id);
  EXPECT_NE(asset["id"], asset_id);  // the asset's own id once it exists
  EXPECT_EQ(asset["metadata"]["test"], true);
  EXPECT_NEAR(asset["metadata"]["duration"].get<double>(), samples::kSmallSeconds, 0.1);
  EXPECT_EQ(asset["metadata"]["width"], samples::kSmallWidth);
  EXPECT_EQ(asset["metadata"]["height"], samples::kSmallHeight);
  EXPECT_EQ(asset["metadata"]["codec"], "h264");
  EXPECT_NEAR(asset["metadata"]["frame_rate"].get<double>(), samples::kFrameRate, 0.01);
  const std::string url = asset["url"];
  const std::string thumbnail_url = asset["thumbnail_url"];
  for (const std::string& signed_url : {url, thumbnail_url}) {
    EXPECT_EQ(signed_url.rfind("/blobs/", 0), 0u) << signed_url;
    EXPECT_NE(signed_url.find("?expires="), std::string::npos) << signed_url;
    EXPECT_NE(signed_url.find("&sig="), std::string::npos) << signed_url;
  }
  EXPECT_NE(thumbnail_url.find("thumb.jpg"), std::string::npos) << thumbnail_url;

  // The asset's real id answers the same document.
  auto by_asset_id =
      api.Client("alice-token")->Get("/api/v1/media/" + asset["id"].get<std::string>());
  ASSERT_TRUE(by_asset_id);
  EXPECT_EQ(JsonOf(by_asset_id)["metadata"], asset["metadata"]);

  CommandResult listed = Curl(api, kSeedList);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  Json list = Json::parse(listed.out);
  ASSERT_EQ(list["assets"].size(), 1u) << listed.out;
  EXPECT_EQ(list["assets"][0]["id"], asset["id"]);
  EXPECT_TRUE(list["assets"][0]["thumbnail_url"].is_string());
  EXPECT_EQ(list["assets"][0]["metadata"]["width"], samples::kSmallWidth);
}

TEST_F(MediaSeedTest, AFailedImportReadsFailedWithTheErrorInMetadata) {
  ApiServer& api = Serve();
  ASSERT_TRUE(api.ok());
  Json body = {{"url", files_.Url("/missing")},
               {"name", "gone.mp4"},
               {"type", "video"},
               {"metadata", Json::object()}};
  auto posted = api.Client("alice-token")
                    ->Post("/api/v1/media/import-from-url", body.dump(), "application/json");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 202) << posted->body;
  std::string asset_id = JsonOf(posted)["asset_id"];
  StartBackground(api);
  Json asset = WaitForStatus(api, "alice-token", "/api/v1/media/" + asset_id, "failed");
  EXPECT_EQ(asset["metadata"]["error"], "http 404 from " + files_.Url("/missing"));

  auto unknown = api.Client("alice-token")
                     ->Post("/api/v1/media/import-from-url",
                            R"({"url": "https://e.com/a", "kind": "video"})", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  EXPECT_NE(unknown->body.find("kind"), std::string::npos) << unknown->body;
}

}  // namespace
}  // namespace reprise::testing
