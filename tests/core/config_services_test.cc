// [services.NAME]: OpenAI-compatible services stages call, with the key taken from the
// environment variable the file names.
#include <string>

#include <gtest/gtest.h>

#include "core/config.h"
#include "tests/support/test_support.h"

namespace reprise {
namespace {

using testing::TempDir;
using testing::WriteFile;

Result<Config> Load(const std::string& toml, std::map<std::string, std::string> env = {}) {
  TempDir dir;
  WriteFile(dir.Join("reprise.toml"), toml);
  return LoadConfig({std::nullopt, dir.path(), std::move(env)});
}

TEST(ConfigServices, ReadsEachServiceWithItsKeyFromTheNamedVariable) {
  auto config = Load(
      "[services.openai]\nbase_url = \"https://api.openai.com/v1\"\n"
      "api_key_env = \"OPENAI_API_KEY\"\nmax_concurrent = 5\nrequests_per_minute = 500\n"
      "timeout_seconds = 60\n"
      "[services.whisper]\nbase_url = \"http://127.0.0.1:8081/v1\"\n",
      {{"OPENAI_API_KEY", "sk-test"}});
  ASSERT_TRUE(config) << config.error().ToString();
  ASSERT_EQ(config->services.size(), 2u);
  const ServiceSettings& openai = config->services.at("openai");
  EXPECT_EQ(openai.base_url, "https://api.openai.com/v1");
  EXPECT_EQ(openai.api_key, "sk-test");
  EXPECT_EQ(openai.max_concurrent, 5);
  EXPECT_EQ(openai.requests_per_minute, 500);
  EXPECT_DOUBLE_EQ(openai.timeout_seconds, 60);
  const ServiceSettings& whisper = config->services.at("whisper");
  EXPECT_TRUE(whisper.api_key.empty());
  EXPECT_EQ(whisper.max_concurrent, 3);  // the defaults
  EXPECT_EQ(whisper.requests_per_minute, 60);

  // A named variable that is unset leaves the key empty (the doctor says so).
  auto unset = Load("[services.openai]\nbase_url = \"http://x/v1\"\napi_key_env = \"NOPE\"\n");
  ASSERT_TRUE(unset);
  EXPECT_TRUE(unset->services.at("openai").api_key.empty());
  EXPECT_EQ(unset->services.at("openai").api_key_env, "NOPE");
}

TEST(ConfigServices, RefusesUnknownMistypedOrIncompleteSettingsNamingThem) {
  for (const auto& [toml, words] : std::vector<std::pair<std::string, std::string>>{
           {"[services.openai]\nbase_url = \"http://x/v1\"\napi_key = \"sk\"\n",
            "services.openai.api_key"},
           {"[services.openai]\nbase_url = 5\n", "services.openai.base_url"},
           {"[services.openai]\nbase_url = \"http://x/v1\"\nmax_concurrent = 0\n",
            "services.openai.max_concurrent"},
           {"[services.openai]\nmax_attempts = 2\n", "services.openai.base_url is not set"},
           {"services = 3\n", "[services]"},
       }) {
    auto config = Load(toml);
    ASSERT_FALSE(config) << toml;
    EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(config.error().message.find(words), std::string::npos) << config.error().message;
  }
}

}  // namespace
}  // namespace reprise
