// Key rules and the key layout: these strings end up as paths and object names, so the
// rules are the store's first line of defence and the layout must never drift.
#include "blob/keys.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/blob/blob_store_contract.h"

namespace reprise::blob {
namespace {

TEST(BlobKeys, ValidateKeyAcceptsOrdinaryKeys) {
  for (std::string_view key : {"a", "originals/ab/abcdef", "assets/01HX/thumbnail/3f2a/thumb.jpg",
                               "a..b", "a.", "with space", "UPPER-lower_09.~+=,;@"}) {
    EXPECT_TRUE(IsOk(ValidateKey(key))) << key;
  }
  EXPECT_TRUE(IsOk(ValidateKey(std::string(1024, 'k'))));
}

TEST(BlobKeys, ValidateKeyNamesTheProblem) {
  struct Case {
    std::string key;
    std::string_view reason;
  };
  const Case cases[] = {
      {"", "empty"},
      {std::string(1025, 'k'), "longer than 1024"},
      {"/abs", "absolute"},
      {"..", "'..'"},
      {"a/../b", "'..'"},
      {".", "'.'"},
      {"a/./b", "'.'"},
      {".hidden", "starts with '.'"},
      {"...", "starts with '.'"},
      {"a/.b/c", "starts with '.'"},
      {".tmp/x", "starts with '.'"},
      {"a//b", "empty segment"},
      {"a/", "empty segment"},
      {"a\\b", "backslash"},
      {std::string("a\0b", 3), "NUL"},
      {"a\x1b[31m", "control character"},
      {"a\x7f", "control character"},
      {"caf\xc3\xa9", "non-ASCII"},
  };
  for (const auto& c : cases) {
    auto result = ValidateKey(c.key);
    ASSERT_TRUE(FailsWith(result, ErrorCode::kInvalidArgument)) << ::testing::PrintToString(c.key);
    EXPECT_NE(result.error().message.find(c.reason), std::string::npos) << result.error().message;
  }
}

TEST(BlobKeys, ErrorMessageShowsHostileKeyEscapedAndShortened) {
  auto result = ValidateKey("evil\nFAKE LOG LINE\x1b[0m" + std::string(2000, 'x'));
  ASSERT_FALSE(result);
  const std::string& message = result.error().message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
  EXPECT_NE(message.find("evil\\x0aFAKE"), std::string::npos) << message;
  EXPECT_LT(message.size(), 200u);
}

TEST(BlobKeys, OriginalKeyFansOutByFirstTwoHexDigits) {
  // SHA-256("abc") = ba7816bf…
  std::string key = OriginalKey(Sha256Of("abc"));
  EXPECT_EQ(key, "originals/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(IsOk(ValidateKey(key)));
}

TEST(BlobKeys, DerivativeKeyNestsAssetStageRecipeAndFile) {
  std::string key = DerivativeKey("01HXAMPLE", "thumbnail", "9f8e7d", "thumb.jpg");
  EXPECT_EQ(key, "assets/01HXAMPLE/thumbnail/9f8e7d/thumb.jpg");
  EXPECT_TRUE(IsOk(ValidateKey(key)));
  // Built from bad parts, the key is refused when used, not silently repaired.
  EXPECT_FALSE(ValidateKey(DerivativeKey("a", "..", "r", "f")));
  EXPECT_FALSE(ValidateKey(DerivativeKey("a", "s", "r", "")));
}

}  // namespace
}  // namespace reprise::blob
