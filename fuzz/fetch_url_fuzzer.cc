// URLs for imports come from API clients and webhook senders. Any bytes must be either
// refused with kInvalidArgument or accepted as an http(s) URL whose host, if it is an IP
// literal, is public (the default policy refuses every other class); checking the
// accepted URL again accepts it unchanged (normalising is a fixed point). The address
// classifier must never crash on any text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/address_policy.h"
#include "net/url_fetcher.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)reprise::net::ClassifyAddressText(text);
  reprise::net::FetchOptions options;
  auto checked = reprise::net::CheckFetchUrl(text, options);
  if (!checked) {
    Check(checked.error().code == reprise::ErrorCode::kInvalidArgument ||
          checked.error().code == reprise::ErrorCode::kInternal);
    return 0;
  }
  Check(checked->rfind("http://", 0) == 0 || checked->rfind("https://", 0) == 0);
  auto again = reprise::net::CheckFetchUrl(*checked, options);
  Check(again && *again == *checked);
  return 0;
}
