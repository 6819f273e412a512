// The Standard Webhooks signature scheme (https://www.standardwebhooks.com, spec
// "standard-webhooks.md", symmetric part): signing webhooks reprise delivers and
// verifying webhooks it receives (Replicate signs its callbacks this way).
//
// A message is signed as HMAC-SHA256 over "<id>.<timestamp>.<body>" with the key bytes of
// a `whsec_<base64>` secret, and sent with three headers: webhook-id, webhook-timestamp
// (Unix seconds) and webhook-signature, a space-separated list of "v1,<base64 HMAC>"
// entries (several during a secret rotation).
//
// Verify accepts a message when some v1 entry matches the HMAC under some accepted secret
// (several secrets: the receiving side of a rotation), compared in constant time, and the
// timestamp is within `tolerance` of now in either direction (replays and clock skew).
// Entries of other versions ("v1a", "v2") and malformed entries are skipped, as the
// reference libraries do; they only fail a message that has no matching v1 entry, and the
// error then says what was seen. Every rejected message is kInvalidArgument with a message
// naming the check that failed (the HTTP adapter answers 401); an empty list of secrets is
// the receiver's configuration mistake, kInternal. Whether an id was seen before (the
// idempotency no-op) needs storage and is the caller's job.
//
// This lives in core, not http: it is bytes and HMAC only (no sockets, no HTTP types),
// and both the HTTP receiver and the delivery worker call it.
//
// Thread-safety: WebhookSecret is an immutable value; the functions are reentrant.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace reprise {

inline constexpr std::string_view kWebhookIdHeader = "webhook-id";
inline constexpr std::string_view kWebhookTimestampHeader = "webhook-timestamp";
inline constexpr std::string_view kWebhookSignatureHeader = "webhook-signature";
inline constexpr std::chrono::seconds kWebhookTolerance{5 * 60};

class WebhookSecret final {
 public:
  // The spec's range for symmetric keys; Generate() makes 32 bytes.
  static constexpr size_t kMinKeyBytes = 24;
  static constexpr size_t kMaxKeyBytes = 64;

  // "whsec_" + base64 of 24 to 64 key bytes (padding optional). kInvalidArgument names
  // the problem (no prefix, bad base64, key too short or long) and never echoes the secret.
  [[nodiscard]] static Result<WebhookSecret> Parse(std::string_view text);
  // A fresh random 32-byte key (OpenSSL's CSPRNG); kUnavailable if it cannot be seeded.
  [[nodiscard]] static Result<WebhookSecret> Generate();

  // "whsec_" + padded base64: what Parse reads back.
  std::string ToString() const;
  std::span<const uint8_t> key() const { return key_; }

 private:
  explicit WebhookSecret(std::vector<uint8_t> key) : key_(std::move(key)) {}
  std::vector<uint8_t> key_;
};

// The three headers as received; an empty view means the header is absent.
struct WebhookHeaders {
  std::string_view id;
  std::string_view timestamp;
  std::string_view signature;
};

// "v1,<base64 HMAC-SHA256 of id.timestamp.body>". `id` should not contain '.' (the spec
// asks senders for ids that cannot shift the boundary between id and timestamp).
std::string SignWebhook(const WebhookSecret& secret, std::string_view id, int64_t timestamp,
                        std::string_view body);

// `now_micros` is wall-clock UTC microseconds (Clock::NowMicros()). A timestamp exactly
// `tolerance` away is accepted, one second more is not.
[[nodiscard]] Result<void> VerifyWebhook(std::span<const WebhookSecret> secrets,
                                         const WebhookHeaders& headers, std::string_view body,
                                         int64_t now_micros,
                                         std::chrono::seconds tolerance = kWebhookTolerance);

}  // namespace reprise
