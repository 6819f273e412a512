// The `reprise` command end to end, as a user runs it: real binary, real SQLite file,
// real blob directory, media generated with FFmpeg. Thumbnails are checked with ffprobe,
// an independent reader.
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"

namespace reprise {
namespace {

TEST_F(CliTest, HelpReadsWellAndBadUsageExitsTwo) {
  CommandResult help = testing::RunCommand({REPRISE_BINARY, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* word : {"ingest", "process", "worker", "jobs", "queue", "assets", "stages",
                           "--data", "Examples", "Exit codes"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word;
  }
  EXPECT_EQ(Run({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(Run({"ingest"}).exit_code, 2);  // paths are required
  // Reading commands need a catalog (they never create one); `process` makes an empty one.
  ASSERT_EQ(Run({"process"}).exit_code, 0);
  CommandResult bad_kind = Run({"assets", "list", "--kind", "hologram"});
  EXPECT_EQ(bad_kind.exit_code, 2);
  EXPECT_NE(bad_kind.err.find("hologram"), std::string::npos) << bad_kind.err;
  EXPECT_EQ(Run({"assets", "show", "aaaaaaaaaaaa"}).exit_code, 2);
}

TEST_F(CliTest, IngestProcessShowAndReprocessAfterARecipeChange) {
  std::string library = Library({samples_->H264AacMp4(), samples_->RotatedPhoneMp4(),
                                 samples_->Mp3(), samples_->TruncatedMp4()});
  testing::WriteFile(library + "/readme.txt", "not media");

  // Ingest: one broken file makes the exit code 1, the others are added.
  json ingest = RunJson({"ingest", library}, 1);
  EXPECT_EQ(ingest["summary"]["added"], 3);
  EXPECT_EQ(ingest["summary"]["skipped"]["not_media"], 1);
  EXPECT_EQ(ingest["summary"]["errors"], 1);
  std::string phone_id;
  for (const auto& item : ingest["items"]) {
    if (item["outcome"] == "error") {
      EXPECT_NE(item["error"]["message"].get<std::string>().find("truncated.mp4"),
                std::string::npos)
          << item;
    }
    if (item.contains("asset") && item["asset"]["original"]["name"] == "phone_rotated.mp4") {
      phone_id = item["asset"]["id"];
    }
  }
  ASSERT_FALSE(phone_id.empty()) << ingest.dump(2);

  // Human summary of a repeat: everything already existed.
  CommandResult again = Run({"ingest", library});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.out.find("already existed  3"), std::string::npos) << again.out;
  EXPECT_NE(again.err.find("truncated.mp4"), std::string::npos) << again.err;

  json before = RunJson({"stages"});
  ASSERT_GE(before.size(), 2u);
  EXPECT_EQ(before[0]["name"], "probe");
  EXPECT_EQ(before[1]["name"], "thumbnail");
  for (const auto& stage : before) EXPECT_EQ(stage["counts"]["missing"], 3) << stage;

  json processed = RunJson({"process"});
  EXPECT_EQ(processed["assets_run"], 3);
  EXPECT_EQ(processed["stages"]["probe"]["done"], 3);
  EXPECT_EQ(processed["stages"]["thumbnail"]["done"], 2);
  EXPECT_EQ(processed["stages"]["thumbnail"]["skipped"]["no_video_stream"], 1);

  json stages = RunJson({"stages"});
  EXPECT_EQ(stages[0]["counts"]["current"], 3);
  EXPECT_EQ(stages[1]["counts"]["current"], 2);
  EXPECT_EQ(stages[1]["counts"]["skipped"], 1);
  EXPECT_EQ(RunJson({"process"})["assets_run"], 0) << "nothing is due twice";

  // The phone video: rotation reported, display size portrait, thumbnail upright.
  json detail = RunJson({"assets", "show", phone_id});
  EXPECT_EQ(detail["asset"]["status"], "ready");
  EXPECT_EQ(detail["asset"]["kind"], "video");
  EXPECT_EQ(detail["asset"]["width"], testing::samples::kPhoneCodedHeight);
  EXPECT_EQ(detail["asset"]["height"], testing::samples::kPhoneCodedWidth);
  bool saw_rotation = false;
  for (const auto& stream : detail["probe"]["streams"]) {
    if (stream["type"] == "video") {
      EXPECT_EQ(stream["rotation"], 90);
      saw_rotation = true;
    }
  }
  EXPECT_TRUE(saw_rotation) << detail["probe"].dump(2);
  json thumb = FindStage(detail, "thumbnail");
  EXPECT_EQ(thumb["status"], "current");
  ASSERT_EQ(thumb["current"]["blobs"].size(), 1u);
  std::string thumb_key = thumb["current"]["blobs"][0]["key"];
  json picture = ProbePicture(BlobPath(thumb_key));
  EXPECT_EQ(picture["codec_name"], "mjpeg");
  EXPECT_EQ(picture["width"], 320);
  EXPECT_EQ(picture["height"], 568);  // 1280 * 320 / 720 = 568.9, rounded to even

  CommandResult human = Run({"assets", "show", phone_id});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("rotation 90"), std::string::npos) << human.out;

  // A new param makes thumbnails outdated; processing rebuilds exactly those and keeps
  // the previous result in the history.
  const std::vector<std::string> narrower = {"REPRISE_STAGES_THUMBNAIL_WIDTH=160"};
  json outdated = RunJson({"stages"}, 0, narrower);
  EXPECT_EQ(outdated[0]["counts"]["current"], 3) << "probe is untouched";
  EXPECT_EQ(outdated[1]["counts"]["outdated"], 3) << "the audio file's skip is the old recipe's";
  EXPECT_EQ(outdated[1]["counts"]["missing"], 0);
  EXPECT_NE(outdated[1]["recipe"], stages[1]["recipe"]);
  json rerun = RunJson({"process"}, 0, narrower);
  EXPECT_EQ(rerun["stages"]["thumbnail"]["done"], 2);
  EXPECT_FALSE(rerun["stages"].contains("probe"));
  json after = RunJson({"assets", "show", phone_id}, 0, narrower);
  json new_thumb = FindStage(after, "thumbnail");
  EXPECT_EQ(new_thumb["history"].size(), 2u);
  std::string new_key = new_thumb["current"]["blobs"][0]["key"];
  EXPECT_NE(new_key, thumb_key);
  EXPECT_EQ(ProbePicture(BlobPath(new_key))["width"], 160);
  EXPECT_TRUE(fs::exists(BlobPath(thumb_key))) << "the previous result is kept";

  // Listing with filters.
  json audio = RunJson({"assets", "list", "--kind", "audio"});
  ASSERT_EQ(audio.size(), 1u);
  EXPECT_EQ(audio[0]["kind"], "audio");
  EXPECT_EQ(RunJson({"assets", "list", "--owner", "somebody-else"}).size(), 0u);
  EXPECT_EQ(RunJson({"assets", "list", "--status", "ready"}).size(), 3u);
}

// `ingest --process`: one command that adds files, builds their due derivatives and
// reports on those assets alone.
TEST_F(CliTest, IngestWithProcessBuildsWhatItIngestedAndNothingElse) {
  const std::vector<std::string> env = {"REPRISE_PIPELINE_STAGES=probe,thumbnail"};
  std::string waiting = input_.Join("waiting");
  fs::create_directories(waiting);
  fs::copy_file(samples_->H264AacMp4(), waiting + "/waiting.mp4");
  json first = RunJson({"ingest", waiting}, 0, env);
  EXPECT_EQ(first["summary"]["added"], 1);
  EXPECT_FALSE(first.contains("process"));

  std::string library = Library({samples_->Mp3(), samples_->RotatedPhoneMp4()});
  json both = RunJson({"ingest", "--process", library}, 0, env);
  EXPECT_EQ(both["ingest"]["summary"]["added"], 2) << both.dump(2);
  EXPECT_EQ(both["process"]["assets_seen"], 2) << both.dump(2);
  EXPECT_EQ(both["process"]["assets_run"], 2) << both.dump(2);
  EXPECT_EQ(both["process"]["stages"]["probe"]["done"], 2);
  EXPECT_EQ(both["process"]["stages"]["thumbnail"]["done"], 1);
  EXPECT_EQ(both["process"]["stages"]["thumbnail"]["skipped"]["no_video_stream"], 1);

  // Both are done when the command returns. (The job the first ingest queued may have
  // run in this process's pool too, as any worker would run it.)
  json stages = RunJson({"stages"}, 0, env);
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_GE(stages[0]["counts"]["current"], 2) << stages.dump(2);

  // Again, as a person reads it: nothing new is added and nothing is due.
  CommandResult again = Run({"ingest", "--process", library}, env);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.out.find("already existed  2"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("Processed 0 of 2 asset(s)"), std::string::npos) << again.out;
}

TEST_F(CliTest, IngestQueuesJobsThatProcessWaitsForAndJobsCommandsManage) {
  std::string library = Library({samples_->H264AacMp4(), samples_->Mp3()});
  json ingest = RunJson({"ingest", library});
  ASSERT_EQ(ingest["summary"]["added"], 2);

  // Ingest queued one live job per asset with every stage.
  json queued = RunJson({"jobs", "list", "--state", "queued"});
  ASSERT_EQ(queued.size(), 2u);
  std::vector<std::string> every_stage;
  for (const auto& stage : RunJson({"stages"})) every_stage.push_back(stage["name"]);
  std::sort(every_stage.begin(), every_stage.end());
  for (const auto& job : queued) {
    EXPECT_EQ(job["stages"], json(every_stage));
    EXPECT_EQ(job["priority"], 100);
    EXPECT_EQ(job["attempts"], 0);
  }
  json queue = RunJson({"queue"});
  EXPECT_EQ(queue["depth"]["probe"]["queued"], 2);
  EXPECT_EQ(queue["depth"]["thumbnail"]["queued"], 2);
  EXPECT_TRUE(queue["running"].empty());
  EXPECT_GE(queue["oldest_waiting_seconds"].get<double>(), 0);
  CommandResult human = Run({"queue"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("thumbnail"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("oldest waiting"), std::string::npos) << human.out;

  // Break one asset: its original disappears from the blob store.
  std::string broken_id;
  std::string broken_key;
  for (const auto& item : ingest["items"]) {
    if (item["asset"]["kind"] == "audio") {
      broken_id = item["asset"]["id"];
      broken_key = item["asset"]["original"]["key"];
    }
  }
  ASSERT_FALSE(broken_id.empty());
  std::string original = BlobPath(broken_key);
  fs::rename(original, original + "-moved");

  json processed = RunJson({"process", "--concurrency", "2"}, 1);
  EXPECT_EQ(processed["assets_run"], 2);
  EXPECT_EQ(processed["jobs"]["total"], 2) << "process waited for the jobs ingest queued";
  EXPECT_EQ(processed["jobs"]["failed"], 1);
  EXPECT_EQ(processed["stages"]["thumbnail"]["done"], 1);
  ASSERT_EQ(processed["failures"].size(), every_stage.size()) << processed.dump(2);
  EXPECT_EQ(processed["failures"][0]["asset_id"], broken_id);

  json failed = RunJson({"jobs", "list", "--state", "failed"});
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["asset_id"], broken_id);
  EXPECT_EQ(failed[0]["error"]["code"], "not_found") << failed[0].dump(2);
  int64_t failed_id = failed[0]["id"];
  EXPECT_EQ(RunJson({"jobs", "list", "--state", "succeeded"}).size(), 1u);
  EXPECT_EQ(RunJson({"jobs", "list", "--asset", broken_id}).size(), 1u);
  EXPECT_EQ(RunJson({"jobs", "list", "--owner", "nobody"}).size(), 0u);
  EXPECT_EQ(Run({"jobs", "list", "--state", "stuck"}).exit_code, 2);

  // Usage and state errors.
  EXPECT_EQ(Run({"jobs", "retry"}).exit_code, 2) << "an ID or --failed";
  EXPECT_EQ(Run({"jobs", "cancel", "999999"}).exit_code, 2);
  int64_t succeeded_id = RunJson({"jobs", "list", "--state", "succeeded"})[0]["id"];
  EXPECT_EQ(Run({"jobs", "cancel", std::to_string(succeeded_id)}).exit_code, 1);
  EXPECT_EQ(Run({"jobs", "retry", std::to_string(succeeded_id)}).exit_code, 1);
  EXPECT_EQ(Run({"worker", "--stages", "probe,nonesuch"}).exit_code, 2);

  // Fixed, retried, processed: everything current.
  fs::rename(original + "-moved", original);
  EXPECT_EQ(RunJson({"jobs", "retry", std::to_string(failed_id)})["retried"], 1);
  json requeued = RunJson({"jobs", "list", "--state", "queued"});
  ASSERT_EQ(requeued.size(), 1u);
  EXPECT_EQ(requeued[0]["id"], failed_id);

  // A queued job can be cancelled, and a cancelled one retried.
  json cancelled = RunJson({"jobs", "cancel", std::to_string(failed_id)});
  EXPECT_EQ(cancelled["state"], "cancelled");
  EXPECT_EQ(RunJson({"jobs", "retry", std::to_string(failed_id)})["retried"], 1);

  json fixed = RunJson({"process", "--retry-failed"});
  EXPECT_EQ(fixed["jobs"]["total"], 1);
  EXPECT_EQ(fixed["stages"]["probe"]["done"], 1);
  EXPECT_TRUE(fixed["failures"].empty());
  json stages = RunJson({"stages"});
  EXPECT_EQ(stages[0]["counts"]["current"], 2);
  EXPECT_EQ(stages[0]["counts"]["quarantined"], 0);
}

TEST_F(CliTest, OwnerScopesIngestAndShow) {
  std::string library = Library({samples_->Wav()});
  json ingest = RunJson({"ingest", library, "--owner", "alice"});
  std::string id = ingest["items"][0]["asset"]["id"];
  EXPECT_EQ(ingest["items"][0]["asset"]["owner"], "alice");
  EXPECT_EQ(Run({"assets", "show", id, "--owner", "bob"}).exit_code, 2);
  EXPECT_EQ(Run({"assets", "show", id, "--owner", "alice"}).exit_code, 0);
  EXPECT_EQ(RunJson({"assets", "list", "--owner", "alice"}).size(), 1u);
}

TEST_F(CliTest, ABrokenConfigFileIsReportedWithItsLine) {
  testing::WriteFile(data_.Join("reprise.toml"), "[stages.thumbnail]\nwidth = \n");
  CommandResult result = Run({"stages"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("reprise.toml:2"), std::string::npos) << result.err;
}

TEST_F(CliTest, UnknownStageParamIsRefused) {
  CommandResult result = Run({"stages"}, {"REPRISE_STAGES_THUMBNAIL_WIDHT=100"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("widht"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace reprise
