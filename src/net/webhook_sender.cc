#include "net/webhook_sender.h"

#include <curl/curl.h>

#include <memory>

namespace reprise::net {
namespace {

// Local to this file until the net area has one curl handle wrapper for every user.
struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

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
  CurlPtr curl(curl_easy_init());
  if (!curl) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
  curl_slist* raw = curl_slist_append(nullptr, "Content-Type: application/json");
  SlistPtr list(raw);
  for (const auto& [name, value] : headers) {
    std::string line = name + ": " + value;
    raw = curl_slist_append(list.get(), line.c_str());
    if (raw == nullptr) return Fail(ErrorCode::kInternal, "curl_slist_append failed");
  }
  CURL* handle = curl.get();
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
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
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(handle);
  if (rc != CURLE_OK) {
    std::string reason = error[0] != '\0' ? error : curl_easy_strerror(rc);
    ErrorCode code = rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL
                         ? ErrorCode::kInvalidArgument
                         : ErrorCode::kUnavailable;
    return Fail(code, "POST " + url + ": " + reason);
  }
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  return static_cast<int>(status);
}

}  // namespace reprise::net
