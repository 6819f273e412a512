// The backend pairs the API suite runs against (tests/support/api_server.h): suites whose
// behaviour depends on the catalog or the blob store are parameterised over ApiBackends(),
// "sqlite_fs" (SQLite + directory under the data directory, the defaults) and "postgres_s3"
// (a fresh PostgreSQL database and a fresh S3 bucket per test; names ending in
// /postgres_s3 get both CTest fixtures, tests/CMakeLists.txt).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/blob_backends.h"
#include "tests/support/catalog_backends.h"

namespace reprise::testing {

// Where an ApiServer keeps its catalog and blobs; a null maker: the default under the data
// directory (SQLite, directory).
struct ApiBackend {
  std::string name;  // test-name suffix
  std::function<std::unique_ptr<catalog::CatalogTestEnv>()> catalog;
  std::function<std::unique_ptr<blob::BlobStoreHarness>()> blobs;
};

// "sqlite_fs" (the defaults) and "postgres_s3".
std::vector<ApiBackend> ApiBackends();

inline void PrintTo(const ApiBackend& backend, std::ostream* out) { *out << backend.name; }
inline std::string ApiBackendName(const ::testing::TestParamInfo<ApiBackend>& info) {
  return info.param.name;
}

}  // namespace reprise::testing
