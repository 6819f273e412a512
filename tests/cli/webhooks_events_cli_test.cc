// `reprise webhooks ...` and `reprise events list` from the real binary: what they do,
// and that each --json prints exactly what the matching GET of an API server on the same
// data directory answers (one view per resource).
#include <string>

#include "tests/cli/cli_fixture.h"
#include "tests/support/api_server.h"

namespace reprise {
namespace {

const std::vector<std::string> kEnv = {"REPRISE_PIPELINE_STAGES=probe"};
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class WebhooksEventsCliTest : public CliTest {
 protected:
  json RunJson(std::vector<std::string> args, int expected_exit = 0) {
    return CliTest::RunJson(std::move(args), expected_exit, kEnv);
  }
};

json Get(httplib::Client& client, const std::string& path) {
  auto response = client.Get(path);
  EXPECT_TRUE(response) << path;
  if (!response) return json();
  EXPECT_EQ(response->status, 200) << path << ": " << response->body;
  return json::parse(response->body);
}

TEST_F(WebhooksEventsCliTest, SubscriptionsDeliveriesAndEventsPrintWhatTheApiAnswers) {
  json for_a =
      RunJson({"webhooks", "add", "https://hooks.example/a", "--event", "asset.ready", "--event",
               "asset.failed", "--owner", "a", "--secret", kSecret, "--description", "team a"});
  EXPECT_EQ(for_a["owner"], "a");
  EXPECT_EQ(for_a["secret"], kSecret) << "shown once, at creation";
  EXPECT_EQ(for_a["events"], json::array({"asset.ready", "asset.failed"}));
  json for_b = RunJson(
      {"webhooks", "add", "https://hooks.example/b", "--event", "asset.ready", "--owner", "b"});
  EXPECT_TRUE(for_b["secret"].get<std::string>().starts_with("whsec_"));
  const std::string a_id = for_a["id"].dump();

  // The cloud metadata address is refused by default, and the reason is said.
  auto refused =
      Run({"webhooks", "add", "http://169.254.169.254/latest", "--event", "asset.ready"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.err.find("169.254.169.254 (link-local address)"), std::string::npos)
      << refused.err;

  // Events and a delivery: owner a's asset and owner b's become ready.
  ASSERT_EQ(Run({"ingest", "--owner", "a", "--process", samples_->PngImage()}, kEnv).exit_code, 0);
  ASSERT_EQ(Run({"ingest", "--owner", "b", "--process", samples_->Mp3()}, kEnv).exit_code, 0);

  testing::ApiServer api([this](Config& config) { config.data_dir = data_.path(); });
  ASSERT_TRUE(api.ok());
  auto client = api.Client();

  json listed = RunJson({"webhooks", "list"});
  ASSERT_EQ(listed["subscriptions"].size(), 2u) << listed.dump(2);
  EXPECT_FALSE(listed["subscriptions"][0].contains("secret"));
  EXPECT_EQ(listed, Get(*client, "/api/v1/webhooks/subscriptions"));
  json only_a = RunJson({"webhooks", "list", "--owner", "a"});
  ASSERT_EQ(only_a["subscriptions"].size(), 1u);
  EXPECT_EQ(only_a["subscriptions"][0]["owner"], "a");

  json deliveries = RunJson({"webhooks", "deliveries", a_id});
  ASSERT_EQ(deliveries["deliveries"].size(), 1u) << deliveries.dump(2);
  EXPECT_EQ(deliveries["deliveries"][0]["event_type"], "asset.ready");
  EXPECT_EQ(deliveries["deliveries"][0]["state"], "pending");  // no server sent it
  EXPECT_EQ(deliveries, Get(*client, "/api/v1/webhooks/subscriptions/" + a_id + "/deliveries"));
  auto table = Run({"webhooks", "deliveries", a_id});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("asset.ready"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("pending"), std::string::npos) << table.out;

  json events = RunJson({"events", "list"});
  ASSERT_GE(events["events"].size(), 2u) << events.dump(2);
  EXPECT_EQ(events, Get(*client, "/api/v1/events?format=json"));
  json ready = RunJson({"events", "list", "--type", "asset.ready"});
  ASSERT_EQ(ready["events"].size(), 2u) << ready.dump(2);
  for (const auto& event : ready["events"]) EXPECT_EQ(event["type"], "asset.ready");
  EXPECT_EQ(ready, Get(*client, "/api/v1/events?format=json&types=asset.ready"));
  const std::string first = events["events"][0]["id"].dump();
  json page = RunJson({"events", "list", "--after", first, "--limit", "1"});
  ASSERT_EQ(page["events"].size(), 1u);
  EXPECT_GT(page["events"][0]["id"].get<int64_t>(), events["events"][0]["id"].get<int64_t>());
  EXPECT_EQ(page, Get(*client, "/api/v1/events?format=json&after=" + first + "&limit=1"));
  json of_b = RunJson({"events", "list", "--owner", "b"});
  ASSERT_FALSE(of_b["events"].empty());
  for (const auto& event : of_b["events"]) EXPECT_EQ(event["owner"], "b");
  EXPECT_EQ(of_b, Get(*client, "/api/v1/events?format=json&owner=b"));
  auto bad_type = Run({"events", "list", "--type", "asset.exploded"});
  EXPECT_EQ(bad_type.exit_code, 2) << bad_type.output;

  // Another owner's subscription is not found through --owner; the admin deletes it.
  EXPECT_EQ(Run({"webhooks", "delete", a_id, "--owner", "b"}).exit_code, 2);
  EXPECT_EQ(RunJson({"webhooks", "delete", a_id})["deleted"], true);
  EXPECT_EQ(RunJson({"webhooks", "list"})["subscriptions"].size(), 1u);
  EXPECT_EQ(Run({"webhooks", "deliveries", a_id}).exit_code, 2);
}

}  // namespace
}  // namespace reprise
