#include "catalog/import_types.h"

#include <utility>

namespace reprise::catalog {
namespace {

constexpr std::pair<ImportState, std::string_view> kImportStateNames[] = {
    {ImportState::kQueued, "queued"},
    {ImportState::kDownloading, "downloading"},
    {ImportState::kDone, "done"},
    {ImportState::kFailed, "failed"},
};

}  // namespace

std::string_view Name(ImportState state) {
  for (const auto& [value, name] : kImportStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

Result<ImportState> ParseImportState(std::string_view text) {
  for (const auto& [value, name] : kImportStateNames) {
    if (name == text) return value;
  }
  return Fail(ErrorCode::kInvalidArgument, "unknown import state '" + std::string(text) + "'");
}

}  // namespace reprise::catalog
