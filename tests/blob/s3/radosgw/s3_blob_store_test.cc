// What only the S3 store has, against a real Ceph radosgw: multipart uploads with a part
// failing (the failure injected at the client's transport seam, a real cut connection),
// presigned URLs judged by radosgw itself through the curl command, content types, resumed
// reads, paged listings, prefixes and refused credentials.
#include "blob/s3/s3_blob_store.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/hash.h"
#include "tests/blob/blob_store_contract.h"
#include "tests/support/backends/s3_test_env.h"

namespace reprise::blob {
namespace {

using s3::InjectedFault;
using s3::S3Attempt;

std::span<const std::byte> Bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

int64_t NowSeconds() { return SystemClock().NowMicros() / 1'000'000; }

// Every attempt the client makes, and which ones the test cut.
class FaultLog {
 public:
  // Cuts the first attempt of (operation, part) `times` times in a row.
  FaultLog(std::string operation, int part, int times)
      : operation_(std::move(operation)), part_(part), times_(times) {}

  InjectedFault operator()(const S3Attempt& attempt) {
    std::lock_guard lock(mutex_);
    attempts_.push_back(std::string(attempt.operation) + "#" + std::to_string(attempt.part_number) +
                        "/" + std::to_string(attempt.attempt));
    if (attempt.operation == operation_ && attempt.part_number == part_ && cut_ < times_) {
      ++cut_;
      return InjectedFault::kConnectionReset;
    }
    return InjectedFault::kNone;
  }
  int cut() const {
    std::lock_guard lock(mutex_);
    return cut_;
  }
  int Count(const std::string& attempt) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count(attempts_.begin(), attempts_.end(), attempt));
  }

 private:
  mutable std::mutex mutex_;
  std::string operation_;
  int part_;
  int times_;
  int cut_ = 0;
  std::vector<std::string> attempts_;
};

// The hook is copied into the client; it reports to a log the test keeps.
std::function<InjectedFault(const S3Attempt&)> HookInto(FaultLog& log) {
  return [&log](const S3Attempt& attempt) { return log(attempt); };
}

// Writes `size` deterministic pseudo-random bytes in 1 MiB chunks; returns their SHA-256.
Sha256Digest WritePseudoRandom(BlobWriter& writer, int64_t size, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::vector<uint64_t> words(128 * 1024);
  Sha256 hash;
  for (int64_t done = 0; done < size;) {
    for (auto& word : words) word = generator();
    auto chunk = std::as_bytes(std::span(words));
    chunk = chunk.first(static_cast<size_t>(std::min<int64_t>(chunk.size(), size - done)));
    EXPECT_TRUE(IsOk(writer.Write(chunk)));
    hash.Update(chunk);
    done += static_cast<int64_t>(chunk.size());
  }
  return hash.Finish();
}

Sha256Digest HashOfBlob(BlobStore& store, std::string_view key, int64_t* bytes) {
  Sha256 hash;
  *bytes = 0;
  auto reader = store.Open(key);
  EXPECT_TRUE(IsOk(reader));
  if (!reader) return hash.Finish();
  std::vector<std::byte> buffer(256 * 1024);
  while (true) {
    auto n = (*reader)->Read(buffer);
    EXPECT_TRUE(IsOk(n));
    if (!n || *n == 0) break;
    hash.Update(std::span<const std::byte>(buffer.data(), *n));
    *bytes += static_cast<int64_t>(*n);
  }
  return hash.Finish();
}

double Seconds(std::chrono::steady_clock::duration elapsed) {
  return std::chrono::duration<double>(elapsed).count();
}

