// Content hashing: streaming SHA-256 (OpenSSL EVP) and the identifiers derived from it.
//
// Sha256 is fed incrementally so a file is hashed in the same pass that copies it.
// CidV1Raw() renders a SHA-256 digest as an IPFS CIDv1 (multibase base32 lower "b",
// version 1, multicodec raw 0x55, multihash sha2-256 0x12 length 32), the form
// `ipfs add --cid-version=1 --raw-leaves` prints for a single-block file.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace reprise {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::span<const std::byte> data);
  void Update(std::string_view data);
  // Finishes the hash; the object must not be updated afterwards.
  Sha256Digest Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

Sha256Digest Sha256Of(std::string_view data);
std::string HexLower(std::span<const uint8_t> bytes);
// The bytes of an even-length hex string (either case); nullopt for anything else.
std::optional<std::vector<uint8_t>> HexDecode(std::string_view hex);
// RFC 4648 base32, lower case, no padding.
std::string Base32Lower(std::span<const uint8_t> bytes);
std::string CidV1Raw(const Sha256Digest& digest);

}  // namespace reprise
