// Webhook headers and secrets arrive from the network and from people: any bytes must be
// accepted or rejected with kInvalidArgument, never crash. The input is split into lines:
// webhook-id, webhook-timestamp, webhook-signature, then the body. Beyond not crashing:
// what Sign makes for the fuzzed id, body and timestamp always verifies, a secret that
// parses prints back to the same key, and base64 that decodes re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/webhook_signature.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string_view NextLine(std::string_view& rest) {
  const size_t end = rest.find('\n');
  std::string_view line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return line;
}

const reprise::WebhookSecret& Secret() {
  static const reprise::WebhookSecret secret =
      *reprise::WebhookSecret::Parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  return secret;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view rest = input;
  const reprise::WebhookHeaders headers{NextLine(rest), NextLine(rest), NextLine(rest)};
  const std::string_view body = rest;
  const reprise::WebhookSecret secrets[] = {Secret()};

  // The received timestamp, when it is one, is also "now": only the signature decides.
  int64_t now = 1'614'265'330;
  if (!headers.timestamp.empty() && headers.timestamp.size() <= 12 &&
      headers.timestamp.find_first_not_of("0123456789") == std::string_view::npos) {
    now = std::stoll(std::string(headers.timestamp));
  }
  auto verified = reprise::VerifyWebhook(secrets, headers, body, now * 1'000'000);
  Check(verified || verified.error().code == reprise::ErrorCode::kInvalidArgument);

  if (!headers.id.empty()) {
    const std::string signature = reprise::SignWebhook(Secret(), headers.id, now, body);
    const std::string timestamp = std::to_string(now);
    Check(reprise::VerifyWebhook(secrets, {headers.id, timestamp, signature}, body, now * 1'000'000)
              .has_value());
  }

  auto secret = reprise::WebhookSecret::Parse(input);
  if (secret) {
    auto again = reprise::WebhookSecret::Parse(secret->ToString());
    Check(again && std::vector<uint8_t>(again->key().begin(), again->key().end()) ==
                       std::vector<uint8_t>(secret->key().begin(), secret->key().end()));
  } else {
    Check(secret.error().code == reprise::ErrorCode::kInvalidArgument);
  }

  auto decoded = reprise::Base64Decode(input);
  if (decoded) {
    auto again = reprise::Base64Decode(reprise::Base64Encode(*decoded));
    Check(again && *again == *decoded);
  }
  return 0;
}
