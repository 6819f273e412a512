// WebhookReceiver: incoming webhooks from the senders configured under
// [webhooks.sources.NAME] (secret or secrets, owner).
//
// Receive() first verifies the Standard Webhooks signature (core/webhook_signature.h:
// webhook-id, webhook-timestamp within 5 minutes, a matching v1 signature under one of
// the source's secrets). A missing or bad signature or an old timestamp is
// kPermissionDenied (the HTTP route answers 401) and nothing is stored; an unknown source
// is kNotFound. Then the delivery is remembered by (source, webhook-id): a delivery seen
// before is a no-op (Receipt::duplicate).
//
// The body is read as a Replicate prediction ({"id", "status", "input", "output", ...}):
// with status "succeeded", each URL of `output` (a string or a list of strings) becomes a
// URL import of the source's owner, with {"prediction_id", "input", "model", "version"}
// as the asset's metadata, queued in the transaction that records the delivery. Any other
// status (starting, processing, failed, canceled) or a payload that is no prediction is
// recorded and otherwise ignored. A body that is not JSON is kInvalidArgument, nothing
// stored.
//
// Thread-safety: immutable after Create(); Receive may run on many threads.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/config.h"
#include "core/webhook_signature.h"
#include "services/import_service.h"

namespace reprise::services {

class WebhookReceiver final {
 public:
  struct Receipt {
    bool duplicate = false;
    std::string event;                     // "prediction succeeded"
    std::vector<catalog::Import> imports;  // queued by this delivery
    std::vector<std::string> refused;      // output URLs not imported, and why
  };

  // kInvalidArgument naming the source whose secret does not parse or that has none.
  [[nodiscard]] static Result<std::unique_ptr<WebhookReceiver>> Create(
      const std::map<std::string, WebhookSourceConfig>& sources, std::string default_owner,
      const ImportService& imports, const Clock& clock);

  [[nodiscard]] Result<Receipt> Receive(std::string_view source, const WebhookHeaders& headers,
                                        std::string_view body) const;

  // The JSON answer of the webhook route: {"received", "duplicate", "event", "imports":
  // [ImportJson...], "refused": [...]}.
  static nlohmann::json ReceiptJson(const Receipt& receipt);

 private:
  struct Source {
    std::vector<WebhookSecret> secrets;
    std::string owner;
  };
  WebhookReceiver(std::map<std::string, Source, std::less<>> sources, const ImportService& imports,
                  const Clock& clock)
      : sources_(std::move(sources)), imports_(imports), clock_(clock) {}

  std::map<std::string, Source, std::less<>> sources_;
  const ImportService& imports_;
  const Clock& clock_;
};

// The imports a Replicate prediction asks for (see the top of this file) and the event
// it reports ("prediction succeeded"). Pure; fuzzed.
struct ReplicatePrediction {
  std::string event;
  std::vector<ImportRequest> imports;
};
ReplicatePrediction ReadReplicatePrediction(const nlohmann::json& payload);

}  // namespace reprise::services
