#include "core/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <new>

namespace reprise {
namespace {

struct MacDeleter {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::string Base64Encode(std::span<const uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + the NUL it writes
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

std::string Base64UrlEncode(std::span<const uint8_t> bytes) {
  std::string out = Base64Encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

Result<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  // EVP_DecodeBlock skips surrounding whitespace, needs padding and decodes the padding
  // as zero bytes: validate first, pad, then drop what the padding produced.
  std::string_view data = text;
  size_t padding = 0;
  while (padding < 2 && !data.empty() && data.back() == '=') {
    data.remove_suffix(1);
    ++padding;
  }
  for (char c : data) {
    if (!IsBase64Char(c)) {
      return Fail(ErrorCode::kInvalidArgument, c == '=' ? "base64 has '=' before its end"
                                                        : "base64 has a character outside "
                                                          "A-Z a-z 0-9 + /");
    }
  }
  if (data.size() % 4 == 1 || (padding > 0 && (data.size() + padding) % 4 != 0)) {
    return Fail(ErrorCode::kInvalidArgument,
                "base64 has " + std::to_string(text.size()) + " characters, not a valid length");
  }
  std::string padded(data);
  padded.append((4 - data.size() % 4) % 4, '=');
  const size_t pad = padded.size() - data.size();
  std::vector<uint8_t> out(padded.size() / 4 * 3);
  if (padded.empty()) return out;
  const int length =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(padded.data()),
                      static_cast<int>(padded.size()));
  if (length < 0) return Fail(ErrorCode::kInvalidArgument, "base64 does not decode");
  out.resize(static_cast<size_t>(length) - pad);
  return out;
}

Sha256Digest HmacSha256(std::span<const uint8_t> key,
                        std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) throw std::bad_alloc();
  std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx(EVP_MAC_CTX_new(mac.get()));
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  // An empty key is legal HMAC; OpenSSL wants a non-null pointer for it.
  static constexpr uint8_t kEmpty = 0;
  if (!ctx ||
      EVP_MAC_init(ctx.get(), key.empty() ? &kEmpty : key.data(), key.size(), params) != 1) {
    throw std::bad_alloc();
  }
  for (std::string_view part : parts) {
    EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()), part.size());
  }
  Sha256Digest digest{};
  size_t length = 0;
  if (EVP_MAC_final(ctx.get(), digest.data(), &length, digest.size()) != 1 ||
      length != digest.size()) {
    throw std::bad_alloc();
  }
  return digest;
}

bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::vector<uint8_t>> RandomBytes(size_t count) {
  std::vector<uint8_t> out(count);
  if (count > 0 && RAND_bytes(out.data(), static_cast<int>(count)) != 1) {
    return Fail(ErrorCode::kUnavailable, "the system's random number generator is not ready");
  }
  return out;
}

}  // namespace reprise
