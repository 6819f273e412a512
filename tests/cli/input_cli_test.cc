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

// ---- item 17: columns and pages -----------------------------------------------------

TEST_F(CliTest, AssetsListShowsTheOwnerAndIngestShowsTheHashes) {
  CommandResult ingest = Run({"ingest", Library({samples_->Wav()}), "--owner", "carol"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.output;
  json asset = RunJson({"assets", "list"})[0];
  std::string sha256 = asset["sha256"];
  std::string cid = asset["cid"];
  ASSERT_EQ(sha256.size(), 64u);
  EXPECT_TRUE(Contains(ingest.out, "SHA-256")) << ingest.out;
  EXPECT_TRUE(Contains(ingest.out, sha256.substr(0, 12))) << ingest.out;
  EXPECT_TRUE(Contains(ingest.out, cid)) << ingest.out;

  CommandResult list = Run({"assets", "list"});
  EXPECT_TRUE(Contains(list.out, "OWNER")) << list.out;
  EXPECT_TRUE(Contains(list.out, "carol")) << list.out;
}

TEST_F(CliTest, JobsListSaysWhenItStopsAndPagesOnWithACursor) {
  json ingest =
      RunJson({"ingest", Library({samples_->Wav(), samples_->Mp3(), samples_->AudioOnlyM4a()})});
  ASSERT_EQ(ingest["summary"]["added"], 3);

  CommandResult first = Run({"jobs", "list", "--limit", "2"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(Contains(first.output, "2 jobs shown, and more match")) << first.output;
  auto at = first.output.find("--cursor ");
  ASSERT_NE(at, std::string::npos) << first.output;
  std::string cursor = first.output.substr(at + 9);
  cursor = cursor.substr(0, cursor.find_first_of(" \n)"));
  ASSERT_FALSE(cursor.empty());

  json page1 = RunJson({"jobs", "list", "--limit", "2"});
  json page2 = RunJson({"jobs", "list", "--limit", "2", "--cursor", cursor});
  ASSERT_EQ(page1.size(), 2u);
  ASSERT_EQ(page2.size(), 1u);
  EXPECT_LT(page2[0]["id"], page1[1]["id"]) << "newest first, the next page goes on";
  CommandResult last = Run({"jobs", "list", "--limit", "2", "--cursor", cursor});
  EXPECT_FALSE(Contains(last.output, "jobs shown, and more match")) << last.output;
  CommandResult all = Run({"jobs", "list"});
  EXPECT_FALSE(Contains(all.output, "jobs shown, and more match")) << all.output;
}

// ---- item 13: empty selections ------------------------------------------------------

TEST_F(CliTest, AnEmptySelectionNamesTheFilterThatEmptiedIt) {
  ASSERT_EQ(Run({"ingest", samples_->Wav(), "--owner", "alice"}).exit_code, 0);
  ASSERT_EQ(Run({"ingest", samples_->Mp3(), "--owner", "bob"}).exit_code, 0);

  CommandResult owner = Run({"assets", "list", "--owner", "bobb"});
  EXPECT_EQ(owner.exit_code, 0) << owner.output;
  EXPECT_TRUE(Contains(owner.output, "owner bobb has no assets")) << owner.output;
  EXPECT_TRUE(Contains(owner.output, "alice")) << owner.output;
  EXPECT_TRUE(Contains(owner.output, "bob 1")) << owner.output;

  CommandResult status = Run({"backfill", "thumbnail", "--dry-run", "--status", "failed"});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_TRUE(Contains(status.output, "no asset has status failed")) << status.output;
  EXPECT_TRUE(Contains(status.output, "pending 2")) << status.output;
  EXPECT_TRUE(Contains(status.output, "--failed")) << status.output;

  json plan = RunJson({"backfill", "thumbnail", "--dry-run", "--owner", "bobb"});
  ASSERT_TRUE(plan.contains("empty_because")) << plan.dump(2);
  ASSERT_EQ(plan["empty_because"].size(), 1u) << plan.dump(2);
  EXPECT_EQ(plan["empty_because"][0]["filter"], "--owner");
  EXPECT_EQ(plan["empty_because"][0]["present"], json({{"alice", 1}, {"bob", 1}}));

  // A run (not a dry run) says it too, in its JSON.
  json run = RunJson({"backfill", "thumbnail", "--yes", "--kind", "video"});
  ASSERT_TRUE(run["plan"].contains("empty_because")) << run.dump(2);
  EXPECT_EQ(run["plan"]["empty_because"][0]["filter"], "--kind");
  EXPECT_EQ(run["plan"]["empty_because"][0]["present"], json({{"audio", 2}}));

  // Two filters that each select nothing are both named.
  json both = RunJson({"backfill", "thumbnail", "--dry-run", "--owner", "bobb", "--kind", "video"});
  ASSERT_EQ(both["empty_because"].size(), 2u) << both.dump(2);

  // A selection that is not empty has no such key.
  json some = RunJson({"backfill", "thumbnail", "--dry-run", "--owner", "bob"});
  EXPECT_FALSE(some.contains("empty_because")) << some.dump(2);
}

// ---- item 15: libav's log -----------------------------------------------------------

// Lines of `text` that look like libav's own log lines ("[h264 @ 0x...] ...").
std::vector<std::string> LibavLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (Contains(line, " @ 0x") || Contains(line, "[h264") || Contains(line, "[aac")) {
      lines.push_back(line);
    }
  }
  return lines;
}

TEST_F(CliTest, LibavLinesStayOffStderrAndAreCountedOnTheDerivative) {
  json ingest = RunJson({"ingest", Library({samples_->ScrambledMp4()})});
  ASSERT_EQ(ingest["summary"]["added"], 1) << ingest.dump(2);
  std::string id = ingest["items"][0]["asset"]["id"];

  CommandResult process = Run({"process", "--stage", "thumbnail", "--stage", "hls"});
  EXPECT_TRUE(LibavLines(process.err).empty()) << process.err;

  json detail = RunJson({"assets", "show", id});
  int64_t warnings = 0;
  for (const auto& d : detail["derivatives"]) {
    if (d["latest"].is_null()) continue;
    const json& metadata = d["latest"]["metadata"];
    if (metadata.contains("libav_warnings")) warnings += metadata["libav_warnings"].get<int64_t>();
  }
  EXPECT_GT(warnings, 0) << detail.dump(2);
  EXPECT_TRUE(Contains(Run({"assets", "show", id}).out, "libav warnings"));

  // At debug level they are there, with the asset they came from.
  CommandResult debug = Run({"--log-level", "debug", "backfill", "hls", "--all", "--yes"});
  bool attributed = false;
  std::istringstream lines(debug.err);
  std::string line;
  while (std::getline(lines, line)) {
    attributed |= Contains(line, "debug") && Contains(line, "libav") && Contains(line, id);
  }
  EXPECT_TRUE(attributed) << debug.err;
}

// A clean file has nothing to count: the scaler's and encoders' notes about how reprise
// drives them (e.g. swscale's "deprecated pixel format used" for JPEG-range pictures) are
// not warnings about the asset.
TEST_F(CliTest, ACleanFileBuildsEveryStageWithoutLibavWarnings) {
  json ingest = RunJson({"ingest", Library({samples_->RotatedPhoneMp4()})});
  ASSERT_EQ(ingest["summary"]["added"], 1) << ingest.dump(2);
  std::string id = ingest["items"][0]["asset"]["id"];
  CommandResult process = Run({"process"});
  EXPECT_EQ(process.exit_code, 0) << process.output;
  json detail = RunJson({"assets", "show", id});
  for (const auto& d : detail["derivatives"]) {
    if (d["latest"].is_null()) continue;
    EXPECT_FALSE(d["latest"]["metadata"].contains("libav_warnings"))
        << d["stage"] << ": " << d["latest"]["metadata"].dump();
  }
}

TEST_F(CliTest, APlaylistIsRefusedWithItsReason) {
  std::string library = input_.Join("playlists");
  fs::create_directories(library);
  testing::WriteFile(library + "/list.m3u8",
                     "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n/etc/passwd\n"
                     "#EXT-X-ENDLIST\n");
  testing::WriteFile(library + "/list.ffconcat", "ffconcat version 1.0\nfile '/etc/passwd'\n");
  CommandResult ingest = Run({"ingest", library});
  EXPECT_EQ(ingest.exit_code, 1) << ingest.output;
  EXPECT_TRUE(Contains(ingest.err, "list.m3u8")) << ingest.err;
  EXPECT_TRUE(Contains(ingest.err, "reference other files")) << ingest.err;
  EXPECT_TRUE(Contains(ingest.err, "list.ffconcat")) << ingest.err;
  EXPECT_FALSE(Contains(ingest.err, "allocate memory")) << ingest.err;
}

}  // namespace
}  // namespace reprise
