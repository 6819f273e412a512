// Base64, HMAC-SHA256 and the constant-time comparison against published vectors: webhook
// signatures and signed URLs are only as right as these bytes.
#include "core/crypto.h"

#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace reprise {
namespace {

std::vector<uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

std::string Decoded(std::string_view base64) {
  auto bytes = Base64Decode(base64);
  EXPECT_TRUE(bytes.has_value()) << base64 << ": " << bytes.error().ToString();
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

// RFC 4648 section 10 test vectors.
constexpr std::pair<std::string_view, std::string_view> kRfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64, EncodesRfc4648Vectors) {
  for (auto [plain, encoded] : kRfc4648) EXPECT_EQ(Base64Encode(Bytes(plain)), encoded) << plain;
}

TEST(Base64, UrlSafeEncodingUsesDashAndUnderscoreWithoutPadding) {
  for (auto [plain, encoded] : kRfc4648) {
    std::string unpadded(encoded);
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    EXPECT_EQ(Base64UrlEncode(Bytes(plain)), unpadded) << plain;
  }
  // 0xfb 0xff 0xbf is "+/+/" in the standard alphabet.
  const std::vector<uint8_t> high = {0xfb, 0xff, 0xbf, 0xfe};
  EXPECT_EQ(Base64Encode(high), "+/+//g==");
  EXPECT_EQ(Base64UrlEncode(high), "-_-__g");
  for (char c : Base64UrlEncode(high)) EXPECT_TRUE(IsBase64UrlChar(c)) << c;
  for (char c : std::string("+/= .")) EXPECT_FALSE(IsBase64UrlChar(c)) << c;
}

TEST(Base64, DecodesRfc4648VectorsWithAndWithoutPadding) {
  for (auto [plain, encoded] : kRfc4648) {
    EXPECT_EQ(Decoded(encoded), plain) << encoded;
    std::string_view unpadded = encoded.substr(0, encoded.find('='));
    EXPECT_EQ(Decoded(unpadded), plain) << unpadded;
  }
}

TEST(Base64, RoundTripsEveryByteValueAndLength) {
  std::vector<uint8_t> bytes;
  for (int i = 0; i < 256; ++i) {
    bytes.push_back(static_cast<uint8_t>(255 - i));
    auto decoded = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64, RejectsWhatNoEncodingProduces) {
  for (std::string_view bad : {"Zm9v Yg==", " Zm8=", "Zm8=\n", "Zm-v", "Zm_v", "Z", "Zm9vY",
                               "Zm8==", "Zm=8", "Z===", "Zg=", "Zm9v=", "===="}) {
    auto decoded = Base64Decode(bad);
    ASSERT_FALSE(decoded.has_value()) << '"' << bad << '"';
    EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument);
  }
}

// RFC 4231 HMAC-SHA256 test cases 1, 2 and 6 (a key longer than the block size).
TEST(HmacSha256, MatchesRfc4231Vectors) {
  EXPECT_EQ(HexLower(HmacSha256(std::vector<uint8_t>(20, 0x0b), {"Hi There"})),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HexLower(HmacSha256(Bytes("Jefe"), {"what do ya want for nothing?"})),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HexLower(HmacSha256(std::vector<uint8_t>(131, 0xaa),
                                {"Test Using Larger Than Block-Size Key - Hash Key First"})),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, PartsHashAsTheirConcatenation) {
  EXPECT_EQ(HmacSha256(Bytes("Jefe"), {"what do ya", "", " want for", " nothing?"}),
            HmacSha256(Bytes("Jefe"), {"what do ya want for nothing?"}));
}

TEST(ConstantTimeEqual, ComparesLengthAndEveryByte) {
  EXPECT_TRUE(ConstantTimeEqual(Bytes("abc"), Bytes("abc")));
  EXPECT_TRUE(ConstantTimeEqual(Bytes(""), Bytes("")));
  EXPECT_FALSE(ConstantTimeEqual(Bytes("abc"), Bytes("abd")));
  EXPECT_FALSE(ConstantTimeEqual(Bytes("abc"), Bytes("xbc")));
  EXPECT_FALSE(ConstantTimeEqual(Bytes("abc"), Bytes("abcd")));
}

TEST(RandomBytes, GivesTheCountAskedForAndDiffersBetweenCalls) {
  auto a = RandomBytes(32);
  auto b = RandomBytes(32);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
}

}  // namespace
}  // namespace reprise
