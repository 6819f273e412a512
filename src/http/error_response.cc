#include "http/error_response.h"

#include "core/error_json.h"

namespace reprise::http {

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
    case ErrorCode::kCancelled:
      return 409;
    case ErrorCode::kUnsupportedMedia:
      return 415;
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
      return 500;
    case ErrorCode::kUnavailable:
      return 503;
  }
  return 500;
}

nlohmann::json ErrorBody(const Error& error, nlohmann::json details) {
  nlohmann::json body = ErrorJson(error);
  if (details.is_null()) {
    details = nlohmann::json::object();
  } else if (!details.is_object()) {
    details = {{"value", std::move(details)}};
  }
  body["details"] = std::move(details);
  return {{"error", std::move(body)}};
}

}  // namespace reprise::http
