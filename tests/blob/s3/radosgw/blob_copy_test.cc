// CopyBlobs (blob/blob_copy.h) between a directory store and radosgw, both ways: every
// blob arrives with its bytes (compared by SHA-256) and content type, a second run copies
// nothing, an interrupted copy resumes where it stopped, and --verify reports (and
// repairs) a destination blob of the right size but other bytes.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "blob/blob_copy.h"
#include "blob/blob_store_wrapper.h"
#include "blob/fs/fs_blob_store.h"
#include "tests/support/backends/s3_test_env.h"
#include "tests/support/test_support.h"

namespace reprise::blob {
namespace {

// Deterministic bytes: a small LCG from `seed`.
std::string Pattern(size_t size, uint32_t seed) {
  std::string bytes(size, '\0');
  uint32_t state = seed;
  for (auto& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<char>(state >> 24);
  }
  return bytes;
}

struct Sample {
  std::string key;
  size_t size;
};

// One blob over the S3 store's 8 MiB part size, so it goes up as a multipart upload.
const std::vector<Sample> kSamples = {{"originals/aa/one", 1},
                                      {"originals/bb/two", 1000},
                                      {"derivatives/cc/three/waveform.json", 300 * 1024},
                                      {"originals/dd/large", 9 * 1024 * 1024 + 17}};

class BlobCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s3_ = S3TestStore::Open(FreshS3Options(Fresh::kPrefix));
    ASSERT_TRUE(s3_);
    auto source = FsBlobStore::Open(dir_.Join("source"));
    ASSERT_TRUE(source) << source.error().ToString();
    source_ = std::move(*source);
    auto back = FsBlobStore::Open(dir_.Join("back"));
    ASSERT_TRUE(back) << back.error().ToString();
    back_ = std::move(*back);
    for (size_t i = 0; i < kSamples.size(); ++i) {
      ASSERT_TRUE(PutBytes(*source_, kSamples[i].key,
                           Pattern(kSamples[i].size, static_cast<uint32_t>(i + 1))));
    }
  }

  // Every sample has the same SHA-256 in `store` as in the source.
  void ExpectSameBytes(BlobStore& store) {
    for (const auto& sample : kSamples) {
      auto expected = HashBlob(*source_, sample.key, 4096);
      auto actual = HashBlob(store, sample.key, 65536);
      ASSERT_TRUE(expected && actual) << sample.key;
      EXPECT_EQ(*expected, *actual) << sample.key;
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<S3TestStore> s3_;
  std::unique_ptr<BlobStore> source_;
  std::unique_ptr<BlobStore> back_;
};

int64_t TotalBytes() {
  int64_t total = 0;
  for (const auto& sample : kSamples) total += static_cast<int64_t>(sample.size);
  return total;
}

TEST_F(BlobCopyTest, FsToS3AndBackArriveWithTheSameHashes) {
  BlobCopyOptions verify;
  verify.verify = true;
  auto there = CopyBlobs(*source_, s3_->store(), verify, nullptr);
  ASSERT_TRUE(there) << there.error().ToString();
  EXPECT_EQ(there->objects, static_cast<int64_t>(kSamples.size()));
  EXPECT_EQ(there->copied, static_cast<int64_t>(kSamples.size()));
  EXPECT_EQ(there->copied_bytes, TotalBytes());
  EXPECT_EQ(there->verified, static_cast<int64_t>(kSamples.size()));
  EXPECT_EQ(there->mismatches, 0);
  ExpectSameBytes(s3_->store());

  auto back = CopyBlobs(s3_->store(), *back_, verify, nullptr);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->copied, static_cast<int64_t>(kSamples.size()));
  EXPECT_EQ(back->mismatches, 0);
  ExpectSameBytes(*back_);

  // Run again: everything is there, nothing is sent.
  auto again = CopyBlobs(*source_, s3_->store(), {}, nullptr);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->copied, 0);
  EXPECT_EQ(again->skipped, static_cast<int64_t>(kSamples.size()));
  EXPECT_EQ(again->skipped_bytes, TotalBytes());
}

TEST_F(BlobCopyTest, ContentTypesSurviveS3ToFsToS3) {
  auto writer = s3_->store().NewWriter();
  ASSERT_TRUE(writer);
  (*writer)->SetContentType("video/mp4");
  const std::string bytes = Pattern(4096, 9);
  ASSERT_TRUE((*writer)->Write(std::as_bytes(std::span(bytes.data(), bytes.size()))));
  ASSERT_TRUE((*writer)->Commit("originals/ee/typed"));
  auto other = S3TestStore::Open(FreshS3Options(Fresh::kPrefix));
  ASSERT_TRUE(other);

  ASSERT_TRUE(CopyBlobs(s3_->store(), other->store(), {}, nullptr));
  auto type = other->store().ContentType("originals/ee/typed");
  ASSERT_TRUE(type) << type.error().ToString();
  EXPECT_EQ(*type, "video/mp4");
}

// A destination whose writers stop working after `healthy` blobs, as a copy killed midway.
class FailingAfter final : public BlobStoreWrapper {
 public:
  FailingAfter(BlobStore& target, int healthy) : BlobStoreWrapper(target), healthy_(healthy) {}
  Result<std::unique_ptr<BlobWriter>> NewWriter() override {
    if (healthy_-- <= 0) return Fail(ErrorCode::kUnavailable, "connection reset (injected)");
    return BlobStoreWrapper::NewWriter();
  }

 private:
  int healthy_;
};

TEST_F(BlobCopyTest, AnInterruptedCopyResumesWithTheRest) {
  FailingAfter interrupted(s3_->store(), 2);
  auto first = CopyBlobs(*source_, interrupted, {}, nullptr);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::kUnavailable);

  BlobCopyOptions verify;
  verify.verify = true;
  auto resumed = CopyBlobs(*source_, s3_->store(), verify, nullptr);
  ASSERT_TRUE(resumed) << resumed.error().ToString();
  EXPECT_EQ(resumed->skipped, 2);
  EXPECT_EQ(resumed->copied, static_cast<int64_t>(kSamples.size()) - 2);
  EXPECT_EQ(resumed->mismatches, 0);
  ExpectSameBytes(s3_->store());
}

TEST_F(BlobCopyTest, VerifyReportsAndRepairsACorruptedDestinationBlob) {
  ASSERT_TRUE(CopyBlobs(*source_, s3_->store(), {}, nullptr));
  const Sample& damaged = kSamples[1];
  ASSERT_TRUE(PutBytes(s3_->store(), damaged.key, Pattern(damaged.size, 99)));

  // Sizes agree, so only hashing notices.
  auto unverified = CopyBlobs(*source_, s3_->store(), {}, nullptr);
  ASSERT_TRUE(unverified);
  EXPECT_EQ(unverified->mismatches, 0);
  EXPECT_EQ(unverified->copied, 0);

  BlobCopyOptions verify;
  verify.verify = true;
  auto checked = CopyBlobs(*source_, s3_->store(), verify, nullptr);
  ASSERT_TRUE(checked) << checked.error().ToString();
  EXPECT_EQ(checked->mismatches, 1);
  EXPECT_EQ(checked->mismatched_keys, std::vector<std::string>{damaged.key});
  EXPECT_EQ(checked->copied, 1);
  ExpectSameBytes(s3_->store());

  auto clean = CopyBlobs(*source_, s3_->store(), verify, nullptr);
  ASSERT_TRUE(clean);
  EXPECT_EQ(clean->mismatches, 0);
  EXPECT_EQ(clean->copied, 0);
}

}  // namespace
}  // namespace reprise::blob
