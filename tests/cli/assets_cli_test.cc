// `reprise assets list` with the backfill filters and `reprise assets delete`, through the
// real binary.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"

namespace reprise {
namespace {

TEST_F(CliTest, AssetsListTakesTheBackfillFilters) {
  ASSERT_EQ(RunJson({"ingest", samples_->Wav(), samples_->Mp3()})["summary"]["added"], 2);
  json longer = RunJson({"assets", "list", "--where", "duration > 1.8"});
  ASSERT_EQ(longer.size(), 1u);
  EXPECT_EQ(longer[0]["original"]["name"], "no_cover.mp3") << longer.dump(2);
  EXPECT_EQ(RunJson({"assets", "list", "--source", "scan", "--created-after", "2000-01-01"}).size(),
            2u);
  EXPECT_EQ(RunJson({"assets", "list", "--created-before", "2000-01-01"}).size(), 0u);
  CommandResult typo = Run({"assets", "list", "--where", "duration >"});
  EXPECT_EQ(typo.exit_code, 2) << typo.output;
  EXPECT_NE(typo.err.find("--where"), std::string::npos) << typo.err;
}

TEST_F(CliTest, AssetsDeleteRemovesTheAssetAndItsFiles) {
  json ingested = RunJson({"ingest", "--process", samples_->PngImage()});
  const std::string id = ingested["ingest"]["items"][0]["asset"]["id"];
  const std::string original = ingested["ingest"]["items"][0]["asset"]["original"]["key"];
  ASSERT_TRUE(fs::exists(BlobPath(original)));
  ASSERT_TRUE(fs::exists(BlobPath("assets/" + id)));

  CommandResult wrong_owner = Run({"assets", "delete", id, "--owner", "someone-else"});
  EXPECT_EQ(wrong_owner.exit_code, 2) << wrong_owner.output;
  CommandResult deleted = Run({"assets", "delete", id});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_NE(deleted.out.find("Deleted asset " + id), std::string::npos) << deleted.out;
  EXPECT_FALSE(fs::exists(BlobPath(original)));
  EXPECT_TRUE(RunJson({"assets", "list"}).empty());
  EXPECT_EQ(Run({"assets", "show", id}).exit_code, 2);
  EXPECT_EQ(Run({"assets", "delete", id}).exit_code, 2);
}

}  // namespace
}  // namespace reprise
