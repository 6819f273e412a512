// Standard Webhooks signing and verification: the reference libraries' published vector,
// then every check Verify makes, each failing on its own with a message naming it.
#include "core/webhook_signature.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace reprise {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The vector every Standard Webhooks library tests its signer with
// (github.com/standard-webhooks/standard-webhooks: libraries/python/tests/test_webhooks.py
// test_sign_function, libraries/go/webhook_test.go TestWebhookSign,
// libraries/ruby/spec/webhook_spec.rb).
constexpr std::string_view kVectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kVectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kVectorTimestamp = 1614265330;
constexpr std::string_view kVectorPayload = R"({"test": 2432232314})";
constexpr std::string_view kVectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
// A valid-looking v1 entry that matches nothing (from the libraries' multi-signature test).
constexpr std::string_view kOtherSignature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kVectorNow = kVectorTimestamp * kSecond;

WebhookSecret Secret(std::string_view text) {
  auto secret = WebhookSecret::Parse(text);
  EXPECT_TRUE(secret.has_value()) << secret.error().ToString();
  return std::move(*secret);
}

class WebhookVerify : public ::testing::Test {
 protected:
  Result<void> Verify(std::string_view signature, std::string_view body = kVectorPayload,
                      int64_t now = kVectorNow, std::string_view id = kVectorId,
                      std::string_view timestamp = timestamp_) {
    return VerifyWebhook(secrets_, WebhookHeaders{id, timestamp, signature}, body, now);
  }
  static void ExpectRejected(const Result<void>& result, std::string_view why) {
    ASSERT_FALSE(result.has_value()) << "accepted; expected: " << why;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(result.error().message, HasSubstr(why));
  }

  std::vector<WebhookSecret> secrets_{Secret(kVectorSecret)};
  static inline const std::string timestamp_ = std::to_string(kVectorTimestamp);
};

TEST(WebhookSign, MatchesTheStandardWebhooksLibraryVector) {
  EXPECT_EQ(SignWebhook(Secret(kVectorSecret), kVectorId, kVectorTimestamp, kVectorPayload),
            kVectorSignature);
}

TEST_F(WebhookVerify, AcceptsTheLibraryVector) { EXPECT_TRUE(Verify(kVectorSignature)); }

TEST_F(WebhookVerify, AcceptsWhatSignProducesForAnyBody) {
  auto secret = WebhookSecret::Generate();
  ASSERT_TRUE(secret.has_value());
  secrets_ = {*secret};
  for (std::string body : {std::string(), std::string("{}"), std::string("a\0b\n.\xff", 6)}) {
    EXPECT_TRUE(Verify(SignWebhook(*secret, kVectorId, kVectorTimestamp, body), body)) << body;
  }
}

TEST_F(WebhookVerify, RejectsATamperedBodyIdOrTimestamp) {
  ExpectRejected(Verify(kVectorSignature, R"({"test": 2432232315})"), "none of the 1 v1");
  ExpectRejected(Verify(kVectorSignature, std::string(kVectorPayload) + " "), "none of the 1 v1");
  ExpectRejected(
      Verify(kVectorSignature, kVectorPayload, kVectorNow, "msg_p5jXN8AQM9LWM0D4loKWxJeK"),
      "none of the 1 v1");
  // A timestamp moved by one second, still well inside the tolerance.
  ExpectRejected(Verify(kVectorSignature, kVectorPayload, kVectorNow, kVectorId, "1614265331"),
                 "none of the 1 v1");
}

TEST_F(WebhookVerify, RejectsAWrongSecret) {
  auto other = WebhookSecret::Generate();
  ASSERT_TRUE(other.has_value());
  secrets_ = {*other};
  ExpectRejected(Verify(kVectorSignature), "none of the 1 v1 signature(s) matches 1 accepted");
}

TEST_F(WebhookVerify, AcceptsAnyOfSeveralSecretsDuringARotation) {
  auto fresh = WebhookSecret::Generate();
  ASSERT_TRUE(fresh.has_value());
  secrets_.insert(secrets_.begin(), *fresh);
  EXPECT_TRUE(Verify(kVectorSignature));
  EXPECT_TRUE(Verify(SignWebhook(*fresh, kVectorId, kVectorTimestamp, kVectorPayload)));
}

TEST_F(WebhookVerify, AcceptsTheTimestampAtTheToleranceAndRejectsOneSecondBeyond) {
  const int64_t tolerance = kWebhookTolerance.count() * kSecond;
  EXPECT_TRUE(Verify(kVectorSignature, kVectorPayload, kVectorNow + tolerance));
  EXPECT_TRUE(Verify(kVectorSignature, kVectorPayload, kVectorNow - tolerance));
  // Sub-second parts of now do not count against the sender.
  EXPECT_TRUE(Verify(kVectorSignature, kVectorPayload, kVectorNow + tolerance + kSecond - 1));
  ExpectRejected(Verify(kVectorSignature, kVectorPayload, kVectorNow + tolerance + kSecond),
                 "webhook-timestamp is 301 s in the past, more than the 300 s tolerance");
  ExpectRejected(Verify(kVectorSignature, kVectorPayload, kVectorNow - tolerance - kSecond),
                 "webhook-timestamp is 301 s in the future, more than the 300 s tolerance");
}

