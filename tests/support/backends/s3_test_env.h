// The radosgw that ctest's `s3` fixture started (scripts/s3_server.sh), as tests see it
// (the "s3" entry of BlobStoreBackends(), the radosgw suite, the API suite):
// its URL from REPRISE_TEST_S3_URL or $REPRISE_TEST_S3_DIR/url, credentials from
// $REPRISE_TEST_S3_DIR/env or the AWS_* variables. A test that finds no server FAILS: CI
// never skips the S3 tests.
//
// S3TestStore gives each test a store of its own — a fresh bucket, or a fresh prefix in
// the server's bucket — and deletes everything in it when the test ends.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "blob/s3/s3_blob_store.h"
#include "core/crypto.h"
#include "core/hash.h"
#include "tests/support/blob_backends.h"

namespace reprise::blob {

struct S3TestServer {
  s3::S3Location location;
  s3::Credentials credentials;
};

inline std::string ReadLineOf(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// nullopt (with a test failure saying why) when the fixture's server cannot be found.
inline std::optional<S3TestServer> FindS3TestServer() {
  const char* dir = std::getenv("REPRISE_TEST_S3_DIR");
  const char* url = std::getenv("REPRISE_TEST_S3_URL");
  std::string text = url != nullptr ? url : "";
  if (text.empty() && dir != nullptr) text = ReadLineOf(std::string(dir) + "/url");
  if (text.empty()) {
    ADD_FAILURE() << "no S3 server: run through ctest (fixture s3, scripts/s3_server.sh) or set "
                     "REPRISE_TEST_S3_URL and the AWS_* variables";
    return std::nullopt;
  }
  std::map<std::string, std::string> values;
  if (dir != nullptr) {
    std::ifstream env(std::string(dir) + "/env");
    for (std::string line; std::getline(env, line);) {
      size_t eq = line.find('=');
      if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  auto lookup = [&](const char* name) -> const char* {
    auto it = values.find(name);
    return it != values.end() ? it->second.c_str() : std::getenv(name);
  };
  auto location = s3::ParseS3Url(text);
  auto credentials = s3::CredentialsFromEnvironment(lookup);
  if (!location || !credentials) {
    ADD_FAILURE() << "bad S3 test server settings: "
                  << (!location ? location.error() : credentials.error()).ToString();
    return std::nullopt;
  }
  return S3TestServer{*location, *credentials};
}

enum class Fresh { kBucket, kPrefix };

// Options for a store of its own: a new bucket ("reprise-t-<random>", no prefix, created
// here) or a new random prefix below the server's own in its bucket.
inline std::optional<S3BlobStoreOptions> FreshS3Options(Fresh fresh) {
  auto server = FindS3TestServer();
  if (!server) return std::nullopt;
  auto random = RandomBytes(6);
  if (!random) return std::nullopt;
  S3BlobStoreOptions options;
  options.client.location = server->location;
  options.client.credentials = server->credentials;
  if (fresh == Fresh::kBucket) {
    options.client.location.bucket = "reprise-t-" + HexLower(*random);
    options.client.location.prefix.clear();
    auto created = s3::S3Client(options.client).CreateBucket();
    if (!created) {
      ADD_FAILURE() << "cannot create a test bucket: " << created.error().ToString();
      return std::nullopt;
    }
  } else {
    std::string& prefix = options.client.location.prefix;
    prefix += (prefix.empty() ? "" : "/") + HexLower(*random);
  }
  return options;
}

class S3TestStore final : public BlobStoreHarness {
 public:
  // Null (with a test failure) when no store could be opened.
  static std::unique_ptr<S3TestStore> Open(std::optional<S3BlobStoreOptions> options) {
    if (!options) return nullptr;
    auto store = S3BlobStore::Open(*options);
    if (!store) {
      ADD_FAILURE() << "cannot open the S3 test store: " << store.error().ToString();
      return nullptr;
    }
    return std::unique_ptr<S3TestStore>(new S3TestStore(std::move(*store), *options));
  }

  ~S3TestStore() override {
    std::vector<std::string> keys;
    auto listed = store_->List("", [&](const BlobInfo& info) {
      keys.push_back(info.key);
      return true;
    });
    EXPECT_TRUE(listed) << listed.error().ToString();
    for (const auto& key : keys) EXPECT_TRUE(store_->Delete(key));
    if (options_.client.location.prefix.empty()) {
      auto deleted = s3::S3Client(options_.client).DeleteBucket();
      EXPECT_TRUE(deleted) << deleted.error().ToString();
    }
  }

  BlobStore& store() override { return *store_; }
  // What `reprise` takes to reach this store ([blob] url; credentials in Settings()).
  std::string Url() const override {
    const s3::S3Location& location = options_.client.location;
    return "s3://" + location.bucket + (location.prefix.empty() ? "" : "/" + location.prefix) +
           "?endpoint=" + location.scheme + "://" + location.host + "&region=" + location.region +
           (location.path_style ? "&path_style=true" : "");
  }
  BlobConfig Settings() const override {
    BlobConfig settings;
    settings.access_key_id = options_.client.credentials.access_key_id;
    settings.secret_access_key = options_.client.credentials.secret_access_key;
    settings.session_token = options_.client.credentials.session_token;
    return settings;
  }

 private:
  S3TestStore(std::unique_ptr<BlobStore> store, S3BlobStoreOptions options)
      : store_(std::move(store)), options_(std::move(options)) {}

  std::unique_ptr<BlobStore> store_;
  S3BlobStoreOptions options_;
};

}  // namespace reprise::blob