TEST(S3BlobStore, MultipartUploadOf200MbSurvivesAPartFailingOnce) {
  constexpr int64_t kSize = int64_t{200} * 1024 * 1024;
  FaultLog log("UploadPart", 3, 1);
  auto options = FreshS3Options(Fresh::kPrefix);
  ASSERT_TRUE(options);
  options->part_size = int64_t{8} * 1024 * 1024;
  options->client.fault_hook = HookInto(log);
  auto harness = S3TestStore::Open(options);
  ASSERT_TRUE(harness);
  BlobStore& store = harness->store();

  auto writer = store.NewWriter();
  ASSERT_TRUE(IsOk(writer));
  (*writer)->SetContentType("video/mp4");
  Sha256Digest written = WritePseudoRandom(**writer, kSize, 2026);
  auto start = std::chrono::steady_clock::now();
  auto committed = (*writer)->Commit("originals/big/200mb.bin");
  double upload_seconds = Seconds(std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(IsOk(committed));
  EXPECT_EQ(committed->size, kSize);

  EXPECT_EQ(log.cut(), 1) << "part 3's first attempt was cut";
  EXPECT_EQ(log.Count("UploadPart#3/1"), 1);
  EXPECT_EQ(log.Count("UploadPart#3/2"), 1) << "and retried once";
  EXPECT_EQ(log.Count("UploadPart#4/1"), 1);
  EXPECT_EQ(log.Count("CompleteMultipartUpload#0/1"), 1);

  auto size = store.Size("originals/big/200mb.bin");
  ASSERT_TRUE(IsOk(size));
  EXPECT_EQ(*size, kSize);
  auto type = store.ContentType("originals/big/200mb.bin");
  ASSERT_TRUE(IsOk(type));
  EXPECT_EQ(*type, "video/mp4");
  start = std::chrono::steady_clock::now();
  int64_t read = 0;
  Sha256Digest back = HashOfBlob(store, "originals/big/200mb.bin", &read);
  double download_seconds = Seconds(std::chrono::steady_clock::now() - start);
  EXPECT_EQ(read, kSize);
  EXPECT_EQ(HexLower(back), HexLower(written)) << "byte-identical after the retried part";

  s3::S3Client client(options->client);
  auto uploads = client.ListMultipartUploads(options->client.location.prefix);
  ASSERT_TRUE(IsOk(uploads));
  EXPECT_TRUE(uploads->empty()) << "no upload left open";
  std::cout << "[ measured ] 200 MiB multipart upload (8 MiB parts, one part retried): "
            << upload_seconds << " s, " << 200 / upload_seconds
            << " MiB/s; streaming read: " << download_seconds << " s, " << 200 / download_seconds
            << " MiB/s\n";
}

TEST(S3BlobStore, MultipartUploadIsAbortedWhenAPartKeepsFailing) {
  FaultLog log("UploadPart", 2, 1000);
  auto options = FreshS3Options(Fresh::kPrefix);
  ASSERT_TRUE(options);
  options->part_size = int64_t{5} * 1024 * 1024;
  options->client.retry.max_attempts = 3;
  options->client.retry.base_delay = std::chrono::milliseconds(1);
  options->client.fault_hook = HookInto(log);
  auto harness = S3TestStore::Open(options);
  ASSERT_TRUE(harness);
  BlobStore& store = harness->store();

  auto writer = store.NewWriter();
  ASSERT_TRUE(IsOk(writer));
  WritePseudoRandom(**writer, int64_t{12} * 1024 * 1024, 7);
  auto committed = (*writer)->Commit("never/complete.bin");
  ASSERT_TRUE(FailsWith(committed, ErrorCode::kUnavailable));
  EXPECT_NE(committed.error().message.find("UploadPart"), std::string::npos)
      << committed.error().message;
  EXPECT_EQ(log.cut(), 3) << "every attempt of part 2 was cut";
  EXPECT_EQ(log.Count("AbortMultipartUpload#0/1"), 1);
  EXPECT_EQ(log.Count("CompleteMultipartUpload#0/1"), 0);

  auto exists = store.Exists("never/complete.bin");
  ASSERT_TRUE(IsOk(exists));
  EXPECT_FALSE(*exists) << "nothing published under the key";
  s3::S3Client client(options->client);
  auto uploads = client.ListMultipartUploads(options->client.location.prefix);
  ASSERT_TRUE(IsOk(uploads));
  EXPECT_TRUE(uploads->empty()) << "the abandoned upload was aborted";
}

TEST(S3BlobStore, SmallPutRetriesAfterAConnectionReset) {
  FaultLog log("PutObject", 0, 1);
  auto options = FreshS3Options(Fresh::kPrefix);
  ASSERT_TRUE(options);
  options->client.fault_hook = HookInto(log);
  auto harness = S3TestStore::Open(options);
  ASSERT_TRUE(harness);
  ASSERT_TRUE(IsOk(PutBytes(harness->store(), "small/one", std::string(100'000, 's'))));
  EXPECT_EQ(log.Count("PutObject#0/2"), 1);
  auto got = GetBytes(harness->store(), "small/one");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, std::string(100'000, 's'));
}

TEST(S3BlobStore, ReaderResumesWhereAConnectionResetCutIt) {
  auto options = FreshS3Options(Fresh::kPrefix);
  ASSERT_TRUE(options);
  FaultLog log("GetObject", 0, 1);
  auto harness = S3TestStore::Open(options);
  ASSERT_TRUE(harness);
  auto writer = harness->store().NewWriter();
  ASSERT_TRUE(IsOk(writer));
  Sha256Digest written = WritePseudoRandom(**writer, int64_t{3} * 1024 * 1024 + 5, 11);
  ASSERT_TRUE(IsOk((*writer)->Commit("resume/me")));

  options->client.fault_hook = HookInto(log);
  auto cutting = S3BlobStore::Open(*options);
  ASSERT_TRUE(IsOk(cutting));
  int64_t read = 0;
  EXPECT_EQ(HexLower(HashOfBlob(**cutting, "resume/me", &read)), HexLower(written));
  EXPECT_EQ(read, int64_t{3} * 1024 * 1024 + 5);
  EXPECT_EQ(log.cut(), 1);
  EXPECT_EQ(log.Count("GetObject#0/1"), 2) << "opened, cut midway, resumed with a Range";
}

TEST(S3BlobStore, ReaderRefusesToMixVersionsWhenTheKeyIsReplaced) {
  auto harness = S3TestStore::Open(FreshS3Options(Fresh::kPrefix));
  ASSERT_TRUE(harness);
  BlobStore& store = harness->store();
  ASSERT_TRUE(IsOk(PutBytes(store, "versioned", std::string(4 * 1024 * 1024, 'o'))));
  auto reader = store.Open("versioned");
  ASSERT_TRUE(IsOk(reader));
  ASSERT_TRUE(IsOk(PutBytes(store, "versioned", std::string(4 * 1024 * 1024, 'n'))));
  // A seek starts a new GET, which must be of the version the reader opened.
  ASSERT_TRUE(IsOk((*reader)->Seek(1024)));
  std::array<std::byte, 16> buffer{};
  EXPECT_TRUE(FailsWith((*reader)->Read(buffer), ErrorCode::kConflict));
}

// The curl command's view of a URL: status, Content-Type and body.
struct CurlAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
};

CurlAnswer CurlGet(const std::string& url) {
  CurlAnswer answer;
  // Presigned URLs hold no single quote, so single-quoting passes them through the shell.
  std::string command = "curl -s -g -w '\\n%{http_code} %{content_type}' '" + url + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return answer;
  std::array<char, 4096> chunk{};
  std::string out;
  while (size_t n = std::fread(chunk.data(), 1, chunk.size(), pipe)) out.append(chunk.data(), n);
  ::pclose(pipe);
  size_t newline = out.rfind('\n');
  if (newline == std::string::npos) return answer;
  answer.body = out.substr(0, newline);
  std::string trailer = out.substr(newline + 1);
  answer.status = std::atoi(trailer.c_str());
  size_t space = trailer.find(' ');
  if (space != std::string::npos) answer.content_type = trailer.substr(space + 1);
  return answer;
}

TEST(S3BlobStore, PresignedUrlServesTheBlobToPlainCurlWithItsType) {
  auto harness = S3TestStore::Open(FreshS3Options(Fresh::kPrefix));
  ASSERT_TRUE(harness);
  BlobStore& store = harness->store();
  auto writer = store.NewWriter();
  ASSERT_TRUE(IsOk(writer));
  (*writer)->SetContentType("text/vtt");
  ASSERT_TRUE(IsOk((*writer)->Write(Bytes("WEBVTT\n\n00:00.000 --> 00:01.000\nhi there\n"))));
  ASSERT_TRUE(IsOk((*writer)->Commit("assets/a1/captions/r1/en file+1.vtt")));

  auto url = store.PresignGet("assets/a1/captions/r1/en file+1.vtt", NowSeconds(),
                              std::chrono::minutes(5));
  ASSERT_TRUE(IsOk(url));
  ASSERT_TRUE(url->has_value());
  EXPECT_NE((*url)->find("X-Amz-Expires=300"), std::string::npos) << **url;
  EXPECT_NE((*url)->find("en%20file%2B1.vtt?"), std::string::npos) << **url;
  CurlAnswer answer = CurlGet(**url);
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.content_type, "text/vtt");
  EXPECT_EQ(answer.body, "WEBVTT\n\n00:00.000 --> 00:01.000\nhi there\n");

  auto missing =
      store.PresignGet("assets/a1/captions/r1/missing.vtt", NowSeconds(), std::chrono::minutes(5));
  ASSERT_TRUE(IsOk(missing));
  EXPECT_EQ(CurlGet(**missing).status, 404);
}

TEST(S3BlobStore, TamperedOrExpiredPresignedUrlIsRefusedByRadosgw) {
  auto options = FreshS3Options(Fresh::kPrefix);
  ASSERT_TRUE(options);
  auto harness = S3TestStore::Open(options);
  ASSERT_TRUE(harness);
  BlobStore& store = harness->store();
  ASSERT_TRUE(IsOk(PutBytes(store, "private/a", "secret a")));
  ASSERT_TRUE(IsOk(PutBytes(store, "private/b", "secret b")));
  auto url = store.PresignGet("private/a", NowSeconds(), std::chrono::minutes(5));
  ASSERT_TRUE(IsOk(url));
  ASSERT_EQ(CurlGet(**url).status, 200);

  // One hex digit of the signature changed.
  std::string forged = **url;
  char& last = forged.back();
  last = last == '0' ? '1' : '0';
  CurlAnswer answer = CurlGet(forged);
  EXPECT_EQ(answer.status, 403) << answer.body;
  EXPECT_EQ(answer.body.find("secret"), std::string::npos);
  // The signature of a valid URL moved to another key.
  std::string moved = **url;
  moved.replace(moved.find("private/a?"), 10, "private/b?");
  EXPECT_EQ(CurlGet(moved).status, 403);
  // A longer life than was signed.
  std::string longer = **url;
  longer.replace(longer.find("X-Amz-Expires=300"), 17, "X-Amz-Expires=900");
  EXPECT_EQ(CurlGet(longer).status, 403);

  // Signed two hours ago for one minute: expired; the same URL signed now works.
  const int64_t now = NowSeconds();
  auto expired = store.PresignGet("private/a", now - 2 * 3600, std::chrono::minutes(1));
  ASSERT_TRUE(IsOk(expired));
  EXPECT_EQ(CurlGet(**expired).status, 403);
  auto fresh = store.PresignGet("private/a", now, std::chrono::minutes(1));
  ASSERT_TRUE(IsOk(fresh));
  EXPECT_EQ(CurlGet(**fresh).status, 200) << "the same URL signed now works";
}

TEST(S3BlobStore, RefusedCredentialsAreAClearError) {
  auto options = FreshS3Options(Fresh::kPrefix);
  ASSERT_TRUE(options);

  S3BlobStoreOptions wrong_secret = *options;
  wrong_secret.client.credentials.secret_access_key += "x";
  auto opened = S3BlobStore::Open(wrong_secret);
  ASSERT_TRUE(FailsWith(opened, ErrorCode::kPermissionDenied));
  EXPECT_NE(opened.error().message.find("SignatureDoesNotMatch"), std::string::npos)
      << opened.error().message;
  EXPECT_NE(opened.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_NE(opened.error().message.find("cannot open blob store s3://"), std::string::npos);
  EXPECT_EQ(opened.error().origin, "http:403");

  S3BlobStoreOptions unknown_key = *options;
  unknown_key.client.credentials.access_key_id = "NOSUCHKEY0000000";
  opened = S3BlobStore::Open(unknown_key);
  ASSERT_TRUE(FailsWith(opened, ErrorCode::kPermissionDenied));
  EXPECT_NE(opened.error().message.find("InvalidAccessKeyId"), std::string::npos)
      << opened.error().message;

  S3BlobStoreOptions no_bucket = *options;
  no_bucket.client.location.bucket = "reprise-no-such-bucket";
  EXPECT_TRUE(FailsWith(S3BlobStore::Open(no_bucket), ErrorCode::kNotFound));

  S3BlobStoreOptions nobody_home = *options;
  nobody_home.client.location.host = "127.0.0.1:1";
  nobody_home.client.retry.max_attempts = 2;
  nobody_home.client.retry.base_delay = std::chrono::milliseconds(1);
  auto unreachable = S3BlobStore::Open(nobody_home);
  ASSERT_TRUE(FailsWith(unreachable, ErrorCode::kUnavailable));
  EXPECT_NE(unreachable.error().message.find("after 2 attempts"), std::string::npos)
      << unreachable.error().message;
}

TEST(S3BlobStore, ListPagesThroughContinuationTokens) {
  auto options = FreshS3Options(Fresh::kPrefix);
  ASSERT_TRUE(options);
  options->list_page_size = 7;
  FaultLog log("", 0, 0);
  options->client.fault_hook = HookInto(log);
  auto harness = S3TestStore::Open(options);
  ASSERT_TRUE(harness);
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "paged/k%02d", i);
    keys.emplace_back(key);
    ASSERT_TRUE(IsOk(PutBytes(harness->store(), key, std::to_string(i))));
  }
  int lists_before = log.Count("ListObjectsV2#0/1");
  std::vector<std::string> seen;
  ASSERT_TRUE(IsOk(harness->store().List("paged/", [&](const BlobInfo& info) {
    seen.push_back(info.key);
    return true;
  })));
  EXPECT_EQ(seen, keys);
  EXPECT_EQ(log.Count("ListObjectsV2#0/1") - lists_before, 5) << "30 keys in pages of 7";
}

TEST(S3BlobStore, PrefixedStoreSeesOnlyItsOwnKeys) {
  auto outer_options = FreshS3Options(Fresh::kPrefix);
  ASSERT_TRUE(outer_options);
  S3BlobStoreOptions inner_options = *outer_options;
  inner_options.client.location.prefix += "/inner";
  auto outer = S3TestStore::Open(outer_options);
  auto inner = S3TestStore::Open(inner_options);
  ASSERT_TRUE(outer && inner);
  ASSERT_TRUE(IsOk(PutBytes(inner->store(), "a/b", "in")));
  ASSERT_TRUE(IsOk(PutBytes(outer->store(), "inner-not", "out")));
  std::vector<std::string> inner_keys;
  ASSERT_TRUE(IsOk(inner->store().List("", [&](const BlobInfo& info) {
    inner_keys.push_back(info.key);
    return true;
  })));
  EXPECT_EQ(inner_keys, std::vector<std::string>{"a/b"});
  auto through_outer = GetBytes(outer->store(), "inner/a/b");
  ASSERT_TRUE(IsOk(through_outer));
  EXPECT_EQ(*through_outer, "in");

  // With the prefix, a key of blob_store.h's maximum length passes S3's 1,024 bytes.
  std::string longest(1024, 'k');
  EXPECT_TRUE(FailsWith(PutBytes(inner->store(), longest, "x"), ErrorCode::kInvalidArgument));
  EXPECT_TRUE(FailsWith(inner->store().Exists(longest), ErrorCode::kInvalidArgument));
}

TEST(S3BlobStore, OpenUrlTakesEverythingFromTheUrlAndTheEnvironment) {
  auto server = FindS3TestServer();
  ASSERT_TRUE(server);
  const s3::S3Location& location = server->location;
  std::string url = "s3://" + location.bucket + "/" + location.prefix +
                    "/via-url?endpoint=" + location.scheme + "://" + location.host +
                    "&region=" + location.region + "&path_style=true";
  std::map<std::string, std::string> env = {
      {"AWS_ACCESS_KEY_ID", server->credentials.access_key_id},
      {"AWS_SECRET_ACCESS_KEY", server->credentials.secret_access_key}};
  auto store = S3BlobStore::OpenUrl(url, [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  ASSERT_TRUE(IsOk(store));
  EXPECT_NE((*store)->Describe().find("/via-url"), std::string::npos) << (*store)->Describe();
  ASSERT_TRUE(IsOk(CheckReadWrite(**store, "probe")));
  EXPECT_TRUE(IsOk((*store)->Delete("probe")));
}

TEST(S3BlobStore, OpenUrlTakesSettingsAndCredentialsFromConfigurationAndNeverShowsTheSecret) {
  auto server = FindS3TestServer();
  ASSERT_TRUE(server);
  const s3::S3Location& location = server->location;
  s3::S3Settings settings;
  settings.endpoint = location.scheme + "://" + location.host;
  settings.region = location.region;
  settings.path_style = true;
  settings.credentials = server->credentials;
  auto no_env = [](const char*) -> const char* { return nullptr; };
  auto store = S3BlobStore::OpenUrl(
      "s3://" + location.bucket + "/" + location.prefix + "/via-config", no_env, settings);
  ASSERT_TRUE(IsOk(store));
  const std::string described = (*store)->Describe();
  EXPECT_NE(described.find("/via-config"), std::string::npos) << described;
  EXPECT_EQ(described.find(server->credentials.secret_access_key), std::string::npos) << described;
  ASSERT_TRUE(IsOk(CheckReadWrite(**store, "probe")));
  EXPECT_TRUE(IsOk((*store)->Delete("probe")));

  settings.credentials.secret_access_key = "wrong-secret";
  auto refused = S3BlobStore::OpenUrl("s3://" + location.bucket, no_env, settings);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message.find("wrong-secret"), std::string::npos)
      << refused.error().message;
}

}  // namespace
}  // namespace reprise::blob
