#include "stages/params.h"

#include <sstream>
#include <string>

namespace reprise::stages {
namespace {

bool SameKind(const nlohmann::json& want, const nlohmann::json& got) {
  if (want.is_number_float()) return got.is_number();
  if (want.is_number_integer()) return got.is_number_integer();
  return want.type() == got.type();
}

std::string Where(std::string_view stage, std::string_view name) {
  return "stage '" + std::string(stage) + "' param '" + std::string(name) + "'";
}

}  // namespace

Result<nlohmann::json> MergeParams(std::string_view stage, const nlohmann::json& defaults,
                                   const nlohmann::json& overrides) {
  nlohmann::json merged = defaults;
  if (overrides.is_null()) return merged;
  if (!overrides.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "stage '" + std::string(stage) +
                                                 "': params must be a table, got " +
                                                 std::string(overrides.type_name()));
  }
  for (const auto& [name, value] : overrides.items()) {
    auto known = defaults.find(name);
    if (known == defaults.end()) {
      std::string names;
      for (const auto& [key, unused] : defaults.items()) names += (names.empty() ? "" : ", ") + key;
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown " + Where(stage, name) +
                      " (known: " + (names.empty() ? std::string("none") : names) + ")");
    }
    if (!SameKind(*known, value)) {
      return Fail(ErrorCode::kInvalidArgument,
                  Where(stage, name) + " must be " + std::string(known->type_name()) + ", got " +
                      std::string(value.type_name()) + " " + value.dump());
    }
    // A float param given as an integer (`segment_seconds = 2`) is stored as the float
    // it means, so it hashes into the same recipe as the default 2.0.
    merged[name] = known->is_number_float() ? nlohmann::json(value.get<double>()) : value;
  }
  return merged;
}

Result<int> IntParam(std::string_view stage, const nlohmann::json& params, std::string_view name,
                     int min, int max) {
  auto it = params.find(name);
  if (it == params.end() || !it->is_number_integer()) {
    return Fail(ErrorCode::kInvalidArgument, Where(stage, name) + " must be an integer");
  }
  auto value = it->get<int64_t>();
  if (value < min || value > max) {
    return Fail(ErrorCode::kInvalidArgument, Where(stage, name) + " must be in " +
                                                 std::to_string(min) + ".." + std::to_string(max) +
                                                 ", got " + std::to_string(value));
  }
  return static_cast<int>(value);
}

Result<double> NumberParam(std::string_view stage, const nlohmann::json& params,
                           std::string_view name, double min, double max) {
  auto it = params.find(name);
  if (it == params.end() || !it->is_number()) {
    return Fail(ErrorCode::kInvalidArgument, Where(stage, name) + " must be a number");
  }
  auto value = it->get<double>();
  if (!(value >= min && value <= max)) {
    std::ostringstream message;
    message << Where(stage, name) << " must be in " << min << ".." << max << ", got " << value;
    return Fail(ErrorCode::kInvalidArgument, message.str());
  }
  return value;
}

Result<StageTable> SplitServiceKey(std::string_view stage, const nlohmann::json& overrides,
                                   std::string_view default_service) {
  StageTable table{overrides, std::string(default_service)};
  if (!overrides.is_object()) return table;
  auto it = table.params.find("service");
  if (it == table.params.end()) return table;
  if (!it->is_string() || it->get<std::string>().empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "stage '" + std::string(stage) +
                    "': service must name a [services.NAME] table, got " + it->dump());
  }
  table.service = it->get<std::string>();
  table.params.erase(it);
  return table;
}

}  // namespace reprise::stages
