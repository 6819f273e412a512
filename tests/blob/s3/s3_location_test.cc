// s3:// URLs as users write them (blob/s3/s3_location.h) and credentials from AWS_*.
#include "blob/s3/s3_location.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace reprise::blob::s3 {
namespace {

TEST(S3Location, ParsesRadosgwUrlWithEveryParameter) {
  auto location = ParseS3Url(
      "s3://media-bucket/reprise/prod?endpoint=http://"
      "127.0.0.1:7480&region=us-east-1&path_style=true");
  ASSERT_TRUE(location) << location.error().ToString();
  EXPECT_EQ(location->bucket, "media-bucket");
  EXPECT_EQ(location->prefix, "reprise/prod");
  EXPECT_EQ(location->scheme, "http");
  EXPECT_EQ(location->host, "127.0.0.1:7480");
  EXPECT_EQ(location->region, "us-east-1");
  EXPECT_TRUE(location->path_style);
  EXPECT_EQ(location->HostHeader(), "127.0.0.1:7480");
  EXPECT_EQ(location->PathOf("a/b"), "/media-bucket/a/b");
  EXPECT_EQ(location->BucketUrl(), "http://127.0.0.1:7480/media-bucket");
}

TEST(S3Location, DefaultsToAwsVirtualHostStyle) {
  auto location = ParseS3Url("s3://my-bucket");
  ASSERT_TRUE(location) << location.error().ToString();
  EXPECT_EQ(location->prefix, "");
  EXPECT_EQ(location->scheme, "https");
  EXPECT_EQ(location->host, "s3.us-east-1.amazonaws.com");
  EXPECT_FALSE(location->path_style);
  EXPECT_EQ(location->HostHeader(), "my-bucket.s3.us-east-1.amazonaws.com");
  EXPECT_EQ(location->PathOf("k"), "/k");

  auto eu = ParseS3Url("s3://my-bucket/p/?region=eu-west-3");
  ASSERT_TRUE(eu) << eu.error().ToString();
  EXPECT_EQ(eu->host, "s3.eu-west-3.amazonaws.com");
  EXPECT_EQ(eu->prefix, "p") << "surrounding slashes are dropped";
}

TEST(S3Location, AcceptsPercentEncodedEndpoint) {
  auto location =
      ParseS3Url("s3://bkt/x?endpoint=https%3A%2F%2Facct.r2.cloudflarestorage.com%2F&region=auto");
  ASSERT_TRUE(location) << location.error().ToString();
  EXPECT_EQ(location->scheme, "https");
  EXPECT_EQ(location->host, "acct.r2.cloudflarestorage.com");
  EXPECT_EQ(location->region, "auto");
}

TEST(S3Location, RefusesWhatWouldSilentlyGoWrong) {
  for (const char* url :
       {"http://bucket/x", "s3://", "s3://ab", "s3://Upper-Case", "s3://bucket_underscore",
        "s3://-bucket", "s3://bucket/../x", "s3://bucket/a//b", "s3://bucket?endpont=http://x",
        "s3://bucket?path_style=yes", "s3://bucket?endpoint=ftp://x",
        "s3://bucket?endpoint=http://host/path", "s3://bucket?region="}) {
    auto location = ParseS3Url(url);
    ASSERT_FALSE(location) << url;
    EXPECT_EQ(location.error().code, ErrorCode::kInvalidArgument) << url;
  }
  auto typo = ParseS3Url("s3://bucket?endpont=http://x");
  EXPECT_NE(typo.error().message.find("unknown parameter 'endpont'"), std::string::npos)
      << typo.error().message;
}

TEST(S3Location, CredentialsFromStandardVariables) {
  std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", "AKID"},
                                            {"AWS_SECRET_ACCESS_KEY", "secret"},
                                            {"AWS_SESSION_TOKEN", "token"}};
  auto lookup = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto credentials = CredentialsFromEnvironment(lookup);
  ASSERT_TRUE(credentials) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "AKID");
  EXPECT_EQ(credentials->secret_access_key, "secret");
  EXPECT_EQ(credentials->session_token, "token");

  env.erase("AWS_SECRET_ACCESS_KEY");
  auto missing = CredentialsFromEnvironment(lookup);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(S3Location, ConfiguredSettingsFillWhatTheUrlLeavesOut) {
  S3Settings settings;
  settings.endpoint = "http://127.0.0.1:7480";
  settings.region = "eu-west-3";
  settings.path_style = true;
  auto filled = ParseS3Url("s3://media/lib", settings);
  ASSERT_TRUE(filled) << filled.error().ToString();
  EXPECT_EQ(filled->scheme, "http");
  EXPECT_EQ(filled->host, "127.0.0.1:7480");
  EXPECT_EQ(filled->region, "eu-west-3");
  EXPECT_TRUE(filled->path_style);

  auto url_wins = ParseS3Url(
      "s3://media/lib?endpoint=https://r2.example&region=auto&path_style=false", settings);
  ASSERT_TRUE(url_wins) << url_wins.error().ToString();
  EXPECT_EQ(url_wins->host, "r2.example");
  EXPECT_EQ(url_wins->region, "auto");
  EXPECT_FALSE(url_wins->path_style);

  settings.endpoint = "ftp://nope";
  EXPECT_FALSE(ParseS3Url("s3://media/lib", settings)) << "a bad configured endpoint is refused";
}

TEST(S3Location, ConfiguredCredentialsBeatTheEnvironmentAndComeInPairs) {
  auto env = [](const char* name) -> const char* {
    std::string_view wanted = name;
    if (wanted == "AWS_ACCESS_KEY_ID") return "ENVKEY";
    if (wanted == "AWS_SECRET_ACCESS_KEY") return "envsecret";
    return nullptr;
  };
  auto from_env = ResolveCredentials({}, env);
  ASSERT_TRUE(from_env) << from_env.error().ToString();
  EXPECT_EQ(from_env->access_key_id, "ENVKEY");

  S3Settings settings;
  settings.credentials = {"CFGKEY", "cfgsecret", "cfgtoken"};
  auto configured = ResolveCredentials(settings, env);
  ASSERT_TRUE(configured) << configured.error().ToString();
  EXPECT_EQ(configured->access_key_id, "CFGKEY");
  EXPECT_EQ(configured->secret_access_key, "cfgsecret");
  EXPECT_EQ(configured->session_token, "cfgtoken");

  settings.credentials = {"CFGKEY", "", ""};
  auto half = ResolveCredentials(settings, env);
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(half.error().message.find("blob.secret_access_key"), std::string::npos);
}

}  // namespace
}  // namespace reprise::blob::s3
