// Signed, expiring URLs for blobs: `GET /blobs/{key}?expires=…&sig=…` lets whoever holds the
// URL read that one blob until it runs out, with no token, so a <video> or <img> tag works.
//
// sig is HMAC-SHA256 under the server's secret over "reprise-blob-url/v1\n<key>\n<expires>"
// (the key as stored, not percent-encoded; expires in Unix seconds, canonical decimal),
// written in unpadded base64url (43 characters). Keys can hold neither '\n' nor control
// characters (blob/keys.h), so the three fields cannot be shifted into one another: no URL
// for one key or expiry verifies for another. The URL is valid while the clock's second is
// at most `expires`.
//
// Sign() returns "/blobs/<key, percent-encoded per segment>?expires=<n>&sig=<sig>".
// Verify() takes the fields as the route received them (the key percent-decoded) and checks,
// in this order:
//   kInvalidArgument   malformed: the key breaks blob/keys.h's rules (traversal, absolute,
//                      control bytes…), expires is not 1-19 digits without a leading zero, or
//                      sig is not 43 base64url characters
//   kPermissionDenied  the signature does not match (tampered key, expiry or sig, another
//                      secret) — checked before expiry, so "expired" is said only of URLs
//                      this server really issued; compared in constant time (CRYPTO_memcmp)
//   kPermissionDenied  expired: the message says "expired" and when
// Create() refuses a secret shorter than 32 bytes (RFC 2104 wants at least the hash's
// length). The signer does no I/O; it is immutable after Create() and thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"

namespace reprise::http {

class BlobUrlSigner final {
 public:
  static constexpr size_t kMinSecretBytes = 32;
  static constexpr std::chrono::seconds kDefaultTtl{3600};
  // Longer-lived URLs are refused: a leaked one should not outlive a week.
  static constexpr std::chrono::seconds kMaxTtl{7 * 24 * 3600};
  static constexpr std::string_view kRoutePrefix = "/blobs/";

  // kInvalidArgument when the secret is shorter than kMinSecretBytes. The clock must outlive
  // the signer.
  [[nodiscard]] static Result<std::unique_ptr<BlobUrlSigner>> Create(std::string secret,
                                                                     const Clock& clock);

  // kInvalidArgument for a key blob/keys.h refuses or a ttl outside (0, kMaxTtl].
  [[nodiscard]] Result<std::string> Sign(std::string_view key,
                                         std::chrono::seconds ttl = kDefaultTtl) const;

  // An expiry shared by every URL signed within the same step: now + ttl rounded up to a
  // whole kExpiryStep of Unix time. A URL signed until it lives at least `ttl` and less
  // than ttl + kExpiryStep, and one key signed twice within a step gives the same URL, so
  // browsers and CDNs keep what they fetched and a server may reuse an answer holding
  // such URLs for the rest of the step. kInvalidArgument for a ttl outside (0, kMaxTtl].
  static constexpr std::chrono::seconds kExpiryStep{60};
  [[nodiscard]] Result<int64_t> SharedExpiry(std::chrono::seconds ttl = kDefaultTtl) const;
  // The URL of `key` valid until `expires` (Unix seconds). kInvalidArgument for a key
  // blob/keys.h refuses, an expiry not after now, or one beyond now + kMaxTtl + kExpiryStep.
  [[nodiscard]] Result<std::string> SignUntil(std::string_view key, int64_t expires) const;

  [[nodiscard]] Result<void> Verify(std::string_view key, std::string_view expires,
                                    std::string_view sig) const;

 private:
  BlobUrlSigner(std::string secret, const Clock& clock);
  std::string Signature(std::string_view key, std::string_view expires) const;

  std::string secret_;
  const Clock& clock_;
};

// The key with every byte outside RFC 3986's unreserved set and '/' written as %XX, so each
// key segment stays one path segment and '?', '#', '%', '+', ' ' survive the trip.
[[nodiscard]] std::string PercentEncodeKey(std::string_view key);

}  // namespace reprise::http
