#include "app/backend_registry.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace reprise::app {
namespace {

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

// The length of the scheme `url` starts with (before its ':'), 0 when there is none.
size_t SchemeLength(const std::string& url) {
  if (url.empty() || std::isalpha(static_cast<unsigned char>(url[0])) == 0) return 0;
  size_t i = 1;
  while (i < url.size() && IsSchemeChar(url[i])) ++i;
  return i < url.size() && url[i] == ':' ? i : 0;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

template <class Map>
std::vector<std::string> Keys(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) keys.push_back(key);
  return keys;
}

std::string Listed(const std::vector<std::string>& schemes) {
  std::string text;
  for (const auto& scheme : schemes) text += (text.empty() ? "" : ", ") + scheme + ":";
  return text.empty() ? "none" : text;
}

// The opener of `target.scheme` in `openers`, or kInvalidArgument naming the known ones.
template <class Map>
Result<typename Map::mapped_type> Find(const Map& openers, const BackendTarget& target,
                                       const std::string& plain_scheme, const char* what) {
  auto it = openers.find(target.scheme);
  if (it != openers.end()) return it->second;
  std::string message = std::string("unknown ") + what + " scheme '" + target.scheme + "' in '" +
                        target.url + "' (known: " + Listed(Keys(openers));
  if (!plain_scheme.empty()) message += "; a plain path is taken as " + plain_scheme + ":";
  return Fail(ErrorCode::kInvalidArgument, message + ")");
}

}  // namespace

void BackendRegistry::AddCatalog(const std::string& scheme, CatalogOpener open) {
  catalogs_[Lower(scheme)] = std::move(open);
}

void BackendRegistry::AddBlobStore(const std::string& scheme, BlobStoreOpener open) {
  blob_stores_[Lower(scheme)] = std::move(open);
}

void BackendRegistry::SetPlainPathSchemes(const std::string& catalog_scheme,
                                          const std::string& blob_scheme) {
  plain_catalog_scheme_ = Lower(catalog_scheme);
  plain_blob_scheme_ = Lower(blob_scheme);
}

Result<BackendTarget> BackendRegistry::ParseTarget(const std::string& url,
                                                   const std::string& plain_scheme,
                                                   const char* what) {
  if (url.empty()) return Fail(ErrorCode::kInvalidArgument, std::string(what) + " URL is empty");
  BackendTarget target;
  target.url = url;
  if (size_t length = SchemeLength(url); length > 0) {
    target.scheme = Lower(url.substr(0, length));
    target.location = url.substr(length + 1);
    return target;
  }
  if (plain_scheme.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string(what) + " URL '" + url + "' has no scheme (e.g. sqlite:PATH)");
  }
  target.scheme = plain_scheme;
  target.location = url;
  return target;
}

Result<std::unique_ptr<catalog::Catalog>> BackendRegistry::OpenCatalog(
    const std::string& url, const Clock& clock, bool create, const std::string& origin) const {
  auto target = ParseTarget(url, plain_catalog_scheme_, "catalog");
  if (!target) return Fail(std::move(target.error()));
  target->create = create;
  target->origin = origin;
  auto open = Find(catalogs_, *target, plain_catalog_scheme_, "catalog");
  if (!open) return Fail(std::move(open.error()));
  return (*open)(*target, clock);
}

Result<std::unique_ptr<blob::BlobStore>> BackendRegistry::OpenBlobStore(
    const std::string& url, bool create, const std::string& origin,
    const BlobConfig& settings) const {
  auto target = ParseTarget(url, plain_blob_scheme_, "blob store");
  if (!target) return Fail(std::move(target.error()));
  target->create = create;
  target->origin = origin;
  target->blob = settings;
  auto open = Find(blob_stores_, *target, plain_blob_scheme_, "blob store");
  if (!open) return Fail(std::move(open.error()));
  return (*open)(*target);
}

std::vector<std::string> BackendRegistry::CatalogSchemes() const { return Keys(catalogs_); }

std::vector<std::string> BackendRegistry::BlobStoreSchemes() const { return Keys(blob_stores_); }

}  // namespace reprise::app
