// Conditional GET (RFC 9110 13.1.2): whether an If-None-Match header names the
// representation whose entity tag is `etag` ("*", or a comma-separated list holding it;
// weak comparison, so W/"x" matches "x", as RFC 9110 asks for GET). `etag` is given
// quoted, as sent in the ETag header. Pure; thread-safe.
#pragma once

#include <string_view>

namespace reprise::http {

[[nodiscard]] bool NoneMatchHits(std::string_view header, std::string_view etag);

}  // namespace reprise::http
