#include <memory>
#include <vector>

#include "tests/support/api_backends.h"
#include "tests/support/backends/postgres_test_env.h"

namespace reprise::testing {

std::vector<ApiBackend> ApiBackends() {
  // The S3 entry of the blob suites: a bucket of its own on the `s3` fixture's radosgw.
  blob::BlobStoreBackend s3;
  for (auto& backend : blob::BlobStoreBackends()) {
    if (backend.name == "s3") s3 = std::move(backend);
  }
  return {
      ApiBackend{"sqlite_fs", {}, {}},
      ApiBackend{"postgres_s3", [] { return std::make_unique<catalog::PgTestEnv>(); }, s3.make},
  };
}

}  // namespace reprise::testing
