// The blob store backends the parameterised suites run against, listed in one place:
// BlobStoreBackends() returns the directory store ("fs") always, and every other backend
// this build and this machine provide (an S3 entry joins with one line in
// blob_backends.cc).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "blob/blob_store.h"

namespace reprise::blob {

// One fresh, empty store, and whatever it needs kept alive (a temporary directory, a
// bucket prefix), removed when the harness is destroyed.
class BlobStoreHarness {
 public:
  virtual ~BlobStoreHarness() = default;
  virtual BlobStore& store() = 0;
  // What `reprise` takes to reach this store ([blob] url): "fs:/tmp/x/blobs".
  [[nodiscard]] virtual std::string Url() const = 0;
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
