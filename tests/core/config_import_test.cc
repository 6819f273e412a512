// The [import] and [webhooks.sources.NAME] tables.
#include <string>

#include <gtest/gtest.h>

#include "core/config.h"
#include "tests/support/test_support.h"

namespace reprise {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(ConfigImport, DefaultsRefusePrivateAddresses) {
  TempDir dir;
  auto config = LoadConfig({std::nullopt, dir.path(), {}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_FALSE(config->import.allow_private_addresses);
  EXPECT_GT(config->import.max_bytes, 0);
  EXPECT_GE(config->import.concurrency, 1);
  EXPECT_TRUE(config->webhook_sources.empty());
}

TEST(ConfigImport, RetriesOfPassingFailuresAreSetByFileAndEnvironment) {
  TempDir dir;
  auto defaults = LoadConfig({std::nullopt, dir.path(), {}});
  ASSERT_TRUE(defaults) << defaults.error().ToString();
  EXPECT_EQ(defaults->import.max_attempts, 3);
  WriteFile(dir.Join("reprise.toml"), "[import]\nmax_attempts = 5\nbackoff_base_seconds = 0.5\n");
  auto config =
      LoadConfig({std::nullopt, dir.path(), {{"REPRISE_IMPORT_BACKOFF_MAX_SECONDS", "60"}}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->import.max_attempts, 5);
  EXPECT_DOUBLE_EQ(config->import.backoff_base_seconds, 0.5);
  EXPECT_DOUBLE_EQ(config->import.backoff_max_seconds, 60);
  auto zero = LoadConfig({std::nullopt, dir.path(), {{"REPRISE_IMPORT_MAX_ATTEMPTS", "0"}}});
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("import.max_attempts must be between 1 and 100"),
            std::string::npos)
      << zero.error().message;
}

TEST(ConfigImport, FileAndEnvironmentSetTheImportTable) {
  TempDir dir;
  WriteFile(dir.Join("reprise.toml"),
            "[import]\nmax_bytes = 1000\nconnect_timeout_seconds = 2.5\ntimeout_seconds = 30\n"
            "concurrency = 3\nallow_private_addresses = false\n");
  auto config = LoadConfig({std::nullopt, dir.path(), {}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->import.max_bytes, 1000);
  EXPECT_DOUBLE_EQ(config->import.connect_timeout_seconds, 2.5);
  EXPECT_DOUBLE_EQ(config->import.timeout_seconds, 30);
  EXPECT_EQ(config->import.concurrency, 3);

  for (const char* yes : {"1", "true"}) {
    auto env = LoadConfig(
        {std::nullopt,
         dir.path(),
         {{"REPRISE_IMPORT_ALLOW_PRIVATE_ADDRESSES", yes}, {"REPRISE_IMPORT_MAX_BYTES", "77"}}});
    ASSERT_TRUE(env) << env.error().ToString();
    EXPECT_TRUE(env->import.allow_private_addresses) << yes;
    EXPECT_EQ(env->import.max_bytes, 77);
  }
  auto no =
      LoadConfig({std::nullopt, dir.path(), {{"REPRISE_IMPORT_ALLOW_PRIVATE_ADDRESSES", "0"}}});
  ASSERT_TRUE(no) << no.error().ToString();
  EXPECT_FALSE(no->import.allow_private_addresses);
}

TEST(ConfigImport, BadImportSettingsAreNamed) {
  TempDir dir;
  for (const auto& [text, says] : std::vector<std::pair<std::string, std::string>>{
           {"[import]\nmax_byte = 1\n", "unknown setting import.max_byte"},
           {"[import]\nconcurrency = 0\n", "import.concurrency must be between"},
           {"[import]\nallow_private_addresses = \"yes\"\n", "must be true or false"},
           {"[import]\ntimeout_seconds = \"1\"\n", "import.timeout_seconds must be a number"},
           {"[webhooks.sources.replicate]\nsecret = 3\n", "webhooks.sources.replicate"},
           {"[webhooks]\nfoo = 1\n", "webhooks.foo"},
       }) {
    WriteFile(dir.Join("reprise.toml"), text);
    auto config = LoadConfig({std::nullopt, dir.path(), {}});
    ASSERT_FALSE(config) << text;
    EXPECT_NE(config.error().message.find(says), std::string::npos) << config.error().message;
  }
}

TEST(ConfigImport, WebhookSourcesHaveSecretsAndAnOwner) {
  TempDir dir;
  WriteFile(dir.Join("reprise.toml"),
            "[webhooks.sources.replicate]\nsecret = \"whsec_a\"\nowner = \"studio\"\n"
            "[webhooks.sources.other]\nsecrets = [\"whsec_b\", \"whsec_c\"]\n");
  auto config = LoadConfig({std::nullopt, dir.path(), {}});
  ASSERT_TRUE(config) << config.error().ToString();
  ASSERT_EQ(config->webhook_sources.size(), 2u);
  EXPECT_EQ(config->webhook_sources["replicate"].secrets, std::vector<std::string>{"whsec_a"});
  EXPECT_EQ(config->webhook_sources["replicate"].owner, "studio");
  EXPECT_EQ(config->webhook_sources["other"].secrets.size(), 2u);
  EXPECT_TRUE(config->webhook_sources["other"].owner.empty());
}

}  // namespace
}  // namespace reprise
