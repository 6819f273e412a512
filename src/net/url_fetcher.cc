#include "net/url_fetcher.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "net/address_policy.h"
#include "net/connect_guard.h"
#include "net/curl_handles.h"

namespace reprise::net {

void CurlGlobal() {
  static const bool initialised = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)initialised;
}

namespace {

// Letters, digits, '-' (not at either end of a label), '_' and '.', labels of 1..63 and
// 253 in all; bytes above 0x7f are left to curl's IDN conversion.
bool ValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.back() == '.') host.remove_suffix(1);  // the root: "example.com."
  size_t start = 0;
  while (start <= host.size()) {
    size_t end = std::min(host.find('.', start), host.size());
    std::string_view label = host.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      auto u = static_cast<unsigned char>(c);
      if (!(std::isalnum(u) || c == '-' || c == '_' || u >= 0x80)) return false;
    }
    start = end + 1;
  }
  return true;
}

Result<std::string> UrlPart(CURLU* url, CURLUPart part, std::string_view what,
                            std::string_view text) {
  char* value = nullptr;
  CURLUcode rc = curl_url_get(url, part, &value, 0);
  CurlStringPtr owned(value);
  if (rc != CURLUE_OK || value == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("URL '{}' has no {} ({})", text, what, curl_url_strerror(rc)));
  }
  return std::string(value);
}

struct Transfer {
  Transfer(const FetchOptions& o, const FetchSink& s,
           const std::function<void(const FetchResult&)>& r, std::string h)
      : options(o), sink(s), on_response(r), host(std::move(h)), guard(o.addresses, host) {}

  const FetchOptions& options;
  const FetchSink& sink;
  const std::function<void(const FetchResult&)>& on_response;
  CURL* easy = nullptr;
  std::string url;
  std::string host;
  ConnectGuard guard;
  bool passing = false;
  bool discarded = false;
  bool too_large = false;
  bool sink_stopped = false;
  std::string redirect_url;  // a 3xx answer's Location, made absolute
  FetchResult result;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  std::string_view line(data, length);
  if (line != "\r\n" && line != "\n") return length;
  long status = 0;  // NOLINT(google-runtime-int): curl's type
  curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200) return length;  // an interim answer (100 Continue); the real one follows
  transfer->result.status = static_cast<int>(status);
  transfer->passing = status < 300;
  if (!transfer->passing) return length;
  curl_off_t content_length = -1;
  curl_easy_getinfo(transfer->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length);
  transfer->result.content_length = content_length;
  const char* content_type = nullptr;
  curl_easy_getinfo(transfer->easy, CURLINFO_CONTENT_TYPE, &content_type);
  if (content_type != nullptr) transfer->result.content_type = content_type;
  if (transfer->options.max_bytes > 0 && content_length > transfer->options.max_bytes) {
    transfer->too_large = true;
    return 0;  // aborts before any body byte is read
  }
  if (transfer->on_response) transfer->on_response(transfer->result);
  return length;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  if (!transfer->passing) {
    transfer->discarded = true;  // a redirect's or an error's body: not wanted
    return 0;
  }
  const int64_t max = transfer->options.max_bytes;
  if (max > 0 && transfer->result.bytes + static_cast<int64_t>(length) > max) {
    transfer->too_large = true;
    return 0;
  }
  if (!transfer->sink(
          std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), length))) {
    transfer->sink_stopped = true;
    return 0;
  }
  transfer->result.bytes += static_cast<int64_t>(length);
  return length;
}

Error HttpError(int status, const std::string& url) {
  std::string message = fmt::format("http {} from {}", status, url);
  std::string origin = "http:" + std::to_string(status);
  if (status == 404 || status == 410) return Error{ErrorCode::kNotFound, message, origin};
  if (status == 429 || status >= 500) return Error{ErrorCode::kUnavailable, message, origin};
  return Error{ErrorCode::kInvalidArgument, message, origin};
}

