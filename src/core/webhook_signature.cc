#include "core/webhook_signature.h"

#include <charconv>
#include <string>

#include <fmt/format.h>

#include "core/crypto.h"

namespace reprise {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr size_t kGeneratedKeyBytes = 32;

tl::unexpected<Error> Reject(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, "webhook rejected: " + std::move(message));
}

// Unix seconds as the spec writes them: decimal digits only (no sign, no spaces).
Result<int64_t> ParseTimestamp(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || text.front() < '0' || text.front() > '9' || ec != std::errc() || ptr != end) {
    return Reject(std::string(kWebhookTimestampHeader) + " is not a whole number of Unix seconds");
  }
  return value;
}

Result<void> CheckTimestamp(int64_t timestamp, int64_t now_micros, std::chrono::seconds tolerance) {
  // Floor division: a now of -0.5 s is second -1.
  const int64_t now = now_micros / 1'000'000 - (now_micros % 1'000'000 < 0 ? 1 : 0);
  const int64_t limit = tolerance.count();
  if (timestamp < now - limit) {
    return Reject(fmt::format("{} is {} s in the past, more than the {} s tolerance",
                              kWebhookTimestampHeader, now - timestamp, limit));
  }
  if (timestamp > now + limit) {
    return Reject(fmt::format("{} is {} s in the future, more than the {} s tolerance",
                              kWebhookTimestampHeader, timestamp - now, limit));
  }
  return {};
}

// The signed content is "<id>.<timestamp>.<body>"; a received timestamp is hashed as the
// text it arrived as, which is what its sender signed.
Sha256Digest MacOf(const WebhookSecret& secret, std::string_view id, std::string_view timestamp,
                   std::string_view body) {
  return HmacSha256(secret.key(), {id, ".", timestamp, ".", body});
}

}  // namespace

Result<WebhookSecret> WebhookSecret::Parse(std::string_view text) {
  if (!text.starts_with(kSecretPrefix)) {
    return Fail(ErrorCode::kInvalidArgument, "webhook secret does not start with \"whsec_\"");
  }
  auto key = Base64Decode(text.substr(kSecretPrefix.size()));
  if (!key) return Fail(key.error().Wrap("webhook secret after \"whsec_\""));
  if (key->size() < kMinKeyBytes || key->size() > kMaxKeyBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("webhook secret has {} key bytes; the Standard Webhooks spec wants "
                            "{} to {}",
                            key->size(), kMinKeyBytes, kMaxKeyBytes));
  }
  return WebhookSecret(std::move(*key));
}

Result<WebhookSecret> WebhookSecret::Generate() {
  auto key = RandomBytes(kGeneratedKeyBytes);
  if (!key) return Fail(std::move(key.error()));
  return WebhookSecret(std::move(*key));
}

std::string WebhookSecret::ToString() const {
  return std::string(kSecretPrefix) + Base64Encode(key_);
}

std::string SignWebhook(const WebhookSecret& secret, std::string_view id, int64_t timestamp,
                        std::string_view body) {
  return "v1," + Base64Encode(MacOf(secret, id, std::to_string(timestamp), body));
}

Result<void> VerifyWebhook(std::span<const WebhookSecret> secrets, const WebhookHeaders& headers,
                           std::string_view body, int64_t now_micros,
                           std::chrono::seconds tolerance) {
  if (secrets.empty()) {
    return Fail(ErrorCode::kInternal, "no webhook secret is configured to verify with");
  }
  for (auto [name, value] : {std::pair{kWebhookIdHeader, headers.id},
                             std::pair{kWebhookTimestampHeader, headers.timestamp},
                             std::pair{kWebhookSignatureHeader, headers.signature}}) {
    if (value.empty()) return Reject(std::string(name) + " header is missing");
  }
  auto timestamp = ParseTimestamp(headers.timestamp);
  if (!timestamp) return Fail(std::move(timestamp.error()));
  REPRISE_TRY(CheckTimestamp(*timestamp, now_micros, tolerance));

  std::vector<Sha256Digest> expected;
  expected.reserve(secrets.size());
  for (const WebhookSecret& secret : secrets) {
    expected.push_back(MacOf(secret, headers.id, headers.timestamp, body));
  }
  int v1 = 0, other_versions = 0, malformed = 0;
  std::string_view rest = headers.signature;
  while (!rest.empty()) {
    const size_t space = rest.find(' ');
    const std::string_view entry = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (entry.empty()) continue;  // repeated spaces
    const size_t comma = entry.find(',');
    if (comma == std::string_view::npos || comma == 0) {
      ++malformed;
      continue;
    }
    if (entry.substr(0, comma) != "v1") {
      ++other_versions;
      continue;
    }
    auto mac = Base64Decode(entry.substr(comma + 1));
    if (!mac || mac->size() != sizeof(Sha256Digest)) {
      ++malformed;
      continue;
    }
    ++v1;
    for (const Sha256Digest& want : expected) {
      if (ConstantTimeEqual(*mac, want)) return {};
    }
  }
  if (v1 > 0) {
    return Reject(fmt::format("none of the {} v1 signature(s) matches {} accepted secret(s)", v1,
                              secrets.size()));
  }
  return Reject(
      fmt::format("{} has no well-formed v1 signature ({} of other versions skipped, {} malformed)",
                  kWebhookSignatureHeader, other_versions, malformed));
}

}  // namespace reprise
