// The one way reprise writes JSON as text for others to read: compact (no spaces or
// newlines), object keys in nlohmann's order (sorted), and invalid UTF-8 in a string
// replaced by U+FFFD instead of throwing, so a file name with stray bytes never turns an
// answer into an error.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace reprise {

[[nodiscard]] inline std::string JsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace reprise
