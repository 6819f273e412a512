// Blob keys arrive from requests and file names and end up as paths and object names, so
// ValidateKey is the stores' first line of defence. Every key it accepts must keep the
// promises of blob_store.h; every key it refuses must be named in a message that is safe
// to print (escaped, bounded).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "blob/keys.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckAccepted(std::string_view key) {
  Check(!key.empty() && key.size() <= 1024);
  Check(key.front() != '/');
  for (char c : key) {
    auto byte = static_cast<unsigned char>(c);
    Check(byte >= 0x20 && byte < 0x7f && c != '\\');  // no NUL, control or non-ASCII
  }
  // Segment by segment: none empty, none "." or "..", none starting with '.' (a dot
  // inside a name, "a..b", is fine).
  size_t start = 0;
  while (true) {
    size_t end = key.find('/', start);
    std::string_view segment = key.substr(start, end == key.npos ? key.npos : end - start);
    Check(!segment.empty() && segment.front() != '.');
    if (end == key.npos) break;
    start = end + 1;
  }
}

void CheckRefused(const reprise::Error& error) {
  Check(error.code == reprise::ErrorCode::kInvalidArgument);
  // The key is shown escaped and cut to 80 bytes, each at most 4 characters ("\x00").
  Check(error.message.size() < 512);
  for (char c : error.message) {
    auto byte = static_cast<unsigned char>(c);
    Check(byte >= 0x20 && byte < 0x7f);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view key(reinterpret_cast<const char*>(data), size);
  auto valid = reprise::blob::ValidateKey(key);
  if (valid) {
    CheckAccepted(key);
  } else {
    CheckRefused(valid.error());
  }
  return 0;
}
