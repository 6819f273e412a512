// CatalogWrapper: the contract suite through a wrapper that overrides nothing
// (wrapped_backend.h), and a wrapper that overrides one method.
#include "catalog/catalog_wrapper.h"

#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "tests/catalog/catalog_contract.h"
#include "tests/catalog/wrapped_backend.h"

namespace reprise::catalog {
namespace {

INSTANTIATE_TEST_SUITE_P(Wrapper, CatalogContractTest,
                         ::testing::Values(Wrapped(CatalogBackends().front())), BackendName);

TEST(CatalogWrapper, AnOverrideChangesOneMethodAndTheRestReachTheTarget) {
  auto env = CatalogBackends().front().make_env();
  FakeClock clock;
  auto target = env->Connect(clock);
  ASSERT_TRUE(target) << target.error().ToString();
  class NoInserts final : public CatalogWrapper {
   public:
    using CatalogWrapper::CatalogWrapper;
    Result<InsertAssetResult> InsertAsset(const NewAsset&) override {
      return Fail(ErrorCode::kUnavailable, "read-only replica");
    }
  };
  NoInserts wrapper(**target);
  EXPECT_EQ(&wrapper.target(), target->get());
  auto refused = wrapper.InsertAsset(MakeAsset("a1"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "read-only replica");
  EXPECT_EQ(Ok(wrapper.CountAssets({})), 0) << "nothing reached the target";
  Ok((*target)->InsertAsset(MakeAsset("a1")));
  EXPECT_EQ(Ok(wrapper.CountAssets({})), 1);
  EXPECT_EQ(wrapper.Describe(), (*target)->Describe());
}

}  // namespace
}  // namespace reprise::catalog
