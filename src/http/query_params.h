// Reading query strings strictly, as json_body.h reads bodies: a parameter the route does
// not know is refused by name (a typo such as `?lmit=5` is a 400, not a silently full
// listing), a repeated one too, and typed getters name the parameter whose value is wrong.
//
// Services name their filters the way the command line spells them ("--status: unknown
// asset status 'x'"); QueryError() rewrites such an error to the query parameter's name
// ("query parameter 'status': ..."), so an API client is told what it sent. Pure
// functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "http/router.h"

namespace reprise::http {

class QueryParams {
 public:
  // kInvalidArgument naming the first unknown or repeated parameter.
  [[nodiscard]] static Result<QueryParams> Of(const RouteRequest& request,
                                              const std::vector<std::string>& known);

  // The value, nullopt when absent.
  [[nodiscard]] std::optional<std::string> String(std::string_view name) const;
  // A decimal integer in [min, max]; kInvalidArgument naming the parameter otherwise.
  [[nodiscard]] Result<std::optional<int64_t>> Int(std::string_view name, int64_t min,
                                                   int64_t max) const;
  // A finite decimal number; kInvalidArgument naming the parameter otherwise.
  [[nodiscard]] Result<std::optional<double>> Number(std::string_view name) const;

 private:
  explicit QueryParams(const RouteRequest& request) : request_(&request) {}
  const RouteRequest* request_;
};

// A path segment holding a job or backfill id: a positive decimal, else kInvalidArgument
// naming it (`what`).
[[nodiscard]] Result<int64_t> PathId(const std::string& text, std::string_view what);

// "--created-after: ..." -> "query parameter 'created_after': ..."; other errors as they
// are.
[[nodiscard]] Error QueryError(Error error);

// A handler that answers 200 with the document `answer` returns, or its error. With
// `known`, the query parameters are checked first (QueryParams::Of).
using JsonAnswer = std::function<Result<nlohmann::json>(RouteRequest&, const QueryParams&)>;
[[nodiscard]] Handler JsonHandler(std::vector<std::string> known, JsonAnswer answer);

}  // namespace reprise::http
