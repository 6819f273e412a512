// `reprise migrate status|up|down` through the real binary, on every catalog backend (the
// catalog named by REPRISE_CATALOG_URL, as a deployment would): versions move one
// migration at a time both ways, what status reports is what the database holds, and
// a move in the wrong direction or a down without --to is refused.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "catalog/migrations/migrations.h"
#include "tests/support/catalog_backends.h"
#include "tests/support/test_support.h"

namespace reprise::catalog {
namespace {

using nlohmann::json;

class MigrateCli : public ::testing::TestWithParam<CatalogBackend> {
 protected:
  void SetUp() override { env_ = GetParam().make_env(); }

  reprise::testing::CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {REPRISE_BINARY, "--data", data_.path(), "migrate"});
    return reprise::testing::RunCommand(args, {"REPRISE_CATALOG_URL=" + env_->Url()});
  }

  json RunJson(std::vector<std::string> args) {
    args.push_back("--json");
    auto result = Run(args);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  }

  static std::vector<bool> Applied(const json& status) {
    std::vector<bool> applied;
    for (const auto& migration : status["migrations"]) applied.push_back(migration["applied"]);
    return applied;
  }

  reprise::testing::TempDir data_;
  std::unique_ptr<CatalogTestEnv> env_;
};

INSTANTIATE_TEST_SUITE_P(Backends, MigrateCli, ::testing::ValuesIn(CatalogBackends()), BackendName);

TEST_P(MigrateCli, UpAndDownMoveTheSchemaOneMigrationAtATime) {
  // Both backends have the same versions; the newest is whatever the build has.
  const int latest = static_cast<int>(SqliteMigrations().size());
  ASSERT_EQ(static_cast<int>(PostgresMigrations().size()), latest);
  ASSERT_GE(latest, 6);
  auto first = [latest](int applied) {
    std::vector<bool> expected(static_cast<size_t>(latest), false);
    for (int i = 0; i < applied; ++i) expected[static_cast<size_t>(i)] = true;
    return expected;
  };
  json status = RunJson({"up", "--to", "3"});
  EXPECT_EQ(status["version"], 3);
  EXPECT_EQ(status["latest"], latest);
  EXPECT_EQ(Applied(status), first(3));
  EXPECT_EQ(status["migrations"][2]["name"], "backfill");

  status = RunJson({"status"});
  EXPECT_EQ(status["version"], 3);

  status = RunJson({"up"});
  EXPECT_EQ(status["version"], latest);
  EXPECT_EQ(Applied(status), first(latest));

  status = RunJson({"down", "--to", "5"});
  EXPECT_EQ(status["version"], 5);
  EXPECT_EQ(Applied(status), first(5));

  // What the command left is what a catalog opening the database finds (and moves on
  // from: opening applies the rest).
  FakeClock clock;
  auto catalog = env_->Connect(clock);
  ASSERT_TRUE(catalog) << catalog.error().ToString();
  EXPECT_EQ(RunJson({"status"})["version"], latest);

  status = RunJson({"down", "--to", "0"});
  EXPECT_EQ(status["version"], 0);
  EXPECT_EQ(Applied(status), first(0));
}

TEST_P(MigrateCli, RefusesAMoveTheWrongWayAndADownWithoutATarget) {
  ASSERT_EQ(RunJson({"up", "--to", "4"})["version"], 4);
  auto wrong_way = Run({"up", "--to", "2"});
  EXPECT_EQ(wrong_way.exit_code, 2) << wrong_way.output;
  EXPECT_NE(wrong_way.output.find("migrate down --to 2"), std::string::npos) << wrong_way.output;
  auto up_by_down = Run({"down", "--to", "6"});
  EXPECT_EQ(up_by_down.exit_code, 2) << up_by_down.output;
  EXPECT_EQ(Run({"down"}).exit_code, 2);
  auto unknown = Run({"up", "--to", "99"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_EQ(RunJson({"status"})["version"], 4);
}

}  // namespace
}  // namespace reprise::catalog
