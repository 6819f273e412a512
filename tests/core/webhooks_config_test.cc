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
  EXPECT_FALSE(config->webhooks.allow_private_addresses);  // the default
}

TEST(WebhooksConfig, PrivateAddressesAreAllowedByTheFileOrTheEnvironment) {
  TempDir dir;
  WriteFile(dir.Join("w.toml"), "[webhooks]\nallow_private_addresses = true\n");
  auto file = LoadConfig({dir.Join("w.toml"), std::nullopt, {}});
  ASSERT_TRUE(file) << file.error().ToString();
  EXPECT_TRUE(file->webhooks.allow_private_addresses);
  for (const char* yes : {"1", "true"}) {
    auto env = LoadConfig(
        {std::nullopt, dir.Join("data"), {{"REPRISE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", yes}}});
    ASSERT_TRUE(env) << env.error().ToString();
    EXPECT_TRUE(env->webhooks.allow_private_addresses) << yes;
  }
  auto no = LoadConfig(
      {dir.Join("w.toml"), std::nullopt, {{"REPRISE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", "0"}}});
  ASSERT_TRUE(no) << no.error().ToString();
  EXPECT_FALSE(no->webhooks.allow_private_addresses);
  auto wrong = LoadConfig(
      {std::nullopt, dir.Join("data"), {{"REPRISE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", "yes"}}});
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("webhooks.allow_private_addresses must be true or false"),
            std::string::npos)
      << wrong.error().message;
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
