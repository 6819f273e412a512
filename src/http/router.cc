#include "http/router.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/crypto.h"
#include "core/json_text.h"
#include "http/error_response.h"

namespace reprise::http {
namespace {

bool UsableRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string NewRequestId() {
  static constexpr char kHex[] = "0123456789abcdef";
  auto bytes = RandomBytes(12);
  if (!bytes) return "unidentified";
  std::string id;
  for (unsigned char b : *bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

void SendUnauthenticated(httplib::Response& response, const std::string& message) {
  response.set_header("WWW-Authenticate", "Bearer");
  SendJson(response, 401,
           {{"error",
             {{"code", "unauthenticated"},
              {"message", message},
              {"details", nlohmann::json::object()}}}});
}

// RFC 6750 section 2.1: "Bearer" (any case), one space, a token without whitespace.
bool BearerToken(std::string_view header, std::string_view& token) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return false;
  }
  token = header.substr(kScheme.size());
  return token.find_first_of(" \t") == std::string_view::npos;
}

bool TakesBody(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

}  // namespace

const std::string& RouteRequest::Param(std::string_view name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

std::optional<std::string> RouteRequest::Query(std::string_view name) const {
  std::string key(name);
  if (!raw.has_param(key.c_str())) return std::nullopt;
  return raw.get_param_value(key.c_str());
}

std::optional<std::string> RouteRequest::Header(std::string_view name) const {
  std::string key(name);
  if (!raw.has_header(key.c_str())) return std::nullopt;
  return raw.get_header_value(key.c_str());
}

void SendJson(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(JsonText(body), "application/json");
}

void SendError(httplib::Response& response, const Error& error, nlohmann::json details) {
  int status = HttpStatus(error.code);
  if (status == 503) response.set_header("Retry-After", "1");
  SendJson(response, status, ErrorBody(error, std::move(details)));
}

Router::Router(Options options, Logger log) : options_(std::move(options)), log_(std::move(log)) {}

Router::Route Router::Compile(std::string method, std::string pattern, Access access) const {
  Route route;
  std::string regex = "^";
  for (size_t i = 0; i < pattern.size();) {
    if (pattern[i] == '{') {
      auto close = pattern.find('}', i);
      route.names.push_back(pattern.substr(i + 1, close - i - 1));
      // A segment, or for a trailing {name...} the rest of the path (blob keys).
      if (route.names.back().ends_with("...")) {
        route.names.back().resize(route.names.back().size() - 3);
        regex += "(.+)";
      } else {
        regex += "([^/]+)";
      }
      i = close + 1;
      continue;
    }
    char c = pattern[i++];
    if (std::string_view(".+*?^$()[]|\\").find(c) != std::string_view::npos) regex += '\\';
    regex += c;
  }
  regex += "$";
  route.regex = std::regex(regex);
  route.info = RouteInfo{std::move(method), std::move(pattern), access};
  return route;
}

void Router::Add(std::string method, std::string pattern, Handler handler, Access access) {
  auto route = Compile(std::move(method), std::move(pattern), access);
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

void Router::AddStream(std::string method, std::string pattern, StreamHandler handler,
                       Access access) {
  auto route = Compile(std::move(method), std::move(pattern), access);
  route.stream = std::move(handler);
  routes_.push_back(std::move(route));
}

std::vector<RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  for (const auto& route : routes_) out.push_back(route.info);
  return out;
}

void Router::Serve(const Route& route, const httplib::Request& request, httplib::Response& response,
                   const httplib::ContentReader* reader) const {
  auto started = std::chrono::steady_clock::now();
  RouteRequest call{request, services::Caller{}, {}, {}, {}};
  auto given_id = request.get_header_value("X-Request-Id");
  call.request_id = UsableRequestId(given_id) ? given_id : NewRequestId();
  response.set_header("X-Request-Id", call.request_id);

  auto finish = [&] {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log_->info("{} {} {} {:.1f}ms id={} caller={}", request.method, request.path, response.status,
               seconds * 1000, call.request_id,
               call.caller.admin ? "admin:" + call.caller.token_name : call.caller.owner);
    if (observer_) observer_(route.info, response.status, seconds);
  };

  std::smatch match;
  std::regex_match(request.path, match, route.regex);
  for (size_t i = 0; i < route.names.size() && i + 1 < match.size(); ++i) {
    call.params[route.names[i]] = match[i + 1].str();  // httplib decoded the path
  }

  if (route.info.access != Access::kPublic) {
    if (!options_.authenticate) {
      call.caller = services::Caller::Admin("no-auth");
    } else {
      std::string_view token;
      const bool has_header = request.has_header("Authorization");
      const auto& header = request.get_header_value("Authorization");
      if (has_header && !BearerToken(header, token)) {
        SendUnauthenticated(response, "malformed Authorization header: expected 'Bearer <token>'");
        return finish();
      }
      auto caller = options_.authenticate(token);
      if (!caller) {
        if (caller.error().code == ErrorCode::kUnavailable) {
          SendError(response, caller.error());
        } else {
          SendUnauthenticated(response, has_header
                                            ? "the bearer token is unknown or revoked"
                                            : "this route needs 'Authorization: Bearer <token>'");
        }
        return finish();
      }
      call.caller = std::move(*caller);
    }
    if (route.info.access == Access::kAdmin && !call.caller.admin) {
      SendError(response,
                Error{ErrorCode::kPermissionDenied,
                      route.info.method + " " + route.info.pattern + " needs an admin token", ""});
      return finish();
    }
  }

  if (TakesBody(request.method) && request.has_header("Content-Length") && !route.stream) {
    auto length = request.get_header_value<uint64_t>("Content-Length");
    if (length > static_cast<uint64_t>(options_.max_body_bytes)) {
      SendJson(response, 413,
               {{"error",
                 {{"code", "payload_too_large"},
                  {"message", "the request body has " + std::to_string(length) +
                                  " bytes; this route takes at most " +
                                  std::to_string(options_.max_body_bytes)},
                  {"details", {{"limit", options_.max_body_bytes}}}}}});
      response.set_header("Connection", "close");
      return finish();
    }
  }

  Result<void> result;
  if (route.stream) {
    result = route.stream(call, response, *reader);
  } else {
    if (reader) {
      // Past the limit the rest is read and dropped (up to kDrainBytes), so a client
      // still sending can read the 413 instead of a reset connection.
      constexpr size_t kDrainBytes = 16 << 20;
      bool too_big = false;
      size_t dropped = 0;
      (*reader)([&](const char* data, size_t size) {
        if (too_big || call.body.size() + size > static_cast<size_t>(options_.max_body_bytes)) {
          too_big = true;
          dropped += size;
          return dropped <= kDrainBytes;
        }
        call.body.append(data, size);
        return true;
      });
      if (too_big) {
        SendJson(response, 413,
                 {{"error",
                   {{"code", "payload_too_large"},
                    {"message", "the request body is over this route's limit of " +
                                    std::to_string(options_.max_body_bytes) + " bytes"},
                    {"details", {{"limit", options_.max_body_bytes}}}}}});
        response.set_header("Connection", "close");
        return finish();
      }
    }
    result = route.handler(call, response);
  }
  if (!result) SendError(response, result.error());
  finish();
}

void Router::Unmatched(const httplib::Request& request, httplib::Response& response) const {
  // Reported to the observer too, under no pattern: a scan of unknown paths shows in the
  // metrics without a series per path.
  auto started = std::chrono::steady_clock::now();
  struct Report {
    const Router& router;
    const httplib::Request& request;
    httplib::Response& response;
    std::chrono::steady_clock::time_point started;
    ~Report() {
      if (!router.observer_) return;
      router.observer_(
          RouteInfo{request.method, "", Access::kPublic}, response.status,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
  } report{*this, request, response, started};
  std::string allowed;
  for (const auto& route : routes_) {
    if (std::regex_match(request.path, route.regex)) {
      allowed += (allowed.empty() ? "" : ", ") + route.info.method;
    }
  }
  if (!allowed.empty()) {
    response.set_header("Allow", allowed);
    SendJson(response, 405,
             {{"error",
               {{"code", "method_not_allowed"},
                {"message",
                 request.method + " is not allowed on " + request.path + "; allowed: " + allowed},
                {"details", {{"allowed", allowed}}}}}});
    return;
  }
  SendError(response,
            Error{ErrorCode::kNotFound, "no route for " + request.method + " " + request.path, ""});
}

void Router::Mount(httplib::Server& server) {
  // A path that several patterns match goes to the most specific: fewest {parameters},
  // a trailing {rest...} last, then the order added. So POST /api/v1/webhooks/subscriptions
  // is never taken for the incoming-webhook route /api/v1/webhooks/{source}.
  by_specificity_.clear();
  for (const auto& route : routes_) by_specificity_.push_back(&route);
  auto weight = [](const Route* route) {
    size_t rank = route->names.size();
    if (route->info.pattern.find("...}") != std::string::npos) rank += 1000;
    return rank;
  };
  std::stable_sort(by_specificity_.begin(), by_specificity_.end(),
                   [&weight](const Route* a, const Route* b) { return weight(a) < weight(b); });
  // Routes are matched here, most specific first, rather than by httplib's per-method
  // tables, so that one place decides 404 versus 405 and every route shares Serve().
  auto dispatch = [this](const httplib::Request& request, httplib::Response& response,
                         const httplib::ContentReader* reader) {
    for (const Route* route : by_specificity_) {
      if (route->info.method != request.method) continue;
      if (!std::regex_match(request.path, route->regex)) continue;
      Serve(*route, request, response, reader);
      return;
    }
    Unmatched(request, response);
  };
  auto plain = [dispatch](const httplib::Request& request, httplib::Response& response) {
    dispatch(request, response, nullptr);
  };
  auto with_body = [dispatch](const httplib::Request& request, httplib::Response& response,
                              const httplib::ContentReader& reader) {
    dispatch(request, response, &reader);
  };
  server.Get(".*", plain);
  server.Options(".*", plain);
  server.Post(".*", with_body);
  server.Put(".*", with_body);
  server.Patch(".*", with_body);
  server.Delete(".*", with_body);

  server.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (!response.body.empty()) return;
    if (response.status == 404) {
      SendError(response, Error{ErrorCode::kNotFound,
                                "no route for " + request.method + " " + request.path, ""});
    } else if (response.status == 413) {
      SendJson(response, 413,
               {{"error",
                 {{"code", "payload_too_large"},
                  {"message", "the request is too large"},
                  {"details", nlohmann::json::object()}}}});
    } else if (response.status == 400 || response.status == 414 || response.status == 431) {
      SendJson(response, response.status,
               {{"error",
                 {{"code", "invalid_argument"},
                  {"message", "malformed request (line, headers or URI too long)"},
                  {"details", nlohmann::json::object()}}}});
    }
  });
  server.set_exception_handler(
      [this](const httplib::Request& request, httplib::Response& response, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        log_->error("{} {} threw: {}", request.method, request.path, what);
        SendError(response, Error{ErrorCode::kInternal, "internal error", ""});
      });
}

}  // namespace reprise::http
