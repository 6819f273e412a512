// The deployment's services as clients (ai/service_directory.h) and their health check,
// against the OpenAI-compatible test server on loopback.
#include "ai/service_directory.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "tests/support/openai_test_server.h"

namespace reprise::ai {
namespace {

ServiceSettings At(const std::string& base_url, const std::string& key = "test-key") {
  ServiceSettings settings;
  settings.base_url = base_url;
  settings.api_key = key;
  settings.api_key_env = "TEST_KEY";
  settings.max_attempts = 1;
  settings.timeout_seconds = 10;
  return settings;
}

TEST(ServiceDirectory, FindsConfiguredServicesAndNamesThemWhenOneIsNot) {
  SystemClock clock;
  testing::OpenAiTestServer server;
  auto directory = ServiceDirectory::Create({{"openai", At(server.base_url())}}, clock);
  ASSERT_TRUE(directory) << directory.error().ToString();
  EXPECT_EQ((*directory)->Names(), (std::vector<std::string>{"openai"}));
  auto client = (*directory)->Find("openai");
  ASSERT_TRUE(client);
  auto models = (*client)->ListModels();
  ASSERT_TRUE(models) << models.error().ToString();
  EXPECT_EQ(models->ids, (std::vector<std::string>{"test-vision", "test-whisper"}));

  auto missing = (*directory)->Find("whisper");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("configured: openai"), std::string::npos);

  auto bad = ServiceDirectory::Create({{"broken", At("ftp://nowhere")}}, clock);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("services.broken"), std::string::npos);
}

TEST(ServiceDirectory, CheckSaysReachableLatencyAndWhetherNeededModelsAreServed) {
  SystemClock clock;
  testing::OpenAiTestServer server;
  auto directory = ServiceDirectory::Create({{"good", At(server.base_url())},
                                             {"wrong_key", At(server.base_url(), "")},
                                             {"down", At("http://127.0.0.1:1/v1")}},
                                            clock);
  ASSERT_TRUE(directory) << directory.error().ToString();

  ServiceHealth good = CheckService(**directory, "good", {"test-vision", "gpt-4o"});
  EXPECT_TRUE(good.reachable);
  EXPECT_FALSE(good.error) << good.error->ToString();
  EXPECT_TRUE(good.models_listed);
  EXPECT_GT(good.latency_ms, 0);
  EXPECT_EQ(good.needed, (std::map<std::string, bool>{{"test-vision", true}, {"gpt-4o", false}}));
  EXPECT_FALSE(good.key_missing);

  // The server refuses a missing key: answered, but not usable; and the key is unset.
  ServiceHealth refused = CheckService(**directory, "wrong_key");
  EXPECT_FALSE(refused.reachable);
  ASSERT_TRUE(refused.error);
  EXPECT_EQ(refused.error->code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(refused.key_missing);

  ServiceHealth down = CheckService(**directory, "down");
  EXPECT_FALSE(down.reachable);
  ASSERT_TRUE(down.error);
  EXPECT_EQ(down.error->code, ErrorCode::kUnavailable);

  ServiceHealth unknown = CheckService(**directory, "nope");
  EXPECT_FALSE(unknown.reachable);
  EXPECT_EQ(unknown.error->code, ErrorCode::kNotFound);
  EXPECT_EQ(server.calls().size(), 2u);  // good and wrong_key; nothing else reached it
}

}  // namespace
}  // namespace reprise::ai
