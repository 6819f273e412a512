// The Catalog contract suite: every test in catalog_contract_test.cc and
// queue_contract_test.cc runs against each backend instantiated with
// INSTANTIATE_TEST_SUITE_P(Name, CatalogContractTest, ::testing::Values(CatalogBackend{...})).
// A backend supplies a factory of fresh, empty databases; adding PostgreSQL is one more
// instantiation.
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

namespace reprise::catalog {

// One fresh, empty database. Connect() may be called several times; every catalog it
// returns is a separate connection to the same data (for reopen and concurrency tests).
class CatalogTestEnv {
 public:
  virtual ~CatalogTestEnv() = default;
  [[nodiscard]] virtual Result<std::unique_ptr<Catalog>> Connect(const Clock& clock) = 0;
};

struct CatalogBackend {
  std::string name;  // test-name suffix: letters, digits, underscores
  std::function<std::unique_ptr<CatalogTestEnv>()> make_env;
};

inline std::string BackendName(const ::testing::TestParamInfo<CatalogBackend>& info) {
  return info.param.name;
}

// How test listings show the parameter (ctest names carry it): the backend's name, not
// the struct's raw bytes.
inline void PrintTo(const CatalogBackend& backend, std::ostream* out) { *out << backend.name; }
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
