// POST /api/v1/webhooks/{source}: Standard Webhooks signatures checked against the
// source's configured secret (signed here with the core signer), replays ignored, and a
// Replicate prediction's output URLs (on the test's own server) imported into ready
// assets by the import runner and a worker.
#include <ctime>
#include <string>

#include <gtest/gtest.h>

#include "core/webhook_signature.h"
#include "tests/api/import_fixture.h"

namespace reprise::testing {
namespace {

using Json = nlohmann::json;

class WebhooksInTest : public ImportApiTest {
 protected:
  void SetUp() override {
    auto secret = WebhookSecret::Generate();
    ASSERT_TRUE(secret) << secret.error().ToString();
    secret_ = std::make_unique<WebhookSecret>(*secret);
    Serve([this](Config& config) {
      Configure(config);
      config.webhook_sources["replicate"] = {{secret_->ToString()}, "generator"};
    });
  }

  // Posts `body` signed with `secret` (the configured one unless given) as of `timestamp`.
  httplib::Result Post(const std::string& id, const std::string& body, int64_t timestamp,
                       const WebhookSecret* secret = nullptr,
                       const std::string& source = "replicate") {
    httplib::Headers headers = {
        {"webhook-id", id},
        {"webhook-timestamp", std::to_string(timestamp)},
        {"webhook-signature", SignWebhook(secret ? *secret : *secret_, id, timestamp, body)}};
    return api_->Client()->Post("/api/v1/webhooks/" + source, headers, body, "application/json");
  }

  size_t ImportCount() {
    auto listed = api_->app().catalog().ListImports({}, {}, 100);
    EXPECT_TRUE(listed);
    return listed ? listed->size() : 0;
  }

  static int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

  Json Prediction(const std::string& status, const Json& output) const {
    return {{"id", "ufawqhfynnddngldkgtslldrkq"},
            {"model", "wan-video/wan-2.1-t2v"},
            {"version", "5d6ad1f1"},
            {"status", status},
            {"input", {{"prompt", "beautiful sunset over mountains"}, {"size", "720p"}}},
            {"output", output},
            {"error", nullptr}};
  }

  std::unique_ptr<WebhookSecret> secret_;
};

TEST_F(WebhooksInTest, BadSignaturesOldTimestampsAndUnknownSourcesStoreNothing) {
  const std::string body = Prediction("succeeded", "https://example.com/a.mp4").dump();

  auto other_secret = WebhookSecret::Generate();
  ASSERT_TRUE(other_secret);
  auto wrong_key = Post("msg_1", body, Now(), &*other_secret);
  ASSERT_TRUE(wrong_key);
  EXPECT_EQ(wrong_key->status, 401) << wrong_key->body;

  // Signed for one body, sent with another.
  httplib::Headers tampered = {{"webhook-id", "msg_1"},
                               {"webhook-timestamp", std::to_string(Now())},
                               {"webhook-signature", SignWebhook(*secret_, "msg_1", Now(), body)}};
  std::string changed = body;
  changed.replace(changed.find("a.mp4"), 5, "b.mp4");
  auto tampered_body =
      api_->Client()->Post("/api/v1/webhooks/replicate", tampered, changed, "application/json");
  ASSERT_TRUE(tampered_body);
  EXPECT_EQ(tampered_body->status, 401) << tampered_body->body;

  auto unsigned_post = api_->Client()->Post("/api/v1/webhooks/replicate", body, "application/json");
  ASSERT_TRUE(unsigned_post);
  EXPECT_EQ(unsigned_post->status, 401) << unsigned_post->body;

  auto old = Post("msg_1", body, Now() - 6 * 60);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->status, 401) << old->body;
  EXPECT_NE(old->body.find("timestamp"), std::string::npos) << old->body;

  auto unknown = Post("msg_1", body, Now(), nullptr, "midjourney");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404) << unknown->body;

  EXPECT_EQ(ImportCount(), 0u);
  // None of those was remembered: the genuine delivery with that id is not a replay.
  auto genuine = Post("msg_1", body, Now());
  ASSERT_TRUE(genuine);
  ASSERT_EQ(genuine->status, 200) << genuine->body;
  EXPECT_EQ(JsonOf(genuine)["duplicate"], false);
  EXPECT_EQ(ImportCount(), 1u);
}

TEST_F(WebhooksInTest, AReplayIsANoOpAndOtherStatusesAreRecordedAndIgnored) {
  const std::string body =
      Prediction("succeeded",
                 Json::array({"https://example.com/a.mp4", "https://example.com/b.mp4"}))
          .dump();
  auto first = Post("msg_2", body, Now());
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(JsonOf(first)["imports"].size(), 2u);
  EXPECT_EQ(JsonOf(first)["event"], "prediction succeeded");
  auto replay = Post("msg_2", body, Now());
  ASSERT_TRUE(replay);
  ASSERT_EQ(replay->status, 200) << replay->body;
  EXPECT_EQ(JsonOf(replay)["duplicate"], true);
  EXPECT_TRUE(JsonOf(replay)["imports"].empty());
  EXPECT_EQ(ImportCount(), 2u);

  for (const std::string status : {"starting", "processing", "failed", "canceled"}) {
    auto other = Post("msg_" + status, Prediction(status, nullptr).dump(), Now());
    ASSERT_TRUE(other);
    ASSERT_EQ(other->status, 200) << other->body;
    EXPECT_EQ(JsonOf(other)["event"], "prediction " + status);
    EXPECT_TRUE(JsonOf(other)["imports"].empty());
  }
  EXPECT_EQ(ImportCount(), 2u);

  auto not_json = Post("msg_3", "not json", Now());
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400) << not_json->body;
}

TEST_F(WebhooksInTest, ASucceededPredictionsOutputsBecomeReadyAssetsOfTheSourcesOwner) {
  files_.AddFile("out-0.mp4", ReadFile(samples_->H264AacMp4()));
  files_.AddFile("out-1.png", ReadFile(samples_->PngImage()));
  const std::string body =
      Prediction("succeeded",
                 Json::array({files_.Url("/files/out-0.mp4"), files_.Url("/files/out-1.png")}))
          .dump();
  auto posted = Post("msg_4", body, Now());
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 200) << posted->body;
  Json receipt = JsonOf(posted);
  ASSERT_EQ(receipt["imports"].size(), 2u) << posted->body;

  StartBackground(*api_);
  for (const auto& import : receipt["imports"]) {
    std::string id = import["id"];
    // The generator's owner sees it; another owner does not.
    Json asset = WaitForStatus(*api_, "admin-token", "/api/v1/media/" + id, "ready");
    EXPECT_EQ(asset["metadata"]["prediction_id"], "ufawqhfynnddngldkgtslldrkq");
    EXPECT_EQ(asset["metadata"]["input"]["prompt"], "beautiful sunset over mountains");
    EXPECT_EQ(asset["metadata"]["model"], "wan-video/wan-2.1-t2v");
    EXPECT_TRUE(asset["thumbnail_url"].is_string()) << asset.dump();
    auto stored = api_->app().imports().Get(services::Caller::Admin(), id);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->owner, "generator");
    EXPECT_EQ(stored->source, catalog::AssetSource::kWebhook);
    auto alice = api_->Client("alice-token")->Get("/api/v1/media/" + id);
    ASSERT_TRUE(alice);
    EXPECT_EQ(alice->status, 404);
  }
}

}  // namespace
}  // namespace reprise::testing
