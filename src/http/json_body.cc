#include "http/json_body.h"

#include <algorithm>

namespace reprise::http {
namespace {

struct TooDeep {};

Error WrongType(std::string_view name, std::string_view wanted, const nlohmann::json& value) {
  return Error{ErrorCode::kInvalidArgument,
               "field '" + std::string(name) + "' should be " + std::string(wanted) + ", not " +
                   value.type_name(),
               ""};
}

}  // namespace

Result<nlohmann::json> ParseJsonBody(std::string_view body, int max_depth) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "the request body is empty; a JSON object is needed");
  }
  auto limit = [max_depth](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > max_depth) throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(body.begin(), body.end(), limit);
  } catch (const TooDeep&) {
    return Fail(ErrorCode::kInvalidArgument,
                "the JSON body nests deeper than " + std::to_string(max_depth) + " levels");
  } catch (const nlohmann::json::parse_error& e) {
    return Fail(ErrorCode::kInvalidArgument,
                "the request body is not valid JSON (at byte " + std::to_string(e.byte) + ")");
  }
}

Result<JsonFields> JsonFields::Of(const nlohmann::json& body,
                                  std::initializer_list<std::string_view> known) {
  if (!body.is_object()) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string("the request body should be a JSON object, not ") + body.type_name());
  }
  std::string unknown;
  for (const auto& [key, value] : body.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    unknown += (unknown.empty() ? "'" : ", '") + key + "'";
  }
  if (!unknown.empty()) {
    std::string names;
    for (auto name : known) names += (names.empty() ? "" : ", ") + std::string(name);
    return Fail(ErrorCode::kInvalidArgument,
                "unknown field(s) " + unknown + "; known: " + (names.empty() ? "none" : names));
  }
  return JsonFields(body);
}

const nlohmann::json* JsonFields::Find(std::string_view name) const {
  auto it = body_->find(name);
  if (it == body_->end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonFields::Has(std::string_view name) const { return Find(name) != nullptr; }

Result<std::optional<std::string>> JsonFields::String(std::string_view name) const {
  const auto* value = Find(name);
  if (!value) return std::nullopt;
  if (!value->is_string()) return Fail(WrongType(name, "a string", *value));
  return value->get<std::string>();
}

Result<std::optional<bool>> JsonFields::Bool(std::string_view name) const {
  const auto* value = Find(name);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) return Fail(WrongType(name, "true or false", *value));
  return value->get<bool>();
}

Result<std::optional<int64_t>> JsonFields::Int(std::string_view name) const {
  const auto* value = Find(name);
  if (!value) return std::nullopt;
  if (value->is_number_integer()) return value->get<int64_t>();
  if (value->is_number_unsigned()) {
    auto n = value->get<uint64_t>();
    if (n > static_cast<uint64_t>(INT64_MAX)) {
      return Fail(ErrorCode::kInvalidArgument, "field '" + std::string(name) + "' is too large");
    }
    return static_cast<int64_t>(n);
  }
  return Fail(WrongType(name, "an integer", *value));
}

Result<std::optional<double>> JsonFields::Number(std::string_view name) const {
  const auto* value = Find(name);
  if (!value) return std::nullopt;
  if (!value->is_number()) return Fail(WrongType(name, "a number", *value));
  return value->get<double>();
}

Result<std::optional<std::vector<std::string>>> JsonFields::Strings(std::string_view name) const {
  const auto* value = Find(name);
  if (!value) return std::nullopt;
  if (!value->is_array()) return Fail(WrongType(name, "an array of strings", *value));
  std::vector<std::string> out;
  for (const auto& item : *value) {
    if (!item.is_string()) return Fail(WrongType(name, "an array of strings", *value));
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::optional<nlohmann::json>> JsonFields::Object(std::string_view name) const {
  const auto* value = Find(name);
  if (!value) return std::nullopt;
  if (!value->is_object()) return Fail(WrongType(name, "an object", *value));
  return *value;
}

std::optional<nlohmann::json> JsonFields::Raw(std::string_view name) const {
  const auto* value = Find(name);
  if (!value) return std::nullopt;
  return *value;
}

}  // namespace reprise::http