TEST_F(WebhookVerify, ChecksTheToleranceItIsGiven) {
  const auto verify = [&](int64_t now) {
    return VerifyWebhook(secrets_, {kVectorId, timestamp_, kVectorSignature}, kVectorPayload, now,
                         std::chrono::seconds(10));
  };
  EXPECT_TRUE(verify(kVectorNow + 10 * kSecond));
  ExpectRejected(verify(kVectorNow + 11 * kSecond), "11 s in the past, more than the 10 s");
  ExpectRejected(verify(kVectorNow - 11 * kSecond), "11 s in the future, more than the 10 s");
}

TEST_F(WebhookVerify, AcceptsOneValidSignatureAmongOthers) {
  // The reference libraries' multi-signature case: unmatched v1, a v2, the valid one.
  const std::string header = std::string(kOtherSignature) + " v2," +
                             std::string(kOtherSignature.substr(3)) + " " +
                             std::string(kVectorSignature) + " " + std::string(kOtherSignature);
  EXPECT_TRUE(Verify(header));
  EXPECT_TRUE(Verify("  garbage v1 v1,!!! " + std::string(kVectorSignature) + "  "));
  // The MAC is compared as bytes, so its base64 may come without padding.
  EXPECT_TRUE(Verify("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"));
}

TEST_F(WebhookVerify, IgnoresOtherVersionsEvenWithTheRightMac) {
  const std::string mac(kVectorSignature.substr(3));
  ExpectRejected(Verify("v2," + mac + " v1a," + mac),
                 "webhook-signature has no well-formed v1 signature (2 of other versions skipped, "
                 "0 malformed)");
}

TEST_F(WebhookVerify, RejectsMalformedEntries) {
  ExpectRejected(Verify("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
                 "(0 of other versions skipped, 1 malformed)");
  ExpectRejected(Verify(",g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), "1 malformed");
  ExpectRejected(Verify("v1,dawfeoifkpqwoekfpqoekf"), "1 malformed");  // 18 bytes, not 32
  ExpectRejected(Verify(kVectorSignature.substr(0, 8)), "1 malformed");
  ExpectRejected(Verify("v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE="), "1 malformed");
  ExpectRejected(Verify("   "), "no well-formed v1 signature (0 of other versions skipped, 0");
}

TEST_F(WebhookVerify, RejectsMissingHeaders) {
  ExpectRejected(Verify(""), "webhook-signature header is missing");
  ExpectRejected(Verify(kVectorSignature, kVectorPayload, kVectorNow, ""),
                 "webhook-id header is missing");
  ExpectRejected(Verify(kVectorSignature, kVectorPayload, kVectorNow, kVectorId, ""),
                 "webhook-timestamp header is missing");
}

TEST_F(WebhookVerify, RejectsATimestampThatIsNotWholeSeconds) {
  for (std::string_view bad : {"hello", "-1614265330", "+1614265330", " 1614265330", "1614265330 ",
                               "1614265330.5", "99999999999999999999999"}) {
    ExpectRejected(Verify(kVectorSignature, kVectorPayload, kVectorNow, kVectorId, bad),
                   "webhook-timestamp is not a whole number of Unix seconds");
  }
}

TEST_F(WebhookVerify, FailsAsInternalWhenNoSecretIsConfigured) {
  secrets_.clear();
  auto result = Verify(kVectorSignature);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInternal);  // the receiver's mistake, not the sender's
  EXPECT_THAT(result.error().message, HasSubstr("no webhook secret is configured"));
}

TEST(WebhookSecret, ParsesWithOrWithoutPaddingAndPrintsPadded) {
  // 24 key bytes need no padding; 25 need "==", 26 need "=".
  for (std::string_view text :
       {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr==",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBrc"}) {
    auto secret = WebhookSecret::Parse(text);
    ASSERT_TRUE(secret.has_value()) << text << ": " << secret.error().ToString();
    auto again = WebhookSecret::Parse(secret->ToString());
    ASSERT_TRUE(again.has_value());
    EXPECT_TRUE(std::ranges::equal(again->key(), secret->key()));
  }
  EXPECT_EQ(Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBg").ToString(),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBg==");
  EXPECT_EQ(Secret(kVectorSecret).key().size(), 24u);
}

TEST(WebhookSecret, RejectsMalformedSecretsWithoutEchoingThem) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "does not start with \"whsec_\""},
      {"whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "does not start with \"whsec_\""},
      {"whsec_", "has 0 key bytes"},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La*aSw", "outside A-Z a-z 0-9 + /"},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", "outside A-Z a-z 0-9 + /"},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwB", "not a valid length"},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=",
       "has 23 key bytes; the Standard Webhooks spec "
       "wants 24 to 64"},
      {"whsec_"
       "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB",
       "has 66 key bytes"},
  };
  for (auto [text, why] : cases) {
    auto secret = WebhookSecret::Parse(text);
    ASSERT_FALSE(secret.has_value()) << text;
    EXPECT_EQ(secret.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(secret.error().message, HasSubstr(why)) << text;
    if (text.size() > 12) {
      EXPECT_THAT(secret.error().message, Not(HasSubstr(text.substr(6))));
    }
  }
}

TEST(WebhookSecret, GeneratesDistinctThirtyTwoByteKeys) {
  auto a = WebhookSecret::Generate();
  auto b = WebhookSecret::Generate();
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->key().size(), 32u);
  EXPECT_NE(a->ToString(), b->ToString());
  EXPECT_TRUE(a->ToString().starts_with("whsec_"));
}

}  // namespace
}  // namespace reprise
