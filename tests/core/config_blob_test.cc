// The [blob] table beside its url: S3 endpoint, region, path style and credentials, and the
// lifetime of handed-out blob URLs, from the file and from REPRISE_BLOB_* (core/config.h).
#include <string>

#include <gtest/gtest.h>

#include "core/config.h"
#include "tests/support/test_support.h"

namespace reprise {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(BlobConfig, DefaultsAreEmptyAndAnHour) {
  auto config = LoadConfig({std::nullopt, std::nullopt, {}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_TRUE(config->blob.access_key_id.empty());
  EXPECT_TRUE(config->blob.secret_access_key.empty());
  EXPECT_FALSE(config->blob.path_style.has_value());
  EXPECT_EQ(config->blob.url_expiry_seconds, 3600);
}

TEST(BlobConfig, FileSetsCredentialsEndpointAndExpiry) {
  TempDir dir;
  WriteFile(dir.Join("r.toml"),
            "[blob]\n"
            "url = \"s3://media/lib\"\n"
            "access_key_id = \"AKID\"\n"
            "secret_access_key = \"s3cr3t\"\n"
            "session_token = \"tok\"\n"
            "endpoint = \"http://127.0.0.1:7480\"\n"
            "region = \"eu-west-3\"\n"
            "path_style = true\n"
            "url_expiry_seconds = 600\n");
  auto config = LoadConfig({dir.Join("r.toml"), std::nullopt, {}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->blob_url, "s3://media/lib");
  EXPECT_EQ(config->blob.access_key_id, "AKID");
  EXPECT_EQ(config->blob.secret_access_key, "s3cr3t");
  EXPECT_EQ(config->blob.session_token, "tok");
  EXPECT_EQ(config->blob.endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(config->blob.region, "eu-west-3");
  EXPECT_EQ(config->blob.path_style, std::optional<bool>(true));
  EXPECT_EQ(config->blob.url_expiry_seconds, 600);
}

TEST(BlobConfig, EnvironmentBeatsTheFileAndKeepsSecretsAsStrings) {
  TempDir dir;
  WriteFile(dir.Join("r.toml"), "[blob]\naccess_key_id = \"file-key\"\npath_style = true\n");
  auto config = LoadConfig({dir.Join("r.toml"),
                            std::nullopt,
                            {{"REPRISE_BLOB_ACCESS_KEY_ID", "env-key"},
                             {"REPRISE_BLOB_SECRET_ACCESS_KEY", "12345"},
                             {"REPRISE_BLOB_SESSION_TOKEN", "true"},
                             {"REPRISE_BLOB_ENDPOINT", "http://[::1]:9000"},
                             {"REPRISE_BLOB_REGION", "auto"},
                             {"REPRISE_BLOB_PATH_STYLE", "false"},
                             {"REPRISE_BLOB_URL_EXPIRY_SECONDS", "120"}}});
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->blob.access_key_id, "env-key");
  EXPECT_EQ(config->blob.secret_access_key, "12345") << "a numeric-looking secret stays text";
  EXPECT_EQ(config->blob.session_token, "true");
  EXPECT_EQ(config->blob.endpoint, "http://[::1]:9000");
  EXPECT_EQ(config->blob.region, "auto");
  EXPECT_EQ(config->blob.path_style, std::optional<bool>(false));
  EXPECT_EQ(config->blob.url_expiry_seconds, 120);
}

TEST(BlobConfig, BadSettingsAreRefusedByName) {
  TempDir dir;
  for (const char* bad : {"[blob]\nacces_key_id = \"typo\"\n", "[blob]\nsecret_access_key = 5\n",
                          "[blob]\npath_style = \"yes\"\n", "[blob]\nurl_expiry_seconds = 0\n",
                          "[blob]\nurl_expiry_seconds = 604800\n"}) {
    WriteFile(dir.Join("bad.toml"), bad);
    auto config = LoadConfig({dir.Join("bad.toml"), std::nullopt, {}});
    ASSERT_FALSE(config) << bad;
    EXPECT_NE(config.error().message.find("blob."), std::string::npos) << config.error().message;
  }
}

}  // namespace
}  // namespace reprise
