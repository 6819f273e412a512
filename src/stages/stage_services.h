// StageServices: what a stage factory is given besides its params, so stages that call
// out (an OpenAI-compatible service) or keep time get them injected rather than making
// their own: the clock, and the deployment's services (`[services.NAME]`) as one
// ai::ServiceDirectory per process, whose clients share each service's limiter, so
// max_concurrent and requests_per_minute hold across every stage and thread that calls it.
//
// The split the recipe depends on: a stage's params (model, prompt, backend) are its
// recipe; which service serves them and how (base URL, key, timeouts, limits) is
// deployment and lives in the directory, so moving to another endpoint that serves the
// same model outdates nothing.
//
// A stage factory that needs services has the signature
//   static Result<std::unique_ptr<S>> Create(const nlohmann::json& overrides,
//                                            const StageServices& services);
// (stages/builtin.cc calls it when it exists) and may keep the clients it looks up: the
// directory and clock outlive the registry.
#pragma once

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
  StageServices(const Clock& clock, const ai::ServiceDirectory* directory);

  const Clock& clock() const { return *clock_; }
  // The client of `[services.NAME]`; kInvalidArgument naming the configured services when
  // the deployment has none by that name (a stage asking for it cannot be made).
  [[nodiscard]] Result<const ai::OpenAiClient*> Service(std::string_view name) const;
  bool HasService(std::string_view name) const;
  const ai::ServiceDirectory* directory() const { return directory_; }

 private:
  const Clock* clock_;
  const ai::ServiceDirectory* directory_;
};

}  // namespace reprise::stages
