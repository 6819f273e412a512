// Opening the two ends of `reprise catalog copy` and `reprise blobs copy`, by URL through
// the built-in backends. Catalogs are checked before they are opened, because opening
// one brings its schema to the newest version: the source must already be at this
// build's newest schema version, and the destination at the same one or new (a missing
// SQLite file, a PostgreSQL database without reprise's tables), which opening creates.
// Otherwise kConflict naming both versions and `reprise migrate up`.
//
// Errors: kInvalidArgument when both URLs name the same place or a scheme is unknown;
// kNotFound for a source that does not exist; the backends' own when opening fails.
#pragma once

#include <memory>
#include <string>

#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/error.h"

namespace reprise::app {

struct CopyCatalogs {
  std::unique_ptr<catalog::Catalog> from;
  std::unique_ptr<catalog::Catalog> to;
};

struct CopyBlobStores {
  std::unique_ptr<blob::BlobStore> from;
  std::unique_ptr<blob::BlobStore> to;
};

[[nodiscard]] Result<CopyCatalogs> OpenCopyCatalogs(const std::string& from_url,
                                                    const std::string& to_url, const Clock& clock);

[[nodiscard]] Result<CopyBlobStores> OpenCopyBlobStores(const std::string& from_url,
                                                        const std::string& to_url);

}  // namespace reprise::app
