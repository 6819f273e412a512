// The JSON form of an Error, the one object every JSON view embeds where something failed
// (a batch item, a failed ingest, an HTTP error body under "error"):
//
//   {"code": "not_found", "message": "no asset 01J…", "origin": "sqlite:5"}
//
// "code" is ErrorCodeName(), stable for scripts; "message" is for humans; "origin" (the
// library's own code) appears only when there is one. Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace reprise {

[[nodiscard]] nlohmann::json ErrorJson(const Error& error);

}  // namespace reprise
