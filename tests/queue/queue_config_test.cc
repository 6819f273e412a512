// The [queue] table of reprise.toml and its REPRISE_QUEUE_* overrides.
#include <gtest/gtest.h>

#include "core/config.h"
#include "tests/support/test_support.h"

namespace reprise {
namespace {

using testing::TempDir;

TEST(QueueConfig, DefaultsFileAndEnvironmentApplyInOrder) {
  TempDir dir;
  auto defaults = LoadConfig({std::nullopt, dir.path(), {}});
  ASSERT_TRUE(defaults) << defaults.error().ToString();
  EXPECT_EQ(defaults->queue.concurrency, 0);
  EXPECT_DOUBLE_EQ(defaults->queue.lease_seconds, 30);
  EXPECT_DOUBLE_EQ(defaults->queue.reserved_live_share, 0.25);
  EXPECT_EQ(defaults->queue.quarantine_after, 3);

  testing::WriteFile(dir.Join("reprise.toml"),
                     "[queue]\nconcurrency = 3\nlease_seconds = 12.5\nmax_attempts = 7\n");
  auto config = LoadConfig({std::nullopt,
                            dir.path(),
                            {{"REPRISE_QUEUE_LEASE_SECONDS", "2"},
                             {"REPRISE_QUEUE_GRACE_SECONDS", "0"},
                             {"REPRISE_QUEUE_RESERVED_LIVE_SHARE", "0.5"}}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->queue.concurrency, 3);
  EXPECT_DOUBLE_EQ(config->queue.lease_seconds, 2) << "the environment beats the file";
  EXPECT_EQ(config->queue.max_attempts, 7);
  EXPECT_DOUBLE_EQ(config->queue.grace_seconds, 0);
  EXPECT_DOUBLE_EQ(config->queue.reserved_live_share, 0.5);
}

TEST(QueueConfig, BadValuesAreRefusedWithTheirName) {
  TempDir dir;
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"REPRISE_QUEUE_LEASE_SECONDS", "0"},
                                                        {"REPRISE_QUEUE_LEASE_SECONDS", "soon"},
                                                        {"REPRISE_QUEUE_CONCURRENCY", "1.5"},
                                                        {"REPRISE_QUEUE_RESERVED_LIVE_SHARE", "2"},
                                                        {"REPRISE_QUEUE_MAX_ATTEMPTS", "0"},
                                                        {"REPRISE_QUEUE_LEAS_SECONDS", "3"}}) {
    auto config = LoadConfig({std::nullopt, dir.path(), {{name, value}}});
    ASSERT_FALSE(config) << name << "=" << value;
    EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
    std::string key = name.substr(std::string("REPRISE_QUEUE_").size());
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_NE(config.error().message.find(key), std::string::npos) << config.error().message;
  }
  auto inverted = LoadConfig(
      {std::nullopt,
       dir.path(),
       {{"REPRISE_QUEUE_BACKOFF_BASE_SECONDS", "10"}, {"REPRISE_QUEUE_BACKOFF_MAX_SECONDS", "5"}}});
  EXPECT_FALSE(inverted);
}

}  // namespace
}  // namespace reprise
