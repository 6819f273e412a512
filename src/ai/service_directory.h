// ServiceDirectory: the deployment's services ([services.NAME], core/config.h) as clients
// stages and `reprise doctor` share: one OpenAiClient and one RequestLimiter per service,
// so the service's max_concurrent and requests_per_minute hold across every stage and
// thread of the process that calls it, and, with a limiter over the catalog
// (services/catalog_request_limiter.h, what App gives its workers), across processes.
//
// CheckService is the health check seed 000 ran before sending work: the service's
// cheapest call (its models list), with whether it answered, how fast, the models it
// serves and whether a model a stage needs is among them.
//
// Thread-safety: immutable after Create; Find() and the clients are safe from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/limiter.h"
#include "ai/openai_client.h"
#include "ai/sleeper.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/random.h"

namespace reprise::ai {

class ServiceDirectory final {
 public:
  // Makes the limiter of one service from its settings (max_concurrent,
  // requests_per_minute); `sleeper` is the directory's, for the limiter's waits.
  using LimiterFactory = std::function<Result<std::unique_ptr<RequestLimiter>>(
      const std::string& name, const ServiceSettings& settings, Sleeper& sleeper)>;

  // kInvalidArgument naming the service for a base URL the client cannot use. No I/O.
  // Without `make_limiter`, each service gets a ProcessRequestLimiter: its limits hold
  // across this process only.
  [[nodiscard]] static Result<std::unique_ptr<ServiceDirectory>> Create(
      const std::map<std::string, ServiceSettings>& services, const Clock& clock,
      const LimiterFactory& make_limiter = {});

  // The client of a configured service; kNotFound naming the configured ones.
  [[nodiscard]] Result<const OpenAiClient*> Find(std::string_view name) const;
  [[nodiscard]] const ServiceSettings* Settings(std::string_view name) const;
  // Configured services, by name.
  [[nodiscard]] std::vector<std::string> Names() const;

 private:
  struct Entry {
    ServiceSettings settings;
    std::unique_ptr<RequestLimiter> limiter;
    std::optional<OpenAiClient> client;
  };
  ServiceDirectory();

  RealSleeper sleeper_;
  std::unique_ptr<SeededRandom> random_;
  std::map<std::string, Entry, std::less<>> entries_;
};

struct ServiceHealth {
  std::string service;
  std::string base_url;
  bool reachable = false;      // it answered the models list (or, without one, at all)
  std::optional<Error> error;  // why not, or why the list is unknown
  double latency_ms = 0;       // of the answer
  std::vector<std::string> models;
  bool models_listed = false;  // false: the server has no models list (whisper.cpp)
  bool key_missing = false;    // api_key_env names a variable that is not set
  // Models stages need from it, each with whether the list has it (when listed).
  std::map<std::string, bool> needed;
};

// Calls the service's models list once (no retries beyond the client's own).
ServiceHealth CheckService(const ServiceDirectory& directory, std::string_view name,
                           const std::vector<std::string>& needed_models = {});

}  // namespace reprise::ai
