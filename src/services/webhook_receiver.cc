#include "services/webhook_receiver.h"

#include <fmt/format.h>

namespace reprise::services {

ReplicatePrediction ReadReplicatePrediction(const nlohmann::json& payload) {
  ReplicatePrediction prediction;
  if (!payload.is_object() || !payload.contains("status") || !payload["status"].is_string()) {
    prediction.event = "not a prediction";
    return prediction;
  }
  const std::string status = payload["status"].get<std::string>();
  prediction.event = "prediction " + status;
  if (status != "succeeded") return prediction;
  nlohmann::json metadata = nlohmann::json::object();
  for (const char* key : {"id", "model", "version"}) {
    if (payload.contains(key) && payload[key].is_string()) {
      metadata[std::string(key) == "id" ? "prediction_id" : key] = payload[key];
    }
  }
  metadata["input"] = payload.value("input", nlohmann::json(nullptr));
  const nlohmann::json output = payload.value("output", nlohmann::json(nullptr));
  std::vector<std::string> urls;
  if (output.is_string()) urls.push_back(output.get<std::string>());
  if (output.is_array()) {
    for (const auto& item : output) {
      if (item.is_string()) urls.push_back(item.get<std::string>());
    }
  }
  for (auto& url : urls) {
    ImportRequest request;
    request.url = std::move(url);
    request.metadata = metadata;
    prediction.imports.push_back(std::move(request));
  }
  return prediction;
}

Result<std::unique_ptr<WebhookReceiver>> WebhookReceiver::Create(
    const std::map<std::string, WebhookSourceConfig>& sources, std::string default_owner,
    const ImportService& imports, const Clock& clock) {
  std::map<std::string, Source, std::less<>> parsed;
  for (const auto& [name, config] : sources) {
    Source source;
    source.owner = config.owner.empty() ? default_owner : config.owner;
    if (config.secrets.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "webhooks.sources." + name + " has no secret");
    }
    for (const auto& text : config.secrets) {
      auto secret = WebhookSecret::Parse(text);
      if (!secret) return Fail(secret.error().Wrap("webhooks.sources." + name + ".secret"));
      source.secrets.push_back(std::move(*secret));
    }
    parsed.emplace(name, std::move(source));
  }
  return std::unique_ptr<WebhookReceiver>(new WebhookReceiver(std::move(parsed), imports, clock));
}

Result<WebhookReceiver::Receipt> WebhookReceiver::Receive(std::string_view source_name,
                                                          const WebhookHeaders& headers,
                                                          std::string_view body) const {
  auto found = sources_.find(source_name);
  if (found == sources_.end()) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("no webhook source '{}' is configured", source_name));
  }
  const Source& source = found->second;
  if (auto verified = VerifyWebhook(source.secrets, headers, body, clock_.NowMicros()); !verified) {
    return Fail(ErrorCode::kPermissionDenied, verified.error().message, verified.error().origin);
  }
  nlohmann::json payload = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded()) {
    return Fail(ErrorCode::kInvalidArgument, "the webhook body is not JSON");
  }
  ReplicatePrediction prediction = ReadReplicatePrediction(payload);
  Receipt receipt;
  receipt.event = prediction.event;
  catalog::ReceivedWebhook webhook{std::string(source_name), std::string(headers.id),
                                   prediction.event};
  auto recorded = imports_.RecordWebhook(webhook, source.owner, prediction.imports,
                                         &receipt.imports, &receipt.refused);
  if (!recorded) return Fail(recorded.error());
  receipt.duplicate = !*recorded;
  return receipt;
}

nlohmann::json WebhookReceiver::ReceiptJson(const Receipt& receipt) {
  nlohmann::json imports = nlohmann::json::array();
  for (const auto& import : receipt.imports) imports.push_back(ImportJson(import));
  return {{"received", true},
          {"duplicate", receipt.duplicate},
          {"event", receipt.event},
          {"imports", imports},
          {"refused", receipt.refused}};
}

}  // namespace reprise::services
