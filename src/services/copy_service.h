// Copying a library between backends: the catalog (`reprise catalog copy`, over
// catalog/table_copy.h) and the blobs (`reprise blobs copy`, over blob/blob_copy.h), with
// the timings and JSON summaries the CLI prints. The catalogs and stores come opened
// (app/backends/copy_backends.h opens them by URL).
//
// A catalog copy always ends by comparing every table on both sides (counts and
// checksums); `verify_only` does only that. Errors: those of the copy engines.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "blob/blob_copy.h"
#include "catalog/table_copy.h"
#include "core/clock.h"
#include "core/error.h"

namespace reprise::services {

struct CatalogCopyRequest {
  bool verify_only = false;
  int batch_rows = 1000;
};

struct CatalogCopyResult {
  std::vector<catalog::TableCopied> copied;  // empty when verify_only
  std::vector<catalog::TableCheck> checks;
  int64_t rows_copied = 0;
  int64_t copy_micros = 0;    // the copy, without the comparison
  int64_t verify_micros = 0;  // the comparison
  [[nodiscard]] bool Verified() const;
};

[[nodiscard]] Result<CatalogCopyResult> CopyCatalog(catalog::Catalog& from, catalog::Catalog& to,
                                                    const CatalogCopyRequest& request,
                                                    const Clock& clock,
                                                    const catalog::TableCopyProgress& progress);
nlohmann::json CatalogCopyJson(const CatalogCopyResult& result);

struct BlobCopyResult {
  blob::BlobCopyReport report;
  int64_t micros = 0;
};

[[nodiscard]] Result<BlobCopyResult> CopyBlobs(blob::BlobStore& from, blob::BlobStore& to,
                                               const blob::BlobCopyOptions& options,
                                               const Clock& clock,
                                               const blob::BlobCopyProgress& progress);
nlohmann::json BlobCopyJson(const BlobCopyResult& result);

}  // namespace reprise::services
