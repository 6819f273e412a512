#include "app/backends/builtin_backends.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "blob/fs/fs_blob_store.h"
#include "blob/s3/s3_blob_store.h"
#include "catalog/postgres/pg_catalog.h"
#include "catalog/sqlite/sqlite_catalog.h"

namespace reprise::app {
namespace {

// What a read-only command says when there is nothing where it looked.
Error Missing(const std::string& what, const BackendTarget& target) {
  return Error{ErrorCode::kNotFound,
               "no " + what + " at " + target.location + " (set by " + target.origin +
                   "); commands that only read never create one: check the path, or run "
                   "`reprise ingest` to start a library there",
               ""};
}

Result<std::unique_ptr<catalog::Catalog>> OpenSqlite(const BackendTarget& target,
                                                     const Clock& clock) {
  if (target.create) {
    std::error_code ec;
    auto parent = std::filesystem::path(target.location).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  auto opened = catalog::SqliteCatalog::Open(target.location, clock, target.create);
  if (!opened && !target.create && opened.error().code == ErrorCode::kNotFound) {
    return Fail(Missing("catalog", target));
  }
  return opened;
}

Result<std::unique_ptr<blob::BlobStore>> OpenFs(const BackendTarget& target) {
  std::error_code ec;
  if (!target.create && !std::filesystem::is_directory(target.location, ec)) {
    return Fail(Missing("blob store", target));
  }
  return blob::FsBlobStore::Open(target.location);
}

}  // namespace

BackendRegistry BuiltinBackends() {
  BackendRegistry backends;
  backends.AddCatalog("sqlite", OpenSqlite);
  // libpq reads both spellings; the whole URL goes to it.
  for (const char* scheme : {"postgres", "postgresql"}) {
    backends.AddCatalog(scheme, [](const BackendTarget& target, const Clock& clock) {
      return catalog::PostgresCatalog::Open(target.url, clock);
    });
  }
  backends.AddBlobStore("fs", OpenFs);
  // s3://bucket/prefix?endpoint=...&region=...&path_style=true; what the URL leaves out from
  // [blob], credentials from [blob] or AWS_*.
  backends.AddBlobStore("s3", [](const BackendTarget& target) {
    const BlobConfig& blob = target.blob;
    blob::s3::S3Settings settings{blob.endpoint,
                                  blob.region,
                                  blob.path_style,
                                  {blob.access_key_id, blob.secret_access_key, blob.session_token}};
    return blob::S3BlobStore::OpenUrl(
        target.url, [](const char* name) -> const char* { return std::getenv(name); }, settings);
  });
  backends.SetPlainPathSchemes("sqlite", "fs");
  return backends;
}

}  // namespace reprise::app
