#include "http/query_params.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace reprise::http {
namespace {

Error Invalid(std::string_view name, const std::string& why) {
  return Error{ErrorCode::kInvalidArgument, "query parameter '" + std::string(name) + "' " + why,
               ""};
}

}  // namespace

Result<QueryParams> QueryParams::Of(const RouteRequest& request,
                                    const std::vector<std::string>& known) {
  for (auto it = request.raw.params.begin(); it != request.raw.params.end();
       it = request.raw.params.upper_bound(it->first)) {
    const std::string& name = it->first;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return Fail(Invalid(name, "is not known here; known: " + (list.empty() ? "none" : list)));
    }
    if (request.raw.params.count(name) > 1) return Fail(Invalid(name, "is given more than once"));
  }
  return QueryParams(request);
}

std::optional<std::string> QueryParams::String(std::string_view name) const {
  return request_->Query(name);
}

Result<std::optional<int64_t>> QueryParams::Int(std::string_view name, int64_t min,
                                                int64_t max) const {
  auto text = String(name);
  if (!text) return std::optional<int64_t>{};
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size() || value < min ||
      value > max) {
    return Fail(Invalid(name, "must be an integer in " + std::to_string(min) + ".." +
                                  std::to_string(max) + ", not '" + *text + "'"));
  }
  return std::optional<int64_t>(value);
}

Result<std::optional<double>> QueryParams::Number(std::string_view name) const {
  auto text = String(name);
  if (!text) return std::optional<double>{};
  char* end = nullptr;
  double value = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size() || !std::isfinite(value)) {
    return Fail(Invalid(name, "must be a number, not '" + *text + "'"));
  }
  return std::optional<double>(value);
}

Result<int64_t> PathId(const std::string& text, std::string_view what) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string(what) + " must be a positive integer, not '" + text + "'");
  }
  return value;
}

Error QueryError(Error error) {
  if (error.code != ErrorCode::kInvalidArgument || error.message.rfind("--", 0) != 0) {
    return error;
  }
  auto colon = error.message.find(": ");
  if (colon == std::string::npos) return error;
  std::string name = error.message.substr(2, colon - 2);
  std::replace(name.begin(), name.end(), '-', '_');
  error.message = "query parameter '" + name + "'" + error.message.substr(colon);
  return error;
}

Handler JsonHandler(std::vector<std::string> known, JsonAnswer answer) {
  return [names = std::move(known), answer = std::move(answer)](
             RouteRequest& request, httplib::Response& response) -> Result<void> {
    auto query = QueryParams::Of(request, names);
    if (!query) return Fail(query.error());
    auto document = answer(request, *query);
    if (!document) return Fail(document.error());
    SendJson(response, 200, *document);
    return {};
  };
}

}  // namespace reprise::http
