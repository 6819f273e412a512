#include "ai/service_directory.h"

#include <algorithm>
#include <chrono>

namespace reprise::ai {

ServiceDirectory::ServiceDirectory() : random_(new SeededRandom(SeededRandom::FromEntropy())) {}

Result<std::unique_ptr<ServiceDirectory>> ServiceDirectory::Create(
    const std::map<std::string, ServiceSettings>& services, const Clock& clock,
    const LimiterFactory& make_limiter) {
  std::unique_ptr<ServiceDirectory> directory(new ServiceDirectory());
  for (const auto& [name, settings] : services) {
    Entry& entry = directory->entries_[name];
    entry.settings = settings;
    if (make_limiter) {
      auto limiter = make_limiter(name, settings, directory->sleeper_);
      if (!limiter) return Fail(limiter.error().Wrap("services." + name));
      entry.limiter = std::move(*limiter);
    } else {
      auto limiter = ProcessRequestLimiter::Create(
          RequestLimits{settings.max_concurrent, settings.requests_per_minute}, clock,
          directory->sleeper_);
      if (!limiter) return Fail(limiter.error().Wrap("services." + name));
      entry.limiter = std::move(*limiter);
    }
    ServiceConfig config;
    config.base_url = settings.base_url;
    config.api_key = settings.api_key;
    config.connect_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(settings.connect_timeout_seconds * 1000));
    config.request_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(settings.timeout_seconds * 1000));
    config.max_attempts = settings.max_attempts;
    auto client = OpenAiClient::Create(
        config,
        ClientDependencies{clock, directory->sleeper_, *directory->random_, *entry.limiter});
    if (!client) return Fail(client.error().Wrap("services." + name));
    entry.client.emplace(std::move(*client));
  }
  return directory;
}

Result<const OpenAiClient*> ServiceDirectory::Find(std::string_view name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    std::string known;
    for (const auto& [configured, entry] : entries_) {
      known += (known.empty() ? "" : ", ") + configured;
    }
    return Fail(ErrorCode::kNotFound,
                "no service '" + std::string(name) + "' is configured ([services." +
                    std::string(name) + "]; configured: " + (known.empty() ? "none" : known) + ")");
  }
  return &*it->second.client;
}

const ServiceSettings* ServiceDirectory::Settings(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second.settings;
}

std::vector<std::string> ServiceDirectory::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

ServiceHealth CheckService(const ServiceDirectory& directory, std::string_view name,
                           const std::vector<std::string>& needed_models) {
  ServiceHealth health;
  health.service = std::string(name);
  for (const auto& model : needed_models) health.needed[model] = false;
  const ServiceSettings* settings = directory.Settings(name);
  auto client = directory.Find(name);
  if (!client || settings == nullptr) {
    health.error = client ? Error{ErrorCode::kNotFound, "not configured", ""} : client.error();
    return health;
  }
  health.base_url = settings->base_url;
  health.key_missing = !settings->api_key_env.empty() && settings->api_key.empty();
  auto models = (*client)->ListModels();
  if (models) {
    health.reachable = true;
    health.models_listed = true;
    health.latency_ms = static_cast<double>(models->stats.latency.count()) / 1000.0;
    health.models = models->ids;
    for (auto& [model, present] : health.needed) {
      present = std::find(models->ids.begin(), models->ids.end(), model) != models->ids.end();
    }
    return health;
  }
  health.error = models.error();
  // A server without a models list (whisper.cpp's) still answered: reachable, list unknown.
  health.reachable = models.error().code == ErrorCode::kNotFound;
  return health;
}

}  // namespace reprise::ai
