#include "core/error_json.h"

namespace reprise {

nlohmann::json ErrorJson(const Error& error) {
  nlohmann::json out = {{"code", ErrorCodeName(error.code)}, {"message", error.message}};
  if (!error.origin.empty()) out["origin"] = error.origin;
  return out;
}

}  // namespace reprise
