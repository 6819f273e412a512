#include "tests/support/blob_backends.h"

#include "blob/fs/fs_blob_store.h"
#include "tests/support/backends/s3_test_env.h"
#include "tests/support/test_support.h"

namespace reprise::blob {
namespace {

// A directory store in a temporary directory.
class FsHarness final : public BlobStoreHarness {
 public:
  FsHarness() {
    auto opened = FsBlobStore::Open(root());
    if (opened) store_ = std::move(*opened);
  }
  bool ok() const { return store_ != nullptr; }
  BlobStore& store() override { return *store_; }
  std::string Url() const override { return "fs:" + root(); }

 private:
  std::string root() const { return dir_.Join("blobs"); }

  reprise::testing::TempDir dir_;
  std::unique_ptr<BlobStore> store_;
};

std::unique_ptr<BlobStoreHarness> MakeFsHarness() {
  auto harness = std::make_unique<FsHarness>();
  if (!harness->ok()) return nullptr;
  return harness;
}

// A bucket of its own (so the longest keys the contract allows fit S3's limit), with small
// parts so multi-megabyte writes go up as multipart uploads too.
std::unique_ptr<BlobStoreHarness> MakeS3Harness() {
  auto options = FreshS3Options(Fresh::kBucket);
  if (options) options->part_size = int64_t{5} * 1024 * 1024;
  return S3TestStore::Open(std::move(options));
}

}  // namespace

std::vector<BlobStoreBackend> BlobStoreBackends() {
  std::vector<BlobStoreBackend> backends;
  backends.push_back({"fs", MakeFsHarness});
  backends.push_back({"s3", MakeS3Harness});
  return backends;
}

}  // namespace reprise::blob
