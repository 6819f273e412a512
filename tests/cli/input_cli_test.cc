// What the command line says about its inputs: where the catalog is (and that reading
// never creates one), why a selection is empty, what libav complained about, and the
// columns and pages a user relies on.
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"

namespace reprise {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- item 12: the catalog's location ------------------------------------------------

TEST_F(CliTest, ReadingCommandsNeverCreateACatalogAndSayWhereTheyLooked) {
  std::string typo = input_.Join("typo/sub/catalog.db");
  std::vector<std::string> env = {"REPRISE_CATALOG_URL=sqlite:" + typo};
  const std::vector<std::vector<std::string>> reading = {
      {"assets", "list"},
      {"assets", "show", "aaaaaaaaaaaa"},
      {"assets", "duplicates"},
      {"stages"},
      {"jobs", "list"},
      {"queue"},
      {"backfill", "list"},
      {"backfill", "status", "1"},
      {"backfill", "diff", "1"},
      {"backfill", "thumbnail", "--dry-run"},
      {"rollback", "thumbnail", "--dry-run"},
  };
  for (const auto& args : reading) {
    CommandResult result = Run(args, env);
    std::string command;
    for (const auto& arg : args) command += arg + " ";
    EXPECT_EQ(result.exit_code, 3) << command << "\n" << result.output;
    EXPECT_TRUE(Contains(result.err, typo)) << command << "\n" << result.err;
    EXPECT_TRUE(Contains(result.err, "no catalog")) << command << "\n" << result.err;
  }
  EXPECT_FALSE(fs::exists(input_.Join("typo"))) << "a reading command created directories";

  // The default location under --data: not created either.
  CommandResult list = Run({"assets", "list"});
  EXPECT_EQ(list.exit_code, 3) << list.output;
  EXPECT_TRUE(Contains(list.err, data_.Join("catalog.db"))) << list.err;
  EXPECT_FALSE(fs::exists(data_.Join("catalog.db")));

  // A writing command creates it where it was told to.
  CommandResult ingest = Run({"ingest", Library({samples_->Wav()})}, env);
  EXPECT_EQ(ingest.exit_code, 0) << ingest.output;
  EXPECT_TRUE(fs::exists(typo));
  EXPECT_EQ(RunJson({"assets", "list"}, 0, env).size(), 1u);
}

TEST_F(CliTest, DataBeatsTheConfigFilesUrlsButNotTheEnvironmentsAndWarns) {
  std::string other = input_.Join("other");
  std::string config = input_.Join("reprise.toml");
  testing::WriteFile(config, "[catalog]\nurl = \"sqlite:" + other +
                                 "/catalog.db\"\n[blob]\nurl = \"fs:" + other + "/blobs\"\n");
  // --data (given by Run) is more specific than the file: the file's URLs are ignored.
  CommandResult ingest = Run({"--config", config, "ingest", Library({samples_->Wav()})});
  EXPECT_EQ(ingest.exit_code, 0) << ingest.output;
  EXPECT_TRUE(fs::exists(data_.Join("catalog.db")));
  EXPECT_TRUE(fs::exists(data_.Join("blobs")));
  EXPECT_FALSE(fs::exists(other));
  EXPECT_TRUE(Contains(ingest.err, "warning")) << ingest.err;
  EXPECT_TRUE(Contains(ingest.err, "--data")) << ingest.err;
  EXPECT_TRUE(Contains(ingest.err, "catalog.url")) << ingest.err;

  // An explicit URL in the environment wins over --data, and says so too.
  std::string env_catalog = input_.Join("env/catalog.db");
  CommandResult env_run =
      Run({"ingest", Library({samples_->Wav()})}, {"REPRISE_CATALOG_URL=sqlite:" + env_catalog});
  EXPECT_EQ(env_run.exit_code, 0) << env_run.output;
  EXPECT_TRUE(fs::exists(env_catalog));
  EXPECT_TRUE(Contains(env_run.err, "REPRISE_CATALOG_URL")) << env_run.err;

  // Without a conflict, no warning.
  CommandResult quiet = Run({"assets", "list"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.output;
  EXPECT_FALSE(Contains(quiet.err, "warning")) << quiet.err;
}

}  // namespace
}  // namespace reprise
