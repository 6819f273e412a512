// The behaviour every BlobStore backend must show, as one parameterised suite
// (blob_store_contract_test.cc). A backend joins by instantiating it with a factory in its
// own test file, e.g. for S3:
//
//   INSTANTIATE_TEST_SUITE_P(S3, BlobStoreContract,
//                            ::testing::Values(BlobStoreBackend{"s3", MakeS3Harness}),
//                            BlobStoreBackendName);
//
// Each test gets a fresh, empty store from the factory; the harness keeps alive whatever
// the store needs (a temporary directory, a bucket) and removes it afterwards.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "blob/blob_store.h"
#include "core/error.h"

namespace reprise::blob {

class BlobStoreHarness {
 public:
  virtual ~BlobStoreHarness() = default;
  virtual BlobStore& store() = 0;
};

struct BlobStoreBackend {
  std::string name;  // test-name suffix: "fs", "s3"
  std::function<std::unique_ptr<BlobStoreHarness>()> make;
};

inline void PrintTo(const BlobStoreBackend& backend, std::ostream* out) { *out << backend.name; }

inline std::string BlobStoreBackendName(const ::testing::TestParamInfo<BlobStoreBackend>& info) {
  return info.param.name;
}

class BlobStoreContract : public ::testing::TestWithParam<BlobStoreBackend> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make();
    ASSERT_NE(harness_, nullptr) << "backend " << GetParam().name << " did not start";
  }
  BlobStore& store() { return harness_->store(); }

 private:
  std::unique_ptr<BlobStoreHarness> harness_;
};

// `EXPECT_TRUE(IsOk(result))` prints the error when there is one.
template <class T>
::testing::AssertionResult IsOk(const Result<T>& result) {
  if (result) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.error().ToString();
}

// `EXPECT_TRUE(FailsWith(result, ErrorCode::kNotFound))`
template <class T>
::testing::AssertionResult FailsWith(const Result<T>& result, ErrorCode code) {
  if (result) {
    return ::testing::AssertionFailure() << "succeeded; expected " << ErrorCodeName(code);
  }
  if (result.error().code != code) {
    return ::testing::AssertionFailure()
           << "failed with " << result.error().ToString() << "; expected " << ErrorCodeName(code);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace reprise::blob
