#include "queue/job_inputs.h"

#include <algorithm>

namespace reprise::queue {

Result<void> JobInputs::LoadFromCatalog(catalog::Catalog& catalog, const stages::Registry& registry,
                                        const std::string& asset_id,
                                        const std::vector<const stages::Stage*>& due) {
  std::vector<std::string> wanted;
  for (const auto* stage : due) {
    for (const auto& input : stage->Inputs()) {
      bool in_job = std::any_of(due.begin(), due.end(),
                                [&](const stages::Stage* s) { return s->Name() == input; });
      if (!in_job && std::find(wanted.begin(), wanted.end(), input) == wanted.end()) {
        wanted.push_back(input);
      }
    }
  }
  if (wanted.empty()) return {};
  auto rows = catalog.ListDerivatives(asset_id);  // newest first
  if (!rows) return Fail(rows.error());
  for (const auto& name : wanted) {
    const std::string& recipe = registry.Recipe(name);
    const catalog::Derivative* current = nullptr;
    const catalog::Derivative* newest = nullptr;
    for (const auto& row : *rows) {
      if (row.stage != name || row.recipe != recipe) continue;
      if (row.current && row.state == catalog::DerivativeState::kDone) current = &row;
      if (newest == nullptr && row.state != catalog::DerivativeState::kRunning &&
          row.state != catalog::DerivativeState::kPending) {
        newest = &row;
      }
    }
    const catalog::Derivative* use = current != nullptr ? current : newest;
    if (use == nullptr) continue;
    std::optional<Error> error;
    if (use->state == catalog::DerivativeState::kFailed) {
      error = Error{ErrorCodeFromName(use->error_code).value_or(ErrorCode::kInternal),
                    use->error_message, ""};
    }
    Record(name, use->state, use->skip_reason, error, use->metadata, use->blobs);
  }
  return {};
}

void JobInputs::Record(std::string_view stage, catalog::DerivativeState state,
                       const std::string& skip_reason, const std::optional<Error>& error,
                       const nlohmann::json& metadata,
                       const std::vector<catalog::OutputBlob>& files) {
  Entry entry;
  if (state == catalog::DerivativeState::kDone || state == catalog::DerivativeState::kSkipped) {
    stages::InputResult result;
    result.stage = std::string(stage);
    result.state = state;
    result.skip_reason = skip_reason;
    result.metadata = metadata;
    if (state == catalog::DerivativeState::kDone) result.outputs = files;
    entry.result = std::move(result);
  } else {
    entry.failure = error.value_or(
        Error{ErrorCode::kInternal, "ended as " + std::string(catalog::Name(state)), ""});
  }
  entries_.insert_or_assign(std::string(stage), std::move(entry));
}

Result<const stages::InputResult*> JobInputs::Get(std::string_view stage) const {
  auto it = entries_.find(stage);
  if (it == entries_.end()) {
    return Fail(ErrorCode::kUnavailable,
                "has no result under today's recipe yet (it is built before its consumers)");
  }
  if (it->second.failure) {
    const Error& failure = *it->second.failure;
    return Fail(failure.code, "failed: " + failure.message);
  }
  return &*it->second.result;
}

Result<std::unique_ptr<ByteReader>> JobInputs::Open(std::string_view stage,
                                                    std::string_view name) const {
  auto result = Get(stage);
  if (!result) return Fail(result.error().Wrap("input " + std::string(stage)));
  for (const auto& file : (*result)->outputs) {
    if (file.name == name) return blobs_.Open(file.key);
  }
  return Fail(ErrorCode::kNotFound,
              "input " + std::string(stage) + " has no file named " + std::string(name));
}

}  // namespace reprise::queue
