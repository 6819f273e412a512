// The OpenAPI 3.1 document of the API (src/http/openapi.json, compiled into the binary)
// and its route: GET /api/v1/openapi.json, public, so clients and validators can read it
// without a token. tests/api checks that every route of the Router is in it and nothing
// else is; tests/interop has an independent validator judge it.
#pragma once

#include <string_view>

namespace reprise::http {

// The document's JSON text, exactly as checked in.
std::string_view OpenApiDocument();

}  // namespace reprise::http
