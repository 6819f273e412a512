// BackendRegistry: which catalog and blob store a URL names, chosen by its scheme from a
// map filled in one place (app/backends/builtin_backends.h), in the way DuckDB registers
// storage extensions, instead of a chain of ifs per scheme.
//
// A URL is "scheme:rest" when it starts with a scheme (a letter, then letters, digits,
// '+', '-' or '.', then ':'): "sqlite:/srv/catalog.db", "postgres://host/db",
// "fs:/srv/blobs", "s3://bucket/prefix". Schemes compare case-insensitively. A URL
// without one is a plain path, taken by the scheme SetPlainPathSchemes() names
// ("/srv/catalog.db" as sqlite, "./blobs" as fs). An unknown scheme is kInvalidArgument
// naming the URL and the schemes this build knows.
//
// Openers get the whole target and decide what it means; they do the I/O. The registry
// itself does none and holds no state but its maps. Not thread-safe to fill; once filled,
// Open* may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"

namespace reprise::app {

// What an opener is asked to open.
struct BackendTarget {
  std::string url;       // as configured: "sqlite:/srv/catalog.db", "/srv/catalog.db"
  std::string scheme;    // lower case: "sqlite" (also for a plain path taken as sqlite)
  std::string location;  // after "scheme:" ("/srv/catalog.db", "//host/db"); a plain path whole
  bool create = false;   // a missing store (and its folder) may be created
  std::string origin;    // where the URL was set, for messages ("REPRISE_CATALOG_URL")
  BlobConfig blob;       // blob stores: the [blob] settings beside the URL (credentials…)
};

using CatalogOpener = std::function<Result<std::unique_ptr<catalog::Catalog>>(
    const BackendTarget& target, const Clock& clock)>;
using BlobStoreOpener =
    std::function<Result<std::unique_ptr<blob::BlobStore>>(const BackendTarget& target)>;

class BackendRegistry final {
 public:
  // A later registration of a scheme replaces the earlier one.
  void AddCatalog(const std::string& scheme, CatalogOpener open);
  void AddBlobStore(const std::string& scheme, BlobStoreOpener open);
  // The schemes plain paths are taken as; without, a URL needs a scheme.
  void SetPlainPathSchemes(const std::string& catalog_scheme, const std::string& blob_scheme);

  [[nodiscard]] Result<std::unique_ptr<catalog::Catalog>> OpenCatalog(
      const std::string& url, const Clock& clock, bool create, const std::string& origin) const;
  [[nodiscard]] Result<std::unique_ptr<blob::BlobStore>> OpenBlobStore(
      const std::string& url, bool create, const std::string& origin,
      const BlobConfig& settings = {}) const;

  // Registered schemes, sorted.
  [[nodiscard]] std::vector<std::string> CatalogSchemes() const;
  [[nodiscard]] std::vector<std::string> BlobStoreSchemes() const;

  // The target `url` names for a registry whose plain paths go to `plain_scheme` (empty:
  // none); kInvalidArgument for an empty URL, or a plain path with no plain scheme.
  [[nodiscard]] static Result<BackendTarget> ParseTarget(const std::string& url,
                                                         const std::string& plain_scheme,
                                                         const char* what);

 private:
  std::map<std::string, CatalogOpener> catalogs_;
  std::map<std::string, BlobStoreOpener> blob_stores_;
  std::string plain_catalog_scheme_;
  std::string plain_blob_scheme_;
};

}  // namespace reprise::app
