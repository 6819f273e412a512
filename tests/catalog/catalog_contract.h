// The Catalog contract suite: every TEST_P(CatalogContractTest, ...) in the
// *_contract_test.cc files runs against each backend of CatalogBackends()
// (tests/support/catalog_backends.h), instantiated once in catalog_contract_test.cc.
// A backend supplies a factory of fresh, empty databases; adding PostgreSQL is one
// entry in that list. Nothing here names a database.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <source_location>
#include <stdexcept>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "tests/support/catalog_backends.h"

namespace reprise::catalog {

// Failures show statuses by name.
inline void PrintTo(StageStatus status, std::ostream* out) { *out << Name(status); }

// Unwraps a Result or ends the test with the error and where it happened (gtest reports a
// thrown exception as a failure of the running test).
template <class T>
T Ok(Result<T> result, std::source_location where = std::source_location::current()) {
  if (!result) {
    throw std::runtime_error(std::string(where.file_name()) + ":" + std::to_string(where.line()) +
                             ": " + result.error().ToString());
  }
  return std::move(*result);
}
inline void Ok(Result<void> result, std::source_location where = std::source_location::current()) {
  if (!result) {
    throw std::runtime_error(std::string(where.file_name()) + ":" + std::to_string(where.line()) +
                             ": " + result.error().ToString());
  }
}

constexpr int64_t kSecond = 1'000'000;

// An asset of `owner` whose content is unique to (owner, id) unless the test changes it.
inline NewAsset MakeAsset(const std::string& id, const std::string& owner = "alice") {
  NewAsset asset;
  asset.id = id;
  asset.owner = owner;
  asset.source = AssetSource::kUpload;
  asset.sha256_hex = "sha-" + owner + "-" + id;
  asset.cid = "bafk" + id;
  asset.size_bytes = 1234;
  asset.original_key = "originals/" + id;
  asset.original_name = id + ".mp4";
  asset.source_uri = "/media/" + id + ".mp4";
  asset.media.kind = AssetKind::kVideo;
  return asset;
}

inline DerivativeOutcome Done(nlohmann::json metadata = nlohmann::json::object()) {
  DerivativeOutcome outcome;
  outcome.state = DerivativeState::kDone;
  outcome.metadata = std::move(metadata);
  return outcome;
}

inline DerivativeOutcome Failed(ErrorCode code = ErrorCode::kIo, std::string message = "boom") {
  DerivativeOutcome outcome;
  outcome.state = DerivativeState::kFailed;
  outcome.error = Error{code, std::move(message), {}};
  return outcome;
}

inline DerivativeOutcome Skipped(std::string reason = "no_video_stream") {
  DerivativeOutcome outcome;
  outcome.state = DerivativeState::kSkipped;
  outcome.skip_reason = std::move(reason);
  return outcome;
}

class CatalogContractTest : public ::testing::TestWithParam<CatalogBackend> {
 protected:
  void SetUp() override {
    env_ = GetParam().make_env();
    auto catalog = env_->Connect(clock_);
    ASSERT_TRUE(catalog) << catalog.error().ToString();
    catalog_ = std::move(*catalog);
  }

  FakeClock clock_;
  std::unique_ptr<CatalogTestEnv> env_;
  std::unique_ptr<Catalog> catalog_;
};

}  // namespace reprise::catalog
