// The behaviour every BlobStore backend must show, as one parameterised suite
// (blob_store_contract_test.cc), instantiated once over BlobStoreBackends()
// (tests/support/blob_backends.h): a backend joins with one entry in that list.
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
#include "tests/support/blob_backends.h"

namespace reprise::blob {

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
