// BlobStoreWrapper forwards every call unchanged: the whole contract suite runs through a
// wrapper that overrides nothing, in front of the first backend of BlobStoreBackends().
#include "blob/blob_store_wrapper.h"

#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "tests/blob/blob_store_contract.h"

namespace reprise::blob {
namespace {

class WrappedHarness final : public BlobStoreHarness {
 public:
  explicit WrappedHarness(std::unique_ptr<BlobStoreHarness> inner)
      : inner_(std::move(inner)), wrapper_(inner_->store()) {}
  BlobStore& store() override { return wrapper_; }
  std::string Url() const override { return inner_->Url(); }

 private:
  std::unique_ptr<BlobStoreHarness> inner_;
  BlobStoreWrapper wrapper_;
};

BlobStoreBackend Wrapped(const BlobStoreBackend& backend) {
  return {backend.name + "_wrapped", [backend]() -> std::unique_ptr<BlobStoreHarness> {
            auto inner = backend.make();
            if (!inner) return nullptr;
            return std::make_unique<WrappedHarness>(std::move(inner));
          }};
}

INSTANTIATE_TEST_SUITE_P(Wrapper, BlobStoreContract,
                         ::testing::Values(Wrapped(BlobStoreBackends().front())),
                         BlobStoreBackendName);

TEST(BlobStoreWrapper, AnOverrideChangesOneMethodAndTheRestReachTheTarget) {
  auto harness = BlobStoreBackends().front().make();
  ASSERT_NE(harness, nullptr);
  class NoDeletes final : public BlobStoreWrapper {
   public:
    using BlobStoreWrapper::BlobStoreWrapper;
    Result<void> Delete(std::string_view) override {
      return Fail(ErrorCode::kUnavailable, "SlowDown");
    }
  };
  NoDeletes wrapper(harness->store());
  EXPECT_EQ(&wrapper.target(), &harness->store());
  ASSERT_TRUE(IsOk(PutBytes(wrapper, "a/b", "bytes")));
  EXPECT_TRUE(FailsWith(wrapper.Delete("a/b"), ErrorCode::kUnavailable));
  EXPECT_EQ(GetBytes(harness->store(), "a/b").value_or(""), "bytes") << "still there";
  EXPECT_EQ(wrapper.Describe(), harness->store().Describe());
}

}  // namespace
}  // namespace reprise::blob
