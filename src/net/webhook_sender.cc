#include "net/webhook_sender.h"

#include <array>

#include "net/curl_handles.h"

namespace reprise::net {
namespace {

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

bool IsHttpUrl(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

}  // namespace

Result<int> CurlWebhookSender::Post(const std::string& url, const Headers& headers,
                                    const std::string& body) {
  if (!IsHttpUrl(url)) {
    return Fail(ErrorCode::kInvalidArgument, "a webhook URL must be http or https: " + url);
  }
  CurlGlobal();
  CurlEasyPtr curl(curl_easy_init());
  if (!curl) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
  CurlSlistPtr list(curl_slist_append(nullptr, "Content-Type: application/json"));
  for (const auto& [name, value] : headers) {
    std::string line = name + ": " + value;
    if (curl_slist_append(list.get(), line.c_str()) == nullptr) {
      return Fail(ErrorCode::kInternal, "curl_slist_append failed");
    }
  }
  ConnectGuard guard(options_.addresses, UrlHost(url).value_or(url));
  CURL* handle = curl.get();
  std::array<char, CURL_ERROR_SIZE> error{};
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_PROXY, "");  // never a proxy from http_proxy & co.
  curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error.data());
  guard.Install(handle);
  CURLcode rc = curl_easy_perform(handle);
  if (rc != CURLE_OK) {
    if (!guard.refused().empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "POST " + url + ": " + guard.refused() + options_.addresses.Hint());
    }
    std::string reason = error[0] != '\0' ? error.data() : curl_easy_strerror(rc);
    ErrorCode code = rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL
                         ? ErrorCode::kInvalidArgument
                         : ErrorCode::kUnavailable;
    return Fail(code, "POST " + url + ": " + reason, "curl:" + std::to_string(rc));
  }
  long status = 0;  // NOLINT(google-runtime-int): curl's type
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  return static_cast<int>(status);
}

}  // namespace reprise::net
