// Small cryptographic helpers over OpenSSL's libcrypto, shared by everything that signs
// or verifies with a secret (Standard Webhooks, signed blob URLs): RFC 4648 base64 with
// the standard alphabet (and unpadded base64url), HMAC-SHA256 over a message given in parts, a
// constant-time comparison, and random bytes from the operating system's CSPRNG.
//
// Base64Decode is strict: only A-Z a-z 0-9 + / and up to two trailing '=' are accepted,
// no whitespace, no '=' inside. Padding is optional (so "QQ" and "QQ==" both decode to
// "A") because secrets are often pasted without it; a length that no encoding can have
// (one character past a multiple of four) is kInvalidArgument.
//
// Thread-safety: every function here is reentrant. Out-of-memory inside OpenSSL throws
// std::bad_alloc, as Sha256 does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/hash.h"

namespace reprise {

// Standard alphabet, always padded with '='.
std::string Base64Encode(std::span<const uint8_t> bytes);
// RFC 4648 section 5: the URL-safe alphabet ('-' and '_'), without padding.
std::string Base64UrlEncode(std::span<const uint8_t> bytes);
// True for the 64 characters of the URL-safe alphabet.
bool IsBase64UrlChar(char c);
[[nodiscard]] Result<std::vector<uint8_t>> Base64Decode(std::string_view text);

// HMAC-SHA256 of the concatenation of `parts`, without building the concatenation.
Sha256Digest HmacSha256(std::span<const uint8_t> key,
                        std::initializer_list<std::string_view> parts);

// True when a and b have the same length and bytes. The time taken depends on the
// length only, never on where the first difference is (CRYPTO_memcmp).
bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);

// `count` bytes from OpenSSL's CSPRNG (RAND_bytes); kUnavailable if it cannot be seeded.
[[nodiscard]] Result<std::vector<uint8_t>> RandomBytes(size_t count);

}  // namespace reprise
