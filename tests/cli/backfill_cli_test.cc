// `reprise backfill` end to end: the real binary on a real catalog and blob directory
// with generated media. The plan, the dry run (which must leave the catalog file
// byte-identical), the confirmation rule, a foreground run, idempotence, a detached run
// picked up by a worker, and the steering commands.
#include <fstream>

#include "tests/cli/cli_fixture.h"

namespace reprise {
namespace {

class BackfillCliTest : public CliTest {
 protected:
  // Ingested and processed: probe and thumbnail current on four assets (one audio).
  void Ready() {
    std::string library = Library(
        {samples_->H264AacMp4(), samples_->Vp9OpusWebm(), samples_->Mp3(), samples_->PngImage()});
    ASSERT_EQ(Run({"ingest", library}).exit_code, 0);
    auto processed = Run({"process"});
    ASSERT_EQ(processed.exit_code, 0) << processed.output;
  }

  std::string CatalogBytes() {
    std::string bytes;
    for (const char* suffix : {"", "-wal"}) {
      std::string path = data_.Join(std::string("catalog.db") + suffix);
      if (fs::exists(path)) bytes += testing::ReadFile(path);
      bytes += '|';
    }
    return bytes;
  }
};

TEST_F(BackfillCliTest, DryRunShowsThePlanAndLeavesTheCatalogByteIdentical) {
  Ready();
  const std::vector<std::string> bumped = {"REPRISE_STAGES_THUMBNAIL_WIDTH=480"};
  std::string before = CatalogBytes();
  json plan = RunJson({"backfill", "thumbnail", "probe", "--dry-run"}, 0, bumped);
  EXPECT_EQ(CatalogBytes(), before) << "a dry run changes nothing";
  ASSERT_EQ(plan["stages"].size(), 2u);
  json thumbnail =
      plan["stages"][0]["stage"] == "thumbnail" ? plan["stages"][0] : plan["stages"][1];
  json probe = plan["stages"][0]["stage"] == "probe" ? plan["stages"][0] : plan["stages"][1];
  EXPECT_EQ(thumbnail["selected"], 4) << "the recipe changed for all four";
  EXPECT_EQ(thumbnail["selected_by_reason"]["outdated"], 3);
  EXPECT_EQ(thumbnail["selected_by_reason"]["missing"], 1)
      << "the audio file's skip was for the old recipe: with the new one it has no answer";
  EXPECT_EQ(probe["selected"], 0);
  EXPECT_EQ(probe["left_by_reason"]["current"], 4);
  EXPECT_GE(thumbnail["history"]["samples"], 3) << "estimates come from past runs";
  EXPECT_GT(plan["estimated_seconds"].get<double>(), 0);

  CommandResult text = Run({"backfill", "thumbnail", "--dry-run"}, bumped);
  EXPECT_EQ(text.exit_code, 0);
  for (const char* word : {"dry run", "PROCESS", "outdated", "Estimate", "First"}) {
    EXPECT_NE(text.out.find(word), std::string::npos) << word << "\n" << text.out;
  }
  EXPECT_EQ(CatalogBytes(), before);
}

TEST_F(BackfillCliTest, WithoutATerminalItStartsOnlyWithYesThenRunsToTheEndOnce) {
  Ready();
  CommandResult refused = Run({"backfill", "--all-stages", "--all"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.err.find("--yes"), std::string::npos) << refused.err;
  EXPECT_EQ(RunJson({"backfill", "list"}).size(), 0u) << "nothing was created";

  json status = RunJson({"backfill", "probe", "thumbnail", "--all", "--yes", "--concurrency", "2"});
  EXPECT_EQ(status["state"], "succeeded");
  EXPECT_EQ(status["progress"]["total"], 8);
  EXPECT_EQ(status["progress"]["outcomes"]["processed"], 7);
  EXPECT_EQ(status["progress"]["skipped_by_reason"]["no_video_stream"], 1);
  // Every pair was rebuilt once: the current probe is the second attempt of its recipe.
  json assets = RunJson({"assets", "list"});
  ASSERT_EQ(assets.size(), 4u);
  for (const auto& asset : assets) {
    json probe = FindStage(RunJson({"assets", "show", asset["id"]}), "probe");
    EXPECT_EQ(probe["current"]["attempts"], 2) << asset["id"];
  }

  CommandResult again = Run({"backfill", "--all-stages", "--yes"});
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.out.find("Nothing to do"), std::string::npos) << again.out;
  EXPECT_EQ(RunJson({"backfill", "list"}).size(), 1u) << "an empty plan starts no backfill";
}

TEST_F(BackfillCliTest, ADetachedBackfillIsRunByAWorkerAndSteeredByItsId) {
  Ready();
  const std::vector<std::string> bumped = {"REPRISE_STAGES_THUMBNAIL_WIDTH=400"};
  std::string ids = input_.Join("ids.txt");
  json assets = RunJson({"assets", "list", "--kind", "video"});
  ASSERT_EQ(assets.size(), 2u);
  {
    std::ofstream out(ids);
    out << "# the videos\n"
        << assets[0]["id"].get<std::string>() << "\n\n"
        << assets[1]["id"].get<std::string>() << "\n";
  }
  json started =
      RunJson({"backfill", "thumbnail", "--ids-from", ids, "--detach", "--yes", "--rate", "60/m"},
              0, bumped);
  ASSERT_TRUE(started.contains("id")) << started.dump();
  std::string id = std::to_string(started["id"].get<int64_t>());
  EXPECT_EQ(started["state"], "running");
  EXPECT_DOUBLE_EQ(started["options"]["rate_per_second"].get<double>(), 1.0);

  json paused = RunJson({"backfill", "pause", id});
  EXPECT_EQ(paused["state"], "paused");
  EXPECT_EQ(Run({"backfill", "pause", id}).exit_code, 1) << "already paused";
  json resumed = RunJson({"backfill", "resume", id, "--detach"});
  EXPECT_EQ(resumed["state"], "running");

  // A worker adopts it (nobody drives a detached backfill) and runs it to the end.
  auto worker_env = bumped;
  worker_env.push_back("REPRISE_QUEUE_POLL_SECONDS=0.05");
  std::string done;
  for (int i = 0; i < 200 && done.empty(); ++i) {
    CommandResult ran = testing::RunCommand(
        {"timeout", "-s", "INT", "3", REPRISE_BINARY, "--data", data_.path(), "worker"},
        worker_env);
    json status = RunJson({"backfill", "status", id});
    if (status["state"] == "succeeded") done = status.dump();
  }
  ASSERT_FALSE(done.empty()) << "the worker never finished the backfill";
  json status = json::parse(done);
  EXPECT_EQ(status["progress"]["outcomes"]["processed"], 2);
  EXPECT_EQ(Run({"backfill", "cancel", id}).exit_code, 1) << "a finished backfill stays so";

  json diff = RunJson({"backfill", "diff", id}, 0, bumped);
  EXPECT_EQ(diff["frozen"], 2);
  EXPECT_EQ(diff["live"], 0) << "both are current with the bumped recipe now";
  EXPECT_EQ(diff["only_frozen"], 2);
}

TEST_F(BackfillCliTest, RollbackBringsBackTheResultsOfTheRecipeBeforeABackfill) {
  Ready();
  std::string video = RunJson({"assets", "list", "--kind", "video"})[0]["id"];
  std::string before =
      FindStage(RunJson({"assets", "show", video}), "thumbnail")["current"]["recipe"];
  const std::vector<std::string> bumped = {"REPRISE_STAGES_THUMBNAIL_WIDTH=200"};
  json status = RunJson({"backfill", "thumbnail", "--yes"}, 0, bumped);
  ASSERT_EQ(status["state"], "succeeded");
  std::string after =
      FindStage(RunJson({"assets", "show", video}), "thumbnail")["current"]["recipe"];
  ASSERT_NE(after, before);

  json plan = RunJson({"rollback", "thumbnail", "--dry-run"});
  EXPECT_EQ(plan["rolled_back"], 3) << "the videos and the image; the audio file has none";
  EXPECT_EQ(plan["assets"], 4);
  CommandResult refused = Run({"rollback", "thumbnail"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.err.find("--yes"), std::string::npos);
  EXPECT_EQ(FindStage(RunJson({"assets", "show", video}), "thumbnail")["current"]["recipe"], after);

  json done = RunJson({"rollback", "thumbnail", "--yes", "--kind", "video"});
  EXPECT_EQ(done["rolled_back"], 2);
  json current = FindStage(RunJson({"assets", "show", video}), "thumbnail")["current"];
  EXPECT_EQ(current["recipe"], before);
  // The old result's picture is still there to serve, with the old width.
  json picture = ProbePicture(BlobPath(current["blobs"][0]["key"]));
  EXPECT_EQ(picture["width"], 320);
}

TEST_F(BackfillCliTest, BadFiltersAndOptionsAreUsageErrorsNamingTheFlag) {
  Ready();
  for (const auto& [args, word] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"backfill", "thumbnail", "--where", "duration >", "--dry-run"}, "--where"},
           {{"backfill", "thumbnail", "--where", "colour = \"red\"", "--dry-run"}, "colour"},
           {{"backfill", "thumbnail", "--rate", "5/week", "--dry-run"}, "--rate"},
           {{"backfill", "thumbnail", "--created-after", "yesterday", "--dry-run"},
            "--created-after"},
           {{"backfill", "thumbnail", "--kind", "hologram", "--dry-run"}, "hologram"},
           {{"backfill", "thumbnail", "--missing", "--failed", "--dry-run"}, "--missing"},
           {{"backfill", "no-such-stage", "--dry-run"}, "no-such-stage"},
           {{"backfill", "--dry-run"}, "--all-stages"},
           {{"backfill", "status", "99"}, "99"}}) {
    CommandResult result = Run(args);
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.err.find(word), std::string::npos) << word << ": " << result.err;
  }
}

}  // namespace
}  // namespace reprise
