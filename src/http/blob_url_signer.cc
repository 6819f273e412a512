#include "http/blob_url_signer.h"

#include <cstdint>

#include "blob/keys.h"
#include "core/crypto.h"

namespace reprise::http {
namespace {

constexpr std::string_view kDomain = "reprise-blob-url/v1\n";
constexpr size_t kSigChars = 43;  // 32 bytes in unpadded base64url
constexpr size_t kMaxExpiresDigits = 19;

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

bool IsUnreserved(char c) { return IsBase64UrlChar(c) || c == '.' || c == '~'; }

// Canonical decimal Unix seconds: 1-19 digits, no sign, no leading zero.
bool IsCanonicalSeconds(std::string_view text) {
  if (text.empty() || text.size() > kMaxExpiresDigits) return false;
  if (text.size() > 1 && text.front() == '0') return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int64_t NowSeconds(const Clock& clock) {
  int64_t micros = clock.NowMicros();
  int64_t seconds = micros / 1'000'000;
  return micros % 1'000'000 < 0 ? seconds - 1 : seconds;  // floor, also before 1970
}

}  // namespace

Result<std::unique_ptr<BlobUrlSigner>> BlobUrlSigner::Create(std::string secret,
                                                             const Clock& clock) {
  if (secret.size() < kMinSecretBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "the blob URL secret has " + std::to_string(secret.size()) + " bytes; at least " +
                    std::to_string(kMinSecretBytes) + " are needed");
  }
  return std::unique_ptr<BlobUrlSigner>(new BlobUrlSigner(std::move(secret), clock));
}

BlobUrlSigner::BlobUrlSigner(std::string secret, const Clock& clock)
    : secret_(std::move(secret)), clock_(clock) {}

std::string BlobUrlSigner::Signature(std::string_view key, std::string_view expires) const {
  Sha256Digest mac = HmacSha256(Bytes(secret_), {kDomain, key, "\n", expires});
  return Base64UrlEncode(mac);
}

namespace {

Result<void> CheckTtl(std::chrono::seconds ttl) {
  if (ttl.count() <= 0 || ttl > BlobUrlSigner::kMaxTtl) {
    return Fail(ErrorCode::kInvalidArgument, "a signed blob URL lives between 1 second and " +
                                                 std::to_string(BlobUrlSigner::kMaxTtl.count()) +
                                                 " seconds, not " + std::to_string(ttl.count()));
  }
  return {};
}

}  // namespace

Result<std::string> BlobUrlSigner::Sign(std::string_view key, std::chrono::seconds ttl) const {
  REPRISE_TRY(CheckTtl(ttl));
  return SignUntil(key, NowSeconds(clock_) + ttl.count());
}

Result<int64_t> BlobUrlSigner::SharedExpiry(std::chrono::seconds ttl) const {
  REPRISE_TRY(CheckTtl(ttl));
  const int64_t step = kExpiryStep.count();
  const int64_t earliest = NowSeconds(clock_) + ttl.count();
  return (earliest + step - 1) / step * step;
}

Result<std::string> BlobUrlSigner::SignUntil(std::string_view key, int64_t expires) const {
  REPRISE_TRY(blob::ValidateKey(key));
  const int64_t now = NowSeconds(clock_);
  if (expires <= now || expires > now + kMaxTtl.count() + kExpiryStep.count()) {
    return Fail(ErrorCode::kInvalidArgument,
                "a signed blob URL must expire within " +
                    std::to_string(kMaxTtl.count() + kExpiryStep.count()) +
                    " seconds from now, not at " + std::to_string(expires));
  }
  std::string text = std::to_string(expires);
  return std::string(kRoutePrefix) + PercentEncodeKey(key) + "?expires=" + text +
         "&sig=" + Signature(key, text);
}

Result<void> BlobUrlSigner::Verify(std::string_view key, std::string_view expires,
                                   std::string_view sig) const {
  REPRISE_TRY(blob::ValidateKey(key));
  if (!IsCanonicalSeconds(expires)) {
    return Fail(ErrorCode::kInvalidArgument,
                "the blob URL's expires must be Unix seconds in plain digits");
  }
  if (sig.size() != kSigChars) {
    return Fail(ErrorCode::kInvalidArgument,
                "the blob URL's sig must be " + std::to_string(kSigChars) +
                    " base64url characters, not " + std::to_string(sig.size()));
  }
  for (char c : sig) {
    if (!IsBase64UrlChar(c)) {
      return Fail(ErrorCode::kInvalidArgument, "the blob URL's sig is not base64url");
    }
  }
  std::string expected = Signature(key, expires);
  if (!ConstantTimeEqual(Bytes(expected), Bytes(sig))) {
    return Fail(ErrorCode::kPermissionDenied, "the blob URL's signature does not match");
  }
  // 19 digits without a sign can exceed int64; such a far future never expires here.
  uint64_t until = 0;
  for (char c : expires) until = until * 10 + static_cast<uint64_t>(c - '0');
  int64_t now = NowSeconds(clock_);
  if (now >= 0 && static_cast<uint64_t>(now) > until) {
    return Fail(
        ErrorCode::kPermissionDenied,
        "the blob URL expired at " + FormatRfc3339(static_cast<int64_t>(until) * 1'000'000));
  }
  return {};
}

std::string PercentEncodeKey(std::string_view key) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (IsUnreserved(c) || c == '/') {
      out.push_back(c);
    } else {
      auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
  return out;
}

}  // namespace reprise::http
