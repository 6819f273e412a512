// UrlFetcher: downloads one http(s) URL on behalf of a client, safely (a URL import).
//
// - Schemes: http and https only, on the first URL and on every redirect target.
// - Redirects are followed by hand, at most `max_redirects` (5), each target checked
//   again like the first URL (scheme, host syntax, addresses); one more is an error.
// - Addresses: the address actually connected to is checked after DNS resolution, in
//   curl's open-socket callback (net/connect_guard.h), so neither a name resolving to a private
//   address nor a DNS rebinding between two lookups gets through; an IP literal in the URL is
//   refused before any lookup. Loopback, private, link-local (cloud metadata), CGNAT, unspecified,
//   multicast, broadcast and reserved addresses (net/address_policy.h) are refused unless
//   `addresses` allows them. A refused connection sends no byte.
// - Limits: a connect timeout, a total timeout over all hops, and a low-speed cut-off
//   (less than `low_speed_bytes` per second for `low_speed_seconds`). At most
//   `max_bytes` of body: a Content-Length above it is refused before the body, and a
//   body without one is cut off as soon as it passes the limit.
// - No proxy is taken from the environment (http_proxy and friends are ignored), no
//   compressed transfer is asked for (the limit counts bytes as stored), no cookies.
// - The body of a 2xx answer is handed to the sink chunk by chunk as it arrives (memory
//   is one curl buffer); other answers' bodies are never passed on.
//
// Errors, each naming the URL:
//   kInvalidArgument   not http(s), bad host, a refused address ("refused to connect to
//                      127.0.0.1 (loopback) ..."), too many redirects, a body over the
//                      limit ("larger than the limit of N bytes"), an HTTP 4xx other
//                      than 404/410 ("http 403 from URL", origin "http:403")
//   kNotFound          HTTP 404 or 410 ("http 404 from URL")
//   kUnavailable       HTTP 5xx and 429, timeouts, DNS and connection failures (origin
//                      "curl:N" with curl's code)
//   kCancelled         the sink returned false
// Thread-safety: a UrlFetcher is immutable; Fetch may run on many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "net/connect_guard.h"

namespace reprise::net {

struct FetchOptions {
  int64_t max_bytes = 0;  // 0: no limit
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{600'000};
  int64_t low_speed_bytes = 1;                 // per second, below which...
  std::chrono::seconds low_speed_seconds{30};  // ...for this long the transfer is cut off
  int max_redirects = 5;
  // Which addresses may be connected to (net/connect_guard.h); tests list their one
  // loopback server in addresses.allowed_addresses.
  AddressRules addresses{false, {}, "[import] allow_private_addresses"};
  std::string user_agent = "reprise-import/1";
};

struct FetchResult {
  int status = 0;
  std::string final_url;     // after redirects
  std::string content_type;  // as the server said, may be empty
  int64_t content_length = -1;
  int64_t bytes = 0;  // body bytes handed to the sink
  int redirects = 0;
};

// Receives the body as it arrives; returns false to stop (the fetch ends kCancelled).
using FetchSink = std::function<bool(std::span<const std::byte>)>;

// A URL as the fetcher will use it: kInvalidArgument unless the scheme is http or https
// and the host is a syntactically valid name or IP literal; an IP literal of a refused
// class is kInvalidArgument too (see the top of this file). Returns the normalised URL.
[[nodiscard]] Result<std::string> CheckFetchUrl(std::string_view url, const FetchOptions& options);

class UrlFetcher final {
 public:
  explicit UrlFetcher(FetchOptions options) : options_(std::move(options)) {}

  // Fetches `url` into `sink` (see the top of this file). `on_response`, when set, is
  // called once with the final 2xx response's status and headers before the first byte
  // reaches the sink.
  [[nodiscard]] Result<FetchResult> Fetch(
      std::string_view url, const FetchSink& sink,
      const std::function<void(const FetchResult&)>& on_response = nullptr) const;

  const FetchOptions& options() const { return options_; }

 private:
  FetchOptions options_;
};

}  // namespace reprise::net
