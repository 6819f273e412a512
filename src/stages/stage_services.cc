#include "stages/stage_services.h"

#include <string>

namespace reprise::stages {
namespace {

const Clock& SystemClockInstance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace

StageServices::StageServices() : clock_(&SystemClockInstance()), directory_(nullptr) {}

StageServices::StageServices(const Clock& clock, const ai::ServiceDirectory* directory,
                             std::map<std::string, double, std::less<>> token_prices)
    : clock_(&clock), directory_(directory), token_prices_(std::move(token_prices)) {}

std::optional<double> StageServices::TokenPrice(std::string_view stage) const {
  auto it = token_prices_.find(stage);
  if (it == token_prices_.end()) return std::nullopt;
  return it->second;
}

Result<const ai::OpenAiClient*> StageServices::Service(std::string_view name) const {
  if (directory_ == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "no service '" + std::string(name) +
                                                 "' is configured ([services." + std::string(name) +
                                                 "]; configured: none)");
  }
  auto client = directory_->Find(name);
  if (!client) return Fail(ErrorCode::kInvalidArgument, client.error().message);
  return *client;
}

bool StageServices::HasService(std::string_view name) const {
  return directory_ != nullptr && directory_->Find(name).has_value();
}

}  // namespace reprise::stages
