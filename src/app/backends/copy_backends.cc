#include "app/backends/copy_backends.h"

#include <fmt/format.h>

#include "app/backend_registry.h"
#include "app/backends/builtin_backends.h"
#include "app/backends/migrations.h"

namespace reprise::app {
namespace {

// The URL `reprise migrate` reads: a plain path is a SQLite file.
Result<std::string> MigrationUrl(const std::string& url) {
  auto target = BackendRegistry::ParseTarget(url, "sqlite", "catalog");
  if (!target) return Fail(std::move(target.error()));
  return target->scheme == "sqlite" ? "sqlite:" + target->location : target->url;
}

Result<MigrationStatus> StatusOf(const std::string& url) {
  auto migration_url = MigrationUrl(url);
  if (!migration_url) return Fail(std::move(migration_url.error()));
  Config config;
  config.catalog_url = *migration_url;
  return ReadMigrationStatus(config);
}

Result<void> CheckVersions(const std::string& from_url, const std::string& to_url) {
  auto from = StatusOf(from_url);
  if (!from) return Fail(std::move(from.error()));
  if (from->current != from->latest) {
    return Fail(ErrorCode::kConflict,
                fmt::format("the source catalog {} is at schema version {} and this reprise at "
                            "{}: run `reprise migrate up` against it first",
                            from->catalog, from->current, from->latest));
  }
  auto to = StatusOf(to_url);
  if (!to && to.error().code == ErrorCode::kNotFound) return {};  // a new SQLite file
  if (!to) return Fail(std::move(to.error()));
  if (to->current != 0 && to->current != from->current) {
    return Fail(ErrorCode::kConflict,
                fmt::format("the source catalog is at schema version {} and the destination {} "
                            "at {}: run `reprise migrate up` against the destination first",
                            from->current, to->catalog, to->current));
  }
  return {};
}

}  // namespace

Result<CopyCatalogs> OpenCopyCatalogs(const std::string& from_url, const std::string& to_url,
                                      const Clock& clock) {
  auto from_target = MigrationUrl(from_url);
  if (!from_target) return Fail(std::move(from_target.error()));
  auto to_target = MigrationUrl(to_url);
  if (!to_target) return Fail(std::move(to_target.error()));
  if (*from_target == *to_target) {
    return Fail(ErrorCode::kInvalidArgument, "--from and --to name the same catalog");
  }
  REPRISE_TRY(CheckVersions(from_url, to_url));
  const BackendRegistry backends = BuiltinBackends();
  CopyCatalogs catalogs;
  auto from = backends.OpenCatalog(from_url, clock, /*create=*/false, "--from");
  if (!from) return Fail(std::move(from.error()));
  catalogs.from = std::move(*from);
  auto to = backends.OpenCatalog(to_url, clock, /*create=*/true, "--to");
  if (!to) return Fail(std::move(to.error()));
  catalogs.to = std::move(*to);
  return catalogs;
}

Result<CopyBlobStores> OpenCopyBlobStores(const std::string& from_url, const std::string& to_url) {
  if (from_url == to_url) {
    return Fail(ErrorCode::kInvalidArgument, "--from and --to name the same blob store");
  }
  const BackendRegistry backends = BuiltinBackends();
  CopyBlobStores stores;
  auto from = backends.OpenBlobStore(from_url, /*create=*/false, "--from");
  if (!from) return Fail(std::move(from.error()));
  stores.from = std::move(*from);
  auto to = backends.OpenBlobStore(to_url, /*create=*/true, "--to");
  if (!to) return Fail(std::move(to.error()));
  stores.to = std::move(*to);
  return stores;
}

}  // namespace reprise::app
