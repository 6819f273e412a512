// The [webhooks] table and server.event_heartbeat_seconds of the config.

#include <gtest/gtest.h>

#include "core/config.h"
#include "tests/support/test_support.h"

namespace reprise {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(WebhooksConfig, SubscriptionsAndDeliverySettingsFromFileAndEnvironment) {
  TempDir dir;
  WriteFile(
      dir.Join("w.toml"),
      "[server]\nevent_heartbeat_seconds = 2.5\n"
      "[webhooks]\nmax_attempts = 4\nbackoff_base_seconds = 0.5\n"
      "[[webhooks.subscriptions]]\n"
      "url = \"https://hooks.example/in\"\nsecret = \"whsec_abc\"\n"
      "events = [\"asset.ready\", \"asset.failed\"]\nowner = \"team\"\n"
      "[[webhooks.subscriptions]]\n"
      "url = \"https://all.example/\"\nsecret = \"whsec_def\"\nevents = [\"backfill.finished\"]\n");
  auto config =
      LoadConfig({dir.Join("w.toml"), std::nullopt, {{"REPRISE_WEBHOOKS_TIMEOUT_SECONDS", "3"}}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->server.event_heartbeat_seconds, 2.5);
  EXPECT_EQ(config->webhooks.max_attempts, 4);
  EXPECT_EQ(config->webhooks.backoff_base_seconds, 0.5);
  EXPECT_EQ(config->webhooks.timeout_seconds, 3);
  EXPECT_EQ(config->webhooks.backoff_max_seconds, 3600);  // default kept
  ASSERT_EQ(config->webhooks.subscriptions.size(), 2u);
  const auto& first = config->webhooks.subscriptions[0];
  EXPECT_EQ(first.url, "https://hooks.example/in");
  EXPECT_EQ(first.secret, "whsec_abc");
  EXPECT_EQ(first.events, (std::vector<std::string>{"asset.ready", "asset.failed"}));
  EXPECT_EQ(first.owner, "team");
  EXPECT_EQ(config->webhooks.subscriptions[1].owner, "");
}

TEST(WebhooksConfig, MistakesAreRefusedByName) {
  TempDir dir;
  const std::pair<const char*, const char*> cases[] = {
      {"[webhooks]\nmax_attempts = 0\n", "webhooks.max_attempts"},
      {"[webhooks]\nretries = 3\n", "webhooks.retries"},
      {"[[webhooks.subscriptions]]\nurl = \"http://x/\"\nevents = [\"asset.ready\"]\n", "secret"},
      {"[[webhooks.subscriptions]]\nurl = \"http://x/\"\nsecret = \"whsec_a\"\n"
       "events = [\"asset.ready\"]\ncolour = \"red\"\n",
       "colour"},
  };
  for (const auto& [text, says] : cases) {
    WriteFile(dir.Join("bad.toml"), text);
    auto config = LoadConfig({dir.Join("bad.toml"), std::nullopt, {}});
    ASSERT_FALSE(config) << text;
    EXPECT_NE(config.error().message.find(says), std::string::npos) << config.error().message;
  }
}

}  // namespace
}  // namespace reprise
