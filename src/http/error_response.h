// How an Error becomes an HTTP answer: the status its code decides, and the one error body
// of the API,
//
//   {"error": {"code": "not_found", "message": "...", "origin": "sqlite:5", "details": {...}}}
//
// whose "code", "message" and "origin" are ErrorJson() (the object the --json views embed),
// plus "details": an object, empty unless the route has facts to add (the component that
// failed, the fields that were wrong).
//
// Status by code, and why where there was a choice:
//   kInvalidArgument   400
//   kPermissionDenied  403  a signed URL that does not match or has run out (no auth scheme
//                          to challenge, so not 401)
//   kNotFound          404
//   kConflict          409
//   kCancelled         409  the work the request waited on was cancelled by someone else: a
//                          clash with the resource's state, not worth repeating unchanged.
//                          499 is nginx's private code for a client that hung up, which then
//                          reads no answer at all.
//   kUnsupportedMedia  415  RFC 9110 15.5.16 covers a format refused "as a result of inspecting
//                          the data directly", which is what probing an upload does; 422 would
//                          say the request's own syntax was fine but its instructions wrong.
//   kIo, kInternal     500  the server's own fault; a retry may help but no time can be promised
//   kUnavailable       503  a dependency is down or busy; the route adds Retry-After
// Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace reprise::http {

[[nodiscard]] int HttpStatus(ErrorCode code);

// `details` should be an object; null counts as empty, anything else is kept under
// details["value"].
[[nodiscard]] nlohmann::json ErrorBody(const Error& error,
                                       nlohmann::json details = nlohmann::json::object());

}  // namespace reprise::http
