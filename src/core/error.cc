#include "core/error.h"

#include <cstring>

namespace reprise {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kUnsupportedMedia:
      return "unsupported_media";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
  }
  return "internal";
}

std::optional<ErrorCode> ErrorCodeFromName(std::string_view name) {
  for (ErrorCode code :
       {ErrorCode::kNotFound, ErrorCode::kInvalidArgument, ErrorCode::kUnsupportedMedia,
        ErrorCode::kIo, ErrorCode::kUnavailable, ErrorCode::kConflict, ErrorCode::kCancelled,
        ErrorCode::kInternal, ErrorCode::kPermissionDenied}) {
    if (ErrorCodeName(code) == name) return code;
  }
  return std::nullopt;
}

bool IsTransient(ErrorCode code) {
  return code == ErrorCode::kIo || code == ErrorCode::kUnavailable;
}

Error Error::Wrap(std::string_view context) const {
  Error wrapped = *this;
  wrapped.message = std::string(context) + ": " + message;
  return wrapped;
}

std::string Error::ToString() const {
  std::string text = std::string(ErrorCodeName(code)) + ": " + message;
  if (!origin.empty()) text += " (" + origin + ")";
  return text;
}

Error ErrnoError(ErrorCode code, std::string_view what, int errnum) {
  return Error{code, std::string(what) + ": " + std::strerror(errnum),
               "errno:" + std::to_string(errnum)};
}

}  // namespace reprise
