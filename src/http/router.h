// Router: the API's route table over cpp-httplib, and everything every route shares.
//
// A route is a method, a pattern with named segments ("/api/v1/assets/{id}") and a
// handler that returns Result<void>. Before the handler runs the router has:
// - taken the request id from `X-Request-Id` (kept when it is 1..128 characters of
//   [A-Za-z0-9._:-], generated otherwise) and echoed it on the response;
// - authenticated the caller for Access::kCaller / kAdmin routes from
//   `Authorization: Bearer <token>` (scheme case-insensitive): the authenticator is asked
//   with the token, or with an empty token when the request carries none (it may answer
//   a caller even then: a server open on loopback). An error from it answers 401 with
//   `WWW-Authenticate: Bearer` and code "unauthenticated" (503 for kUnavailable); a
//   malformed Authorization header answers that 401 without asking. A non-admin on a
//   kAdmin route answers 403. With no authenticator configured every request is an admin
//   (the server refuses to listen beyond loopback that way);
// - checked `Content-Length` against the body limit (413 "payload_too_large") for routes
//   that take a body, and for Add(...) routes read the whole body into RouteRequest::body
//   (AddStream routes read it themselves as it arrives, through the ContentReader).
// A handler's error becomes the one error shape with the status HttpStatus() gives, plus
// `Retry-After` on 503. A handler that throws answers 500 and is logged. Every request
// is logged once (method, path, status, milliseconds, request id) and reported to the
// observer (metrics) with the route's pattern, never the raw path.
//
// A path several patterns match goes to the most specific one (fewest {parameters}, a
// trailing {rest...} last, then the order added). Unknown paths answer 404 and a known
// path with another method 405, both in the error shape. Thread-safe once mounted: handlers run on
// the server's worker threads.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "services/caller.h"

namespace httplib {
class Server;
struct Request;
struct Response;
class ContentReader;
}  // namespace httplib

namespace reprise::http {

enum class Access {
  kPublic,  // no token (health, signed blob URLs, signed incoming webhooks)
  kCaller,  // any valid token; the handler scopes by RouteRequest::caller
  kAdmin,   // an admin token
};

struct RouteRequest {
  const httplib::Request& raw;
  services::Caller caller;  // kPublic routes: an anonymous non-admin with no owner
  std::string request_id;
  std::map<std::string, std::string, std::less<>> params;  // the pattern's {names}
  std::string body;  // Add(...) routes with a body; empty for AddStream routes

  // A path parameter (empty when the pattern has none of that name).
  [[nodiscard]] const std::string& Param(std::string_view name) const;
  // A query parameter's value, nullopt when absent.
  [[nodiscard]] std::optional<std::string> Query(std::string_view name) const;
  // A request header's value, nullopt when absent.
  [[nodiscard]] std::optional<std::string> Header(std::string_view name) const;
};

using Handler = std::function<Result<void>(RouteRequest&, httplib::Response&)>;
using StreamHandler =
    std::function<Result<void>(RouteRequest&, httplib::Response&, const httplib::ContentReader&)>;

struct RouteInfo {
  std::string method;   // "GET"
  std::string pattern;  // "/api/v1/assets/{id}"
  Access access = Access::kCaller;
};

class Router {
 public:
  // Maps a bearer token (empty: the request has none) to its caller: kNotFound (any
  // error but kUnavailable) means 401.
  using Authenticator = std::function<Result<services::Caller>(std::string_view token)>;
  // Called once per answered request with the matched route (pattern "" when none
  // matched), the status and the seconds it took.
  using Observer = std::function<void(const RouteInfo& route, int status, double seconds)>;

  struct Options {
    Authenticator authenticate;        // empty: every request is an admin
    int64_t max_body_bytes = 1 << 20;  // Add(...) routes; AddStream routes check their own
  };

  Router(Options options, Logger log);

  void Add(std::string method, std::string pattern, Handler handler,
           Access access = Access::kCaller);
  // Routes whose body is read while it arrives (uploads); method POST or PUT.
  void AddStream(std::string method, std::string pattern, StreamHandler handler,
                 Access access = Access::kCaller);
  void SetObserver(Observer observer) { observer_ = std::move(observer); }

  // Registers every route, the 404/405 answers and the exception handler on `server`.
  void Mount(httplib::Server& server);
  // Every route, in the order added (the OpenAPI completeness test reads it).
  [[nodiscard]] std::vector<RouteInfo> routes() const;

 private:
  struct Route {
    RouteInfo info;
    std::regex regex;
    std::vector<std::string> names;
    Handler handler;
    StreamHandler stream;
  };
  Route Compile(std::string method, std::string pattern, Access access) const;
  void Serve(const Route& route, const httplib::Request& request, httplib::Response& response,
             const httplib::ContentReader* reader) const;
  void Unmatched(const httplib::Request& request, httplib::Response& response) const;

  Options options_;
  Logger log_;
  Observer observer_;
  std::vector<Route> routes_;
  std::vector<const Route*> by_specificity_;  // set by Mount()
};

// Sets status and a JSON body.
void SendJson(httplib::Response& response, int status, const nlohmann::json& body);
// The one error shape, with the status HttpStatus() gives (and Retry-After on 503).
void SendError(httplib::Response& response, const Error& error,
               nlohmann::json details = nlohmann::json::object());

}  // namespace reprise::http
