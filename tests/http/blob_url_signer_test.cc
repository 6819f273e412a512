// Signed blob URLs: round trip, expiry on the fake clock to the second, and every way of
// changing a field or the secret refused with the right error.
#include "http/blob_url_signer.h"

#include <gtest/gtest.h>

#include <string>

namespace reprise::http {
namespace {

using std::chrono::seconds;

const std::string kSecret(32, 's');
constexpr std::string_view kKey = "assets/01J/hls/7/seg_00000.ts";

struct SignedUrl {
  std::string key;  // percent-encoded, as in the path
  std::string expires;
  std::string sig;
};

// Splits "/blobs/<key>?expires=<n>&sig=<s>" the way the route will see it.
SignedUrl Split(const std::string& url) {
  EXPECT_EQ(url.rfind("/blobs/", 0), 0u) << url;
  size_t query = url.find('?');
  size_t amp = url.find("&sig=");
  EXPECT_NE(query, std::string::npos) << url;
  EXPECT_EQ(url.compare(query, 9, "?expires="), 0) << url;
  return {url.substr(7, query - 7), url.substr(query + 9, amp - query - 9), url.substr(amp + 5)};
}

class BlobUrlSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = BlobUrlSigner::Create(kSecret, clock_);
    ASSERT_TRUE(signer) << signer.error().ToString();
    signer_ = std::move(*signer);
  }

  SignedUrl SignOrDie(std::string_view key, seconds ttl = BlobUrlSigner::kDefaultTtl) {
    auto url = signer_->Sign(key, ttl);
    EXPECT_TRUE(url) << url.error().ToString();
    return url ? Split(*url) : SignedUrl{};
  }

  void ExpectRefused(std::string_view key, std::string_view expires, std::string_view sig,
                     ErrorCode code, std::string_view message_part) {
    auto verified = signer_->Verify(key, expires, sig);
    ASSERT_FALSE(verified) << key << " " << expires << " " << sig;
    EXPECT_EQ(verified.error().code, code) << verified.error().ToString();
    EXPECT_NE(verified.error().message.find(message_part), std::string::npos)
        << verified.error().ToString();
  }

  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<BlobUrlSigner> signer_;
};

TEST_F(BlobUrlSignerTest, SignThenVerifyRoundTrips) {
  SignedUrl url = SignOrDie(kKey);
  EXPECT_EQ(url.key, kKey);
  EXPECT_EQ(url.expires, "1700003600");  // default one hour
  EXPECT_EQ(url.sig.size(), 43u);
  EXPECT_TRUE(signer_->Verify(kKey, url.expires, url.sig));
}

TEST_F(BlobUrlSignerTest, SignatureIsTheHmacOfTheDocumentedMessage) {
  // HMAC-SHA256(key = 32 x 's', "reprise-blob-url/v1\na/b.png\n1700000060"), computed with
  //   printf 'reprise-blob-url/v1\na/b.png\n1700000060' |
  //     openssl dgst -sha256 -hmac ssssssssssssssssssssssssssssssss -binary |
  //     basenc --base64url | tr -d =
  auto url = signer_->Sign("a/b.png", seconds(60));
  ASSERT_TRUE(url) << url.error().ToString();
  EXPECT_EQ(*url,
            "/blobs/a/b.png?expires=1700000060&sig=EWRpNWQcXqSnsesIts9uPC-BktGYIbhXYssu5nbydZI");
}

