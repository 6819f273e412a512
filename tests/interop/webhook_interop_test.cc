// reprise's Standard Webhooks signer and verifier against the reference JavaScript
// library (npm standardwebhooks 1.1.1, installed by scripts/install-deps.sh): each side
// verifies what the other signs, so a drift from the scheme cannot hide behind tests that
// only check reprise against itself. The library checks timestamps against its own clock,
// so these messages carry the current time.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/webhook_signature.h"
#include "tests/support/test_support.h"

namespace reprise {
namespace {

using ::testing::HasSubstr;

class WebhookInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(
        testing::RunCommand({"test", "-d", std::string(kDir) + "/node_modules/standardwebhooks"})
            .exit_code,
        0)
        << "the reference library is missing: run scripts/install-deps.sh (npm ci in " << kDir
        << ")";
  }

  // The library's verdict on a message: "verified" or its error.
  std::string NodeVerify(const WebhookSecret& secret, const std::string& signature,
                         const std::string& body) {
    testing::WriteFile(dir_.Join("body"), body);
    auto result = testing::RunCommand({"node", script_, "verify", secret.ToString(), kId,
                                       timestamp_, signature, dir_.Join("body")});
    EXPECT_NE(result.exit_code, 2) << result.output;
    return result.out;
  }

  std::string NodeSign(const WebhookSecret& secret, const std::string& body) {
    testing::WriteFile(dir_.Join("body"), body);
    auto result = testing::RunCommand(
        {"node", script_, "sign", secret.ToString(), kId, timestamp_, dir_.Join("body")});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.out;
  }

  static WebhookSecret SecretOf(size_t bytes) {
    std::vector<uint8_t> key(bytes);
    for (size_t i = 0; i < bytes; ++i) key[i] = static_cast<uint8_t>(i * 37 + bytes);
    auto secret = WebhookSecret::Parse("whsec_" + Base64Encode(key));
    EXPECT_TRUE(secret.has_value());
    return std::move(*secret);
  }

  static constexpr const char* kDir = REPRISE_STANDARDWEBHOOKS_DIR;
  static constexpr const char* kId = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
  // Bodies the library can parse as JSON (its verify always does): plain, UTF-8, nested.
  const std::vector<std::string> bodies_ = {
      R"({"test": 2432232314})",
      R"({"id":"p_1","status":"succeeded","output":["https://x.test/é 🎵.wav"]})",
      R"({"a":[1,2,{"b":null,"c":"line\nbreak . dots."}],"d":true})" + std::string(2000, ' '),
  };
  testing::TempDir dir_;
  std::string script_ = std::string(kDir) + "/cross_check.js";
  int64_t now_micros_ = SystemClock().NowMicros();
  std::string timestamp_ = std::to_string(now_micros_ / 1'000'000);
};

TEST_F(WebhookInterop, LibraryVerifiesWhatRepriseSigns) {
  for (size_t key_bytes : {24, 32, 64}) {
    const WebhookSecret secret = SecretOf(key_bytes);
    for (const std::string& body : bodies_) {
      const std::string signature = SignWebhook(secret, kId, now_micros_ / 1'000'000, body);
      EXPECT_EQ(NodeVerify(secret, signature, body), "verified") << key_bytes << " " << body;
    }
  }
}

TEST_F(WebhookInterop, RepriseVerifiesWhatTheLibrarySigns) {
  for (size_t key_bytes : {24, 32, 64}) {
    const WebhookSecret secret = SecretOf(key_bytes);
    for (const std::string& body : bodies_) {
      const std::string signature = NodeSign(secret, body);
      EXPECT_EQ(signature, SignWebhook(secret, kId, now_micros_ / 1'000'000, body));
      const WebhookSecret secrets[] = {secret};
      auto verified = VerifyWebhook(secrets, {kId, timestamp_, signature}, body, now_micros_);
      EXPECT_TRUE(verified.has_value()) << verified.error().ToString();
    }
  }
}

TEST_F(WebhookInterop, LibraryRejectsATamperedBodyAndAcceptsARotationHeader) {
  const WebhookSecret old_secret = SecretOf(24);
  const WebhookSecret new_secret = SecretOf(32);
  const std::string& body = bodies_[1];
  const std::string signature = SignWebhook(new_secret, kId, now_micros_ / 1'000'000, body);
  EXPECT_THAT(NodeVerify(new_secret, signature, bodies_[0]),
              HasSubstr("No matching signature found"));
  const std::string rotation =
      SignWebhook(old_secret, kId, now_micros_ / 1'000'000, body) + " " + signature;
  EXPECT_EQ(NodeVerify(new_secret, rotation, body), "verified");
  EXPECT_EQ(NodeVerify(old_secret, rotation, body), "verified");
  EXPECT_THAT(NodeVerify(SecretOf(40), rotation, body), HasSubstr("No matching signature found"));
}

}  // namespace
}  // namespace reprise
