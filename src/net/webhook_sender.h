// WebhookSender: one HTTP POST of a webhook body to a receiver, over libcurl.
//
// Post() sends `body` as application/json with the given extra headers and returns the
// receiver's status code, whatever it is (deciding what counts as delivered is the
// caller's: 2xx). It fails only when no status came back: kInvalidArgument for a URL
// that is not http(s), kUnavailable for a refused or reset connection, a DNS failure or
// a timeout (connect or total), each with curl's reason in the message. Redirects are
// not followed (a receiver that moved answers 3xx, which is not a delivery). The
// response body is read and discarded.
//
// Receivers are not checked against private address ranges here: outgoing webhooks go
// where an operator or an owner's token pointed them.
//
// Thread-safety: Post() may be called from many threads at once (one curl handle per
// call). Constructors do no I/O.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace reprise::net {

struct WebhookSenderOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{10'000};  // the whole request
  std::string user_agent = "reprise-webhooks/1";
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
