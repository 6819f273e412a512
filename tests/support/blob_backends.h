// The blob store backends the parameterised suites run against, listed in one place:
// BlobStoreBackends() returns the directory store ("fs") and S3 ("s3": a bucket of its own
// per test on the radosgw of the `s3` CTest fixture, tests/support/backends/s3_test_env.h;
// test names ending in "/s3" get that fixture).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "blob/blob_store.h"
#include "core/config.h"

namespace reprise::blob {

// One fresh, empty store, and whatever it needs kept alive (a temporary directory, a
// bucket prefix), removed when the harness is destroyed.
class BlobStoreHarness {
 public:
  virtual ~BlobStoreHarness() = default;
  virtual BlobStore& store() = 0;
  // What `reprise` takes to reach this store ([blob] url): "fs:/tmp/x/blobs".
  [[nodiscard]] virtual std::string Url() const = 0;
  // The rest of [blob] it needs (S3: the credentials).
  [[nodiscard]] virtual BlobConfig Settings() const { return {}; }
};

struct BlobStoreBackend {
  std::string name;  // test-name suffix: "fs", "s3"
  // nullptr when the store could not be opened (the suite fails the test, naming it).
  std::function<std::unique_ptr<BlobStoreHarness>()> make;
};

std::vector<BlobStoreBackend> BlobStoreBackends();

inline void PrintTo(const BlobStoreBackend& backend, std::ostream* out) { *out << backend.name; }

inline std::string BlobStoreBackendName(const ::testing::TestParamInfo<BlobStoreBackend>& info) {
  return info.param.name;
}

}  // namespace reprise::blob
