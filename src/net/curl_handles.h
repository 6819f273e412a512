// Every libcurl handle reprise holds, behind one deleter each: nothing else calls a
// curl cleanup function. CurlGlobal() runs curl_global_init once per process (thread-safe
// since 7.84, and guarded by a function-local static for older builds).
#pragma once

#include <curl/curl.h>

#include <memory>

namespace reprise::net {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlMultiDeleter {
  void operator()(CURLM* handle) const { curl_multi_cleanup(handle); }
};
using CurlMultiPtr = std::unique_ptr<CURLM, CurlMultiDeleter>;

// A request's header list (CURLOPT_HTTPHEADER); must outlive the transfer that uses it.
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

struct CurlUrlDeleter {
  void operator()(CURLU* handle) const { curl_url_cleanup(handle); }
};
using CurlUrlPtr = std::unique_ptr<CURLU, CurlUrlDeleter>;

// A multipart/form-data body (CURLOPT_MIMEPOST); must outlive the transfer that uses it.
struct CurlMimeDeleter {
  void operator()(curl_mime* mime) const { curl_mime_free(mime); }
};
using CurlMimePtr = std::unique_ptr<curl_mime, CurlMimeDeleter>;

// Text libcurl allocated (curl_url_get).
struct CurlFreeDeleter {
  void operator()(char* text) const { curl_free(text); }
};
using CurlStringPtr = std::unique_ptr<char, CurlFreeDeleter>;

// Initialises libcurl for the process the first time it is called; later calls are free.
void CurlGlobal();

}  // namespace reprise::net
