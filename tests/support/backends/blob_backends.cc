#include "tests/support/blob_backends.h"

#include "blob/fs/fs_blob_store.h"
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

}  // namespace

std::vector<BlobStoreBackend> BlobStoreBackends() {
  std::vector<BlobStoreBackend> backends;
  backends.push_back({"fs", MakeFsHarness});
  return backends;
}

}  // namespace reprise::blob
