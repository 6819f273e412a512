// The whole BlobStore contract (tests/blob/blob_store_contract_test.cc) against a real
// Ceph radosgw, each test in a bucket of its own (so the longest keys the contract allows
// fit S3's limit; stores under a prefix are tested in s3_blob_store_test.cc).
#include <memory>

#include <gtest/gtest.h>

#include "tests/blob/blob_store_contract.h"
#include "tests/blob/s3/radosgw/s3_test_server.h"

namespace reprise::blob {
namespace {

std::unique_ptr<BlobStoreHarness> MakeS3Harness() {
  // Small parts so the contract's multi-megabyte writes go up as multipart uploads too.
  auto options = FreshS3Options(Fresh::kBucket);
  if (options) options->part_size = int64_t{5} * 1024 * 1024;
  return S3TestStore::Open(std::move(options));
}

INSTANTIATE_TEST_SUITE_P(S3, BlobStoreContract,
                         ::testing::Values(BlobStoreBackend{"s3", MakeS3Harness}),
                         BlobStoreBackendName);

}  // namespace
}  // namespace reprise::blob
