// Reading JSON request bodies strictly: a bad body is a 400 that names what is wrong, so a
// client's typo is never silently ignored.
//
// ParseJsonBody parses with a nesting limit (a hostile `[[[[...` answers an error, not
// a deep recursion). JsonFields checks an object against the fields a route knows:
// unknown ones are refused by name, and each typed getter names the field and the type it
// wanted. A JSON null counts as absent. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace reprise::http {

constexpr int kMaxJsonDepth = 32;

// kInvalidArgument for an empty body, malformed JSON (with the byte offset) or nesting
// deeper than `max_depth`.
[[nodiscard]] Result<nlohmann::json> ParseJsonBody(std::string_view body,
                                                   int max_depth = kMaxJsonDepth);

class JsonFields {
 public:
  // kInvalidArgument unless `body` is an object whose every key is in `known`
  // ("unknown field(s) 'lmit'; known: filter_status, limit, ...").
  [[nodiscard]] static Result<JsonFields> Of(const nlohmann::json& body,
                                             std::initializer_list<std::string_view> known);

  [[nodiscard]] bool Has(std::string_view name) const;
  [[nodiscard]] Result<std::optional<std::string>> String(std::string_view name) const;
  [[nodiscard]] Result<std::optional<bool>> Bool(std::string_view name) const;
  [[nodiscard]] Result<std::optional<int64_t>> Int(std::string_view name) const;
  [[nodiscard]] Result<std::optional<double>> Number(std::string_view name) const;
  // An array of strings.
  [[nodiscard]] Result<std::optional<std::vector<std::string>>> Strings(
      std::string_view name) const;
  // Any JSON object.
  [[nodiscard]] Result<std::optional<nlohmann::json>> Object(std::string_view name) const;
  // Any JSON value, unchecked.
  [[nodiscard]] std::optional<nlohmann::json> Raw(std::string_view name) const;

 private:
  explicit JsonFields(const nlohmann::json& body) : body_(&body) {}
  [[nodiscard]] const nlohmann::json* Find(std::string_view name) const;

  const nlohmann::json* body_;
};

}  // namespace reprise::http
