// StageServices: what a stage factory is given besides its params, so stages that call
// out (an OpenAI-compatible service) or keep time get them injected rather than making
// their own: the clock, and the deployment's services (`[services.NAME]`) as one
// ai::ServiceDirectory per process, whose clients share each service's limiter, so
// max_concurrent and requests_per_minute hold across every stage and thread that calls it.
//
// The split the recipe depends on: a stage's params (model, prompt, backend) are its
// recipe; which service serves them and how (base URL, key, timeouts, limits) is
// deployment and lives in the directory, so moving to another endpoint that serves the
// same model outdates nothing. Prices ([costs.STAGE]) are deployment too: a derivative
// records its tokens and what they cost when it was made.
//
// A stage factory that needs services has the signature
//   static Result<std::unique_ptr<S>> Create(const nlohmann::json& overrides,
//                                            const StageServices& services);
// (stages/builtin.cc calls it when it exists) and may keep the clients it looks up: the
// directory and clock outlive the registry.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ai/openai_client.h"
#include "ai/service_directory.h"
#include "core/clock.h"
#include "core/error.h"

namespace reprise::stages {

class StageServices final {
 public:
  // The system clock and no services: every stage that needs none works; one that needs
  // a service is told none is configured.
  StageServices();
  // `directory` may be null (no services configured). Both must outlive the stages made.
  // `token_prices`: per stage, the price of 1,000 tokens ([costs.STAGE] per_1k_tokens).
  StageServices(const Clock& clock, const ai::ServiceDirectory* directory,
                std::map<std::string, double, std::less<>> token_prices = {});

  const Clock& clock() const { return *clock_; }
  // The client of `[services.NAME]`; kInvalidArgument naming the configured services when
  // the deployment has none by that name (a stage asking for it cannot be made).
  [[nodiscard]] Result<const ai::OpenAiClient*> Service(std::string_view name) const;
  bool HasService(std::string_view name) const;
  const ai::ServiceDirectory* directory() const { return directory_; }
  // What 1,000 tokens of `stage`'s calls cost, or nullopt when the config prices none: a
  // stage records tokens × this as the cost of a derivative.
  std::optional<double> TokenPrice(std::string_view stage) const;

 private:
  const Clock* clock_;
  const ai::ServiceDirectory* directory_;
  std::map<std::string, double, std::less<>> token_prices_;
};

}  // namespace reprise::stages
