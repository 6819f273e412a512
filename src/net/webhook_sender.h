// WebhookSender: one HTTP POST of a webhook body to a receiver, over libcurl.
//
// Post() sends `body` as application/json with the given extra headers and returns the
// receiver's status code, whatever it is (deciding what counts as delivered is the
// caller's: 2xx). It fails only when no status came back: kInvalidArgument for a URL
// that is not http(s) or a receiver address the rules refuse ("POST URL: refused to
// connect to 169.254.169.254 (link-local address) for host ... (private addresses are
// refused; set [webhooks] allow_private_addresses = true ...)"), kUnavailable for a
// refused or reset connection, a DNS failure or a timeout (connect or total), each with
// curl's reason in the message. Redirects are not followed (a receiver that moved
// answers 3xx, which is not a delivery). The response body is read and discarded. No
// proxy is taken from the environment.
//
// Receivers are checked like URL imports (net/connect_guard.h): a subscription is made
// by an owner's token, and must not reach the server's own network (loopback, the cloud
// metadata address, private ranges) unless `addresses` allows it. The address actually
// connected to is checked, after DNS resolution, and a refused one is sent no byte.
//
// Thread-safety: Post() may be called from many threads at once (one curl handle per
// call). Constructors do no I/O.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "net/connect_guard.h"

namespace reprise::net {

struct WebhookSenderOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{10'000};  // the whole request
  std::string user_agent = "reprise-webhooks/1";
  AddressRules addresses{false, {}, "[webhooks] allow_private_addresses"};
};

class WebhookSender {
 public:
  virtual ~WebhookSender() = default;
  using Headers = std::vector<std::pair<std::string, std::string>>;
  [[nodiscard]] virtual Result<int> Post(const std::string& url, const Headers& headers,
                                         const std::string& body) = 0;
};

class CurlWebhookSender final : public WebhookSender {
 public:
  explicit CurlWebhookSender(WebhookSenderOptions options = {}) : options_(std::move(options)) {}
  [[nodiscard]] Result<int> Post(const std::string& url, const Headers& headers,
                                 const std::string& body) override;

 private:
  WebhookSenderOptions options_;
};

}  // namespace reprise::net
