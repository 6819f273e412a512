// A library for tests: a catalog and a blob store, real parts rather than fakes, fresh
// and removed when the LocalLibrary is destroyed. Tests of ingest, the queue and backfill
// run against it.
//
// Open(clock) keeps the layout of one `reprise` machine, for tests that look at files: a
// SQLite catalog file (catalog.db) and a blob directory (blobs/) in dir(). Open(clock,
// backend) takes the catalog from one of CatalogBackends() (and the blob store from
// BlobStoreBackends()), for suites parameterised by backend; dir() is then only scratch.
//
// Header-only: the binaries that use this link reprise_test_backends (and ingest, where
// they call Ingest).
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
#include "tests/support/blob_backends.h"
#include "tests/support/catalog_backends.h"
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

  // The catalog of `backend` and the blob store of `blobs`, each fresh.
  [[nodiscard]] ::testing::AssertionResult Open(
      const Clock& clock, const catalog::CatalogBackend& backend,
      const blob::BlobStoreBackend& blobs = blob::BlobStoreBackends().front()) {
    catalog_env_ = backend.make_env();
    auto catalog = catalog_env_->Connect(clock);
    if (!catalog) {
      return ::testing::AssertionFailure()
             << backend.name << " catalog: " << catalog.error().ToString();
    }
    blob_harness_ = blobs.make();
    if (!blob_harness_) return ::testing::AssertionFailure() << blobs.name << " blobs: no store";
    clock_ = &clock;
    catalog_ = std::move(*catalog);
    return ::testing::AssertionSuccess();
  }

  const TempDir& dir() const { return dir_; }
  // The database Open(clock, backend) made, for more connections to it (else nullptr).
  catalog::CatalogTestEnv* catalog_env() const { return catalog_env_.get(); }
  catalog::Catalog& catalog() const { return *catalog_; }
  blob::BlobStore& blobs() const { return blob_harness_ ? blob_harness_->store() : *blobs_; }

  // Ingests the file at `path` for `owner` as `reprise ingest` does (probed by FFmpeg,
  // stored under its hash) and returns its asset, new or already there. A file that is
  // skipped or fails to ingest fails the test and gives an empty Asset.
  catalog::Asset Ingest(const std::string& path, const std::string& owner = "o") const {
    ingest::Ingestor ingestor(*catalog_, blobs(), *clock_, MakeNullLogger());
    ingest::Options options;
    options.owner = owner;
    auto item = ingestor.IngestFile(path, options);
    EXPECT_TRUE(item.asset) << (item.error ? item.error->ToString() : item.skip_reason);
    return item.asset.value_or(catalog::Asset{});
  }

  // How many blobs are stored under `prefix`; a failed listing fails the test.
  int CountBlobs(const std::string& prefix) const {
    int count = 0;
    auto listed = blobs().List(prefix, [&](const blob::BlobInfo&) {
      ++count;
      return true;
    });
    EXPECT_TRUE(listed) << "listing " << prefix << ": " << listed.error().ToString();
    return count;
  }

 private:
  TempDir dir_;
  // Open(clock, backend): what keeps the stores alive, destroyed after them.
  std::unique_ptr<catalog::CatalogTestEnv> catalog_env_;
  std::unique_ptr<blob::BlobStoreHarness> blob_harness_;
  const Clock* clock_ = nullptr;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<blob::BlobStore> blobs_;  // Open(clock)
};

}  // namespace reprise::testing
