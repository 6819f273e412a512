// The BlobStore contract for media types and presigned URLs (blob/blob_store.h): what every
// backend must do, whether or not it keeps types or signs URLs. Backends that do are held
// to more in their own tests (tests/blob/s3/radosgw/).
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "blob/blob_store.h"
#include "tests/blob/blob_store_contract.h"

namespace reprise::blob {
namespace {

TEST_P(BlobStoreContract, ContentTypeIsWhatWasSetOrNothing) {
  auto writer = store().NewWriter();
  ASSERT_TRUE(IsOk(writer));
  (*writer)->SetContentType("video/mp4");
  ASSERT_TRUE(IsOk((*writer)->Write(std::as_bytes(std::span("mp4", 3)))));
  ASSERT_TRUE(IsOk((*writer)->Commit("typed/clip.mp4")));
  auto type = store().ContentType("typed/clip.mp4");
  ASSERT_TRUE(IsOk(type));
  EXPECT_TRUE(*type == "video/mp4" || type->empty()) << *type;
  auto got = GetBytes(store(), "typed/clip.mp4");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, "mp4") << "the type never changes the bytes";

  EXPECT_TRUE(FailsWith(store().ContentType("typed/missing"), ErrorCode::kNotFound));
  EXPECT_TRUE(FailsWith(store().ContentType("../typed"), ErrorCode::kInvalidArgument));
}

TEST_P(BlobStoreContract, PresignGetIsAUrlOrNotOffered) {
  constexpr int64_t kSignedAt = 1'800'000'000;
  ASSERT_TRUE(IsOk(PutBytes(store(), "signed/blob", "x")));
  auto url = store().PresignGet("signed/blob", kSignedAt, kDefaultPresignExpiry);
  ASSERT_TRUE(IsOk(url));
  if (url->has_value()) {
    EXPECT_EQ((*url)->rfind("http", 0), 0u) << **url;
    auto other = store().PresignGet("signed/other", kSignedAt, kDefaultPresignExpiry);
    ASSERT_TRUE(IsOk(other));
    EXPECT_NE(**other, **url) << "each key gets its own URL";
    auto again = store().PresignGet("signed/blob", kSignedAt, kDefaultPresignExpiry);
    ASSERT_TRUE(IsOk(again));
    EXPECT_EQ(**again, **url) << "the same arguments give the same URL";
    auto later = store().PresignGet("signed/blob", kSignedAt + 60, kDefaultPresignExpiry);
    ASSERT_TRUE(IsOk(later));
    EXPECT_NE(**later, **url) << "another signing time is another URL";
  }
  EXPECT_TRUE(FailsWith(store().PresignGet("/abs", kSignedAt, kDefaultPresignExpiry),
                        ErrorCode::kInvalidArgument));
  EXPECT_TRUE(FailsWith(store().PresignGet("signed/blob", -1, kDefaultPresignExpiry),
                        ErrorCode::kInvalidArgument));
  EXPECT_TRUE(FailsWith(store().PresignGet("signed/blob", kSignedAt, std::chrono::seconds(0)),
                        ErrorCode::kInvalidArgument));
  EXPECT_TRUE(
      FailsWith(store().PresignGet("signed/blob", kSignedAt, std::chrono::hours(24 * 7 + 1)),
                ErrorCode::kInvalidArgument));
  EXPECT_TRUE(IsOk(store().PresignGet("signed/blob", kSignedAt, std::chrono::hours(24 * 7))));
}

}  // namespace
}  // namespace reprise::blob
