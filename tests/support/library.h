// A library on the local backends, as one `reprise` machine keeps it: a SQLite catalog
// file (catalog.db) and a blob directory (blobs/) in a fresh temporary directory, which
// goes, with both, when the LocalLibrary is destroyed. Tests of ingest, the queue and
// backfill run against these real parts rather than fakes.
//
// Header-only: reprise_test_support links reprise_core alone, and the binaries that use
// this already link the catalog and blob libraries (and ingest, where they call Ingest).
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "blob/blob_store.h"
#include "blob/fs/fs_blob_store.h"
#include "catalog/catalog.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingest/ingest.h"
#include "tests/support/test_support.h"

namespace reprise::testing {

class LocalLibrary {
 public:
  // Opens (creating) the catalog and the blob directory; on failure says which and why.
  // Call once, from SetUp: ASSERT_TRUE(library_.Open(clock_)). `clock` must outlive
  // this object.
  [[nodiscard]] ::testing::AssertionResult Open(const Clock& clock) {
    auto catalog = catalog::SqliteCatalog::Open(dir_.Join("catalog.db"), clock);
    if (!catalog) {
      return ::testing::AssertionFailure() << "catalog: " << catalog.error().ToString();
    }
    auto blobs = blob::FsBlobStore::Open(dir_.Join("blobs"));
    if (!blobs) return ::testing::AssertionFailure() << "blobs: " << blobs.error().ToString();
    clock_ = &clock;
    catalog_ = std::move(*catalog);
    blobs_ = std::move(*blobs);
    return ::testing::AssertionSuccess();
  }

  const TempDir& dir() const { return dir_; }
  catalog::Catalog& catalog() const { return *catalog_; }
  blob::BlobStore& blobs() const { return *blobs_; }

  // Ingests the file at `path` for `owner` as `reprise ingest` does (probed by FFmpeg,
  // stored under its hash) and returns its asset, new or already there. A file that is
  // skipped or fails to ingest fails the test and gives an empty Asset.
  catalog::Asset Ingest(const std::string& path, const std::string& owner = "o") const {
    ingest::Ingestor ingestor(*catalog_, *blobs_, *clock_, MakeNullLogger());
    ingest::Options options;
    options.owner = owner;
    auto item = ingestor.IngestFile(path, options);
    EXPECT_TRUE(item.asset) << (item.error ? item.error->ToString() : item.skip_reason);
    return item.asset.value_or(catalog::Asset{});
  }

  // How many blobs are stored under `prefix`; a failed listing fails the test.
  int CountBlobs(const std::string& prefix) const {
    int count = 0;
    auto listed = blobs_->List(prefix, [&](const blob::BlobInfo&) {
      ++count;
      return true;
    });
    EXPECT_TRUE(listed) << "listing " << prefix << ": " << listed.error().ToString();
    return count;
  }

 private:
  TempDir dir_;
  const Clock* clock_ = nullptr;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<blob::BlobStore> blobs_;
};

}  // namespace reprise::testing
