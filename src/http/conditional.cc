#include "http/conditional.h"

namespace reprise::http {

bool NoneMatchHits(std::string_view header, std::string_view etag) {
  std::string_view opaque = etag;
  size_t at = 0;
  while (at < header.size()) {
    size_t comma = header.find(',', at);
    std::string_view item =
        header.substr(at, comma == std::string_view::npos ? header.npos : comma - at);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == opaque) return true;
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  return false;
}

}  // namespace reprise::http
