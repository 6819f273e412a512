// The one error type of reprise and the Result<T> every fallible function returns.
//
// An Error has a code that decides how callers react (HTTP status, whether a job is
// retried), a message written for humans that names what failed, and the originating
// library's own code when there is one ("averror:-1094995529", "sqlite:5", "errno:2",
// "sqlstate:40001", "http:503"). Result<T> is tl::expected<T, Error> marked
// [[nodiscard]] so a dropped error is a compile warning (an error in CI).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace reprise {

enum class ErrorCode {
  kNotFound,
  kInvalidArgument,
  kUnsupportedMedia,
  kIo,
  kUnavailable,
  kConflict,
  kCancelled,
  kInternal,
  // The caller is known (or needs no identity) but may not do this: a signed URL whose
  // signature does not match or whose time is up. HTTP 403.
  kPermissionDenied,
};

// Stable lower_snake name used in JSON output and logs ("unsupported_media").
std::string_view ErrorCodeName(ErrorCode code);
// The code an ErrorCodeName() names (as stored in the catalog), or nullopt.
std::optional<ErrorCode> ErrorCodeFromName(std::string_view name);

// True for errors worth retrying later (I/O hiccups, a service that is down).
bool IsTransient(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string origin;  // the library's own code, empty when there is none

  // Returns a copy whose message is "context: message", keeping code and origin.
  [[nodiscard]] Error Wrap(std::string_view context) const;
  // "unsupported_media: could not open ...: Invalid data (averror:-1094995529)"
  [[nodiscard]] std::string ToString() const;
};

template <class T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using Base = tl::expected<T, Error>;
  using Base::Base;
  Result(Base base) : Base(std::move(base)) {}  // NOLINT(google-explicit-constructor)
};

// `return Fail(ErrorCode::kIo, "cannot read " + path);`
inline tl::unexpected<Error> Fail(ErrorCode code, std::string message, std::string origin = {}) {
  return tl::unexpected<Error>(Error{code, std::move(message), std::move(origin)});
}
inline tl::unexpected<Error> Fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

// Error for a failed libc call: the message plus strerror(errnum), origin "errno:N".
Error ErrnoError(ErrorCode code, std::string_view what, int errnum);

}  // namespace reprise

// Propagates an error from a Result-returning expression; evaluates to nothing.
#define REPRISE_TRY(expr)                                                                     \
  do {                                                                                        \
    auto reprise_try_result_ = (expr);                                                        \
    if (!reprise_try_result_) return ::reprise::Fail(std::move(reprise_try_result_.error())); \
  } while (false)
