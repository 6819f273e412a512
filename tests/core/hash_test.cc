// SHA-256, base32 and CIDv1 against published vectors: a digest or CID that drifts would
// orphan every stored original, so these pin the exact bytes.
#include "core/hash.h"

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace reprise {
namespace {

std::string HexOf(const Sha256Digest& digest) { return HexLower(digest); }

std::string Base32Of(std::string_view text) {
  std::vector<uint8_t> bytes(text.begin(), text.end());
  return Base32Lower(bytes);
}

// NIST FIPS 180-2 / CSRC "Example Algorithms" SHA-256 vectors.
TEST(Sha256, MatchesNistVectorForEmptyMessage) {
  EXPECT_EQ(HexOf(Sha256Of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, MatchesNistVectorForAbc) {
  EXPECT_EQ(HexOf(Sha256Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, MatchesNistVectorFor448BitMessage) {
  EXPECT_EQ(HexOf(Sha256Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MatchesNistVectorFor896BitMessage) {
  EXPECT_EQ(HexOf(Sha256Of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                           "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, MatchesNistVectorForOneMillionAsStreamedInOddChunks) {
  // Chunk sizes that straddle the 64-byte block boundary in every way.
  const std::string chunk_source(4099, 'a');
  const size_t sizes[] = {1, 63, 64, 65, 127, 1000, 4099, 7};
  Sha256 hash;
  size_t fed = 0;
  for (size_t i = 0; fed < 1'000'000; ++i) {
    size_t n = std::min(sizes[i % std::size(sizes)], 1'000'000 - fed);
    if (i % 2 == 0) {
      hash.Update(std::string_view(chunk_source).substr(0, n));
    } else {
      hash.Update(std::as_bytes(std::span(chunk_source.data(), n)));
    }
    fed += n;
  }
  EXPECT_EQ(HexOf(hash.Finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, ByteAndStringUpdatesAgree) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  Sha256 as_bytes;
  as_bytes.Update(std::as_bytes(std::span(all_bytes.data(), all_bytes.size())));
  EXPECT_EQ(as_bytes.Finish(), Sha256Of(all_bytes));
}

TEST(HexLower, RendersEveryNibbleInLowerCase) {
  const std::vector<uint8_t> bytes = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
  EXPECT_EQ(HexLower(bytes), "00017f80abcdefff");
  EXPECT_EQ(HexLower(std::span<const uint8_t>()), "");
}

TEST(HexDecode, InvertsHexLowerAndAcceptsEitherCase) {
  const std::vector<uint8_t> bytes = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
  EXPECT_EQ(HexDecode(HexLower(bytes)), bytes);
  EXPECT_EQ(HexDecode("00017F80ABCDEFFF"), bytes);
  EXPECT_EQ(HexDecode(""), std::vector<uint8_t>());
}

TEST(HexDecode, RefusesOddLengthsAndNonHexDigits) {
  EXPECT_EQ(HexDecode("abc"), std::nullopt);
  EXPECT_EQ(HexDecode("0g"), std::nullopt);
  EXPECT_EQ(HexDecode("+1"), std::nullopt);
  EXPECT_EQ(HexDecode(std::string_view("0\0", 2)), std::nullopt);
}

// RFC 4648 section 10 test vectors, lower-cased and without '=' padding.
TEST(Base32Lower, MatchesRfc4648Vectors) {
  EXPECT_EQ(Base32Of(""), "");
  EXPECT_EQ(Base32Of("f"), "my");
  EXPECT_EQ(Base32Of("fo"), "mzxq");
  EXPECT_EQ(Base32Of("foo"), "mzxw6");
  EXPECT_EQ(Base32Of("foob"), "mzxw6yq");
  EXPECT_EQ(Base32Of("fooba"), "mzxw6ytb");
  EXPECT_EQ(Base32Of("foobar"), "mzxw6ytboi");
}

TEST(Base32Lower, UsesWholeAlphabetForHighBytes) {
  // 0xff x5 is forty 1-bits: eight '7's; 0x00 x5 is eight 'a's.
  EXPECT_EQ(Base32Lower(std::vector<uint8_t>(5, 0xff)), "77777777");
  EXPECT_EQ(Base32Lower(std::vector<uint8_t>(5, 0x00)), "aaaaaaaa");
  EXPECT_EQ(Base32Lower(std::vector<uint8_t>{0xff}), "74");
}

// The raw-leaves CIDv1 that multiformats publishes in its rust-cid README example
// (github.com/multiformats/rust-cid, examples/readme.rs): sha2-256 of "beep boop", codec raw.
TEST(CidV1Raw, MatchesMultiformatsPublishedExample) {
  EXPECT_EQ(CidV1Raw(Sha256Of("beep boop")),
            "bafkreieq5jui4j25lacwomsqgjeswwl3y5zcdrresptwgmfylxo2depppq");
}

// `ipfs add --cid-version=1 --raw-leaves` of the 11 bytes "hello world" (no newline); the
// IPFS CID inspector
// (https://cid.ipfs.tech/#bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e) decodes it
// to raw + sha2-256 b94d27b9…, the well-known SHA-256 of "hello world".
TEST(CidV1Raw, MatchesIpfsCidOfHelloWorld) {
  EXPECT_EQ(CidV1Raw(Sha256Of("hello world")),
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
}

// The raw-leaves CID of the empty file, as IPFS gateways and `ipfs add` report it.
TEST(CidV1Raw, MatchesIpfsCidOfEmptyFile) {
  EXPECT_EQ(CidV1Raw(Sha256Of("")), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
}

}  // namespace
}  // namespace reprise