TEST_F(BlobUrlSignerTest, ValidUpToTheExpirySecondAndExpiredOneSecondLater) {
  SignedUrl url = SignOrDie(kKey, seconds(60));
  clock_.Advance(60'000'000);  // exactly at expires
  EXPECT_TRUE(signer_->Verify(kKey, url.expires, url.sig));
  clock_.Advance(999'999);  // the last microsecond of that second
  EXPECT_TRUE(signer_->Verify(kKey, url.expires, url.sig));
  clock_.Advance(1);  // expires + 1
  ExpectRefused(kKey, url.expires, url.sig, ErrorCode::kPermissionDenied, "expired at");
}

TEST_F(BlobUrlSignerTest, TamperedKeyIsRefused) {
  SignedUrl url = SignOrDie(kKey);
  ExpectRefused("assets/01J/hls/7/seg_00001.ts", url.expires, url.sig, ErrorCode::kPermissionDenied,
                "does not match");
}

TEST_F(BlobUrlSignerTest, TamperedExpiryIsRefused) {
  SignedUrl url = SignOrDie(kKey);
  ExpectRefused(kKey, "1700003601", url.sig, ErrorCode::kPermissionDenied, "does not match");
  ExpectRefused(kKey, "9999999999", url.sig, ErrorCode::kPermissionDenied, "does not match");
}

TEST_F(BlobUrlSignerTest, KeyAndExpiryCannotBeSpliced) {
  // A URL for key "a/1" expiring at 7 must not verify as key "a/17" or "a" with another split.
  auto first = signer_->Sign("a/1", seconds(60));
  ASSERT_TRUE(first);
  SignedUrl url = Split(*first);
  ExpectRefused("a/1" + url.expires.substr(0, 1), url.expires.substr(1), url.sig,
                ErrorCode::kPermissionDenied, "does not match");
}

TEST_F(BlobUrlSignerTest, TamperedSignatureIsRefused) {
  SignedUrl url = SignOrDie(kKey);
  for (size_t i : {size_t{0}, size_t{20}, size_t{42}}) {
    std::string sig = url.sig;
    sig[i] = sig[i] == 'A' ? 'B' : 'A';
    ExpectRefused(kKey, url.expires, sig, ErrorCode::kPermissionDenied, "does not match");
  }
}

TEST_F(BlobUrlSignerTest, TruncatedOrPaddedSignatureIsMalformed) {
  SignedUrl url = SignOrDie(kKey);
  ExpectRefused(kKey, url.expires, url.sig.substr(0, 42), ErrorCode::kInvalidArgument,
                "43 base64url characters");
  ExpectRefused(kKey, url.expires, "", ErrorCode::kInvalidArgument, "43 base64url characters");
  ExpectRefused(kKey, url.expires, url.sig + "=", ErrorCode::kInvalidArgument,
                "43 base64url characters");
  std::string standard_base64 = url.sig;
  standard_base64[5] = '+';
  ExpectRefused(kKey, url.expires, standard_base64, ErrorCode::kInvalidArgument, "base64url");
}

TEST_F(BlobUrlSignerTest, MalformedExpiryIsRefused) {
  SignedUrl url = SignOrDie(kKey);
  for (std::string_view expires : {"", "-1", "+1700003600", "01700003600", "1700003600.0",
                                   "17000036OO", " 1700003600", "12345678901234567890"}) {
    ExpectRefused(kKey, expires, url.sig, ErrorCode::kInvalidArgument, "Unix seconds");
  }
}

TEST_F(BlobUrlSignerTest, SignatureUnderAnotherSecretIsRefused) {
  auto other = BlobUrlSigner::Create(std::string(32, 't'), clock_);
  ASSERT_TRUE(other);
  auto foreign = (*other)->Sign(kKey);
  ASSERT_TRUE(foreign);
  SignedUrl url = Split(*foreign);
  ExpectRefused(kKey, url.expires, url.sig, ErrorCode::kPermissionDenied, "does not match");
}

TEST_F(BlobUrlSignerTest, TraversalAndUnsafeKeysAreRefused) {
  SignedUrl url = SignOrDie(kKey);
  for (std::string_view key : {"../etc/passwd", "assets/../../etc/passwd", "/etc/passwd",
                               "assets/./a", "a//b", "a\\b", ".hidden/x", "a/\nb", ""}) {
    EXPECT_FALSE(signer_->Sign(key)) << key;
    ExpectRefused(key, url.expires, url.sig, ErrorCode::kInvalidArgument, "");
  }
}

TEST_F(BlobUrlSignerTest, ShortSecretIsRefused) {
  auto signer = BlobUrlSigner::Create(std::string(31, 's'), clock_);
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(signer.error().message.find("at least 32"), std::string::npos);
}

TEST_F(BlobUrlSignerTest, TtlMustBePositiveAndAtMostAWeek) {
  EXPECT_FALSE(signer_->Sign(kKey, seconds(0)));
  EXPECT_FALSE(signer_->Sign(kKey, seconds(-5)));
  EXPECT_FALSE(signer_->Sign(kKey, BlobUrlSigner::kMaxTtl + seconds(1)));
  EXPECT_TRUE(signer_->Sign(kKey, BlobUrlSigner::kMaxTtl));
}

TEST_F(BlobUrlSignerTest, KeysArePercentEncodedInThePathAndVerifiedDecoded) {
  std::string key = "uploads/my clip?#%+&=.mp4";
  auto signed_url = signer_->Sign(key);
  ASSERT_TRUE(signed_url) << signed_url.error().ToString();
  SignedUrl url = Split(*signed_url);
  EXPECT_EQ(url.key, "uploads/my%20clip%3F%23%25%2B%26%3D.mp4");
  EXPECT_TRUE(signer_->Verify(key, url.expires, url.sig));
  ExpectRefused(url.key, url.expires, url.sig, ErrorCode::kPermissionDenied, "does not match");
}

TEST(PercentEncodeKey, KeepsUnreservedAndSlashes) {
  EXPECT_EQ(PercentEncodeKey("a-Z_0.~/b"), "a-Z_0.~/b");
  EXPECT_EQ(PercentEncodeKey("\x7f"), "%7F");
}

TEST_F(BlobUrlSignerTest, SharedExpiryIsTheSameWithinAStepAndLivesAtLeastTheTtl) {
  // 1'700'000'000 is 20 s into a minute: now + 3600 rounds up to the next whole minute.
  const int64_t now = 1'700'000'000;
  auto first = signer_->SharedExpiry();
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(*first % BlobUrlSigner::kExpiryStep.count(), 0);
  EXPECT_GE(*first, now + 3600);
  EXPECT_LT(*first, now + 3600 + BlobUrlSigner::kExpiryStep.count());

  // Later in the same step: the same expiry, so the same URL.
  auto url = signer_->SignUntil(kKey, *first);
  ASSERT_TRUE(url) << url.error().ToString();
  const int64_t to_step_end = *first - (now + 3600);
  clock_.Advance(to_step_end * 1'000'000);
  EXPECT_EQ(*signer_->SharedExpiry(), *first);
  EXPECT_EQ(*signer_->SignUntil(kKey, *signer_->SharedExpiry()), *url);
  // One second later the step has moved on.
  clock_.Advance(1'000'000);
  EXPECT_EQ(*signer_->SharedExpiry(), *first + BlobUrlSigner::kExpiryStep.count());

  SignedUrl parts = Split(*url);
  EXPECT_EQ(parts.expires, std::to_string(*first));
  EXPECT_TRUE(signer_->Verify(kKey, parts.expires, parts.sig));
}

TEST_F(BlobUrlSignerTest, SignUntilRefusesExpiriesInThePastOrTooFarAhead) {
  const int64_t now = 1'700'000'000;
  EXPECT_EQ(signer_->SignUntil(kKey, now).error().code, ErrorCode::kInvalidArgument);
  const int64_t longest = now + BlobUrlSigner::kMaxTtl.count() + BlobUrlSigner::kExpiryStep.count();
  EXPECT_TRUE(signer_->SignUntil(kKey, longest));
  EXPECT_EQ(signer_->SignUntil(kKey, longest + 1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(signer_->SignUntil("../etc/passwd", now + 60).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(signer_->SharedExpiry(seconds(0)).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace reprise::http