// One request without following redirects: the transfer's result, or its error.
Result<void> PerformHop(Transfer& transfer, std::chrono::milliseconds remaining) {
  CurlEasyPtr easy(curl_easy_init());
  if (!easy) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
  transfer.easy = easy.get();
  std::array<char, CURL_ERROR_SIZE> message{};
  const FetchOptions& options = transfer.options;
  CURL* h = easy.get();
  curl_easy_setopt(h, CURLOPT_URL, transfer.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");  // never a proxy from http_proxy & co.
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, message.data());
  curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(1, remaining.count())));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options.low_speed_bytes));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.low_speed_seconds.count()));
  transfer.guard.Install(h);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);

  CURLcode rc = curl_easy_perform(h);
  std::string detail = message[0] != '\0' ? message.data() : curl_easy_strerror(rc);
  std::string origin = "curl:" + std::to_string(static_cast<int>(rc));
  if (!transfer.guard.refused().empty() && rc != CURLE_OK && !transfer.passing) {
    return Fail(ErrorCode::kInvalidArgument,
                transfer.guard.refused() + " in " + transfer.url + options.addresses.Hint());
  }
  if (transfer.too_large) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is larger than the limit of {} bytes",
                                                         transfer.url, options.max_bytes));
  }
  if (transfer.sink_stopped) {
    return Fail(ErrorCode::kCancelled, "download of " + transfer.url + " stopped by its reader");
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("timed out fetching {} after {} bytes: {}", transfer.url,
                            transfer.result.bytes, detail),
                origin);
  }
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && transfer.discarded)) {
    return Fail(ErrorCode::kUnavailable, "cannot fetch " + transfer.url + ": " + detail, origin);
  }
  char* location = nullptr;
  curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location);
  if (location != nullptr) transfer.redirect_url = location;
  transfer.easy = nullptr;
  return {};
}

}  // namespace

Result<std::string> CheckFetchUrl(std::string_view url, const FetchOptions& options) {
  CurlGlobal();
  CurlUrlPtr parsed(curl_url());
  if (!parsed) return Fail(ErrorCode::kInternal, "curl_url failed");
  std::string text(url);
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "the URL is empty");
  if (CURLUcode rc = curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' is not a valid URL: {}", text, curl_url_strerror(rc)));
  }
  auto scheme = UrlPart(parsed.get(), CURLUPART_SCHEME, "scheme", text);
  if (!scheme) return Fail(scheme.error());
  if (*scheme != "http" && *scheme != "https") {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("URL '{}' has scheme '{}': only http and https are fetched", text, *scheme));
  }
  auto host = UrlPart(parsed.get(), CURLUPART_HOST, "host", text);
  if (!host) return Fail(host.error());
  if (ClassifyAddressText(*host)) {
    REPRISE_TRY(CheckHostAddress(*host, text, options.addresses));
  } else if (host->front() == '[' || !ValidHostName(*host)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("URL '{}' has an invalid host '{}'", text, *host));
  }
  return UrlPart(parsed.get(), CURLUPART_URL, "form curl accepts", text);
}

Result<FetchResult> UrlFetcher::Fetch(
    std::string_view url, const FetchSink& sink,
    const std::function<void(const FetchResult&)>& on_response) const {
  const auto deadline = std::chrono::steady_clock::now() + options_.total_timeout;
  auto current = CheckFetchUrl(url, options_);
  if (!current) return Fail(current.error());
  for (int redirects = 0;; ++redirects) {
    std::string host;
    CurlUrlPtr parsed(curl_url());
    if (parsed && curl_url_set(parsed.get(), CURLUPART_URL, current->c_str(), 0) == CURLUE_OK) {
      if (auto part = UrlPart(parsed.get(), CURLUPART_HOST, "host", *current)) host = *part;
    }
    Transfer transfer{options_, sink, on_response, std::move(host)};
    transfer.url = *current;
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("timed out fetching {} after {} redirect(s)", *current, redirects),
                  "curl:28");
    }
    REPRISE_TRY(PerformHop(transfer, remaining));
    const int status = transfer.result.status;
    if (status >= 200 && status < 300) {
      transfer.result.final_url = *current;
      transfer.result.redirects = redirects;
      return transfer.result;
    }
    if (status < 300 || status >= 400 || status == 304) return Fail(HttpError(status, *current));
    if (transfer.redirect_url.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("http {} from {} without a Location to follow", status, *current),
                  "http:" + std::to_string(status));
    }
    if (redirects + 1 > options_.max_redirects) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("more than {} redirects fetching {} (the last to {})",
                              options_.max_redirects, url, transfer.redirect_url));
    }
    auto next = CheckFetchUrl(transfer.redirect_url, options_);
    if (!next) {
      return Fail(next.error().Wrap(fmt::format("redirect from {}", *current)));
    }
    current = std::move(next);
  }
}

}  // namespace reprise::net
