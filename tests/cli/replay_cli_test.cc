// The seeds' backfill workflows replayed on one library of five owners, as a user runs
// them with the real binary, and audited: every state, counter and example a backfill
// reports (status, list, the foreground run's JSON and exit code) must equal what
// happened, which this test knows from the media it made (so many videos, so many
// audio-only files, so many files whose media data is destroyed) and reads back per
// asset from `assets show`.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "tests/cli/cli_fixture.h"

namespace reprise {
namespace {

const std::vector<std::string> kOwners = {"alice", "bob", "carol", "dave", "erin"};
const std::vector<std::string> kStages = {"probe", "thumbnail", "audio"};

class ReplayCliTest : public CliTest {
 protected:
  // Five owners, each with two videos and an audio-only file; alice and bob also have
  // a broken video. Returns the broken assets' ids.
  std::set<std::string> MakeLibrary() {
    std::string broken = CopyAs(samples_->UndecodableMp4(), "broken.mp4");
    for (const auto& owner : kOwners) {
      std::vector<std::string> files = {samples_->H264AacMp4(), samples_->Vp9OpusWebm(),
                                        samples_->AudioOnlyM4a()};
      if (owner == "alice" || owner == "bob") files.push_back(broken);
      std::string dir = input_.Join("library-" + owner);
      fs::create_directories(dir);
      for (const auto& path : files) {
        fs::copy_file(path, dir + "/" + fs::path(path).filename().string(),
                      fs::copy_options::overwrite_existing);
      }
      auto ingested = Run({"ingest", "--owner", owner, dir});
      EXPECT_EQ(ingested.exit_code, 0) << ingested.output;
    }
    std::set<std::string> broken_ids;
    json assets = RunJson({"assets", "list"});
    for (const auto& asset : assets) {
      if (asset["original"]["name"] == "broken.mp4") broken_ids.insert(asset["id"]);
    }
    EXPECT_EQ(broken_ids.size(), 2u);
    return broken_ids;
  }

  // What `assets show` says each stage's latest attempt ended with, counted over the
  // library: stage -> state -> assets.
  std::map<std::string, std::map<std::string, int>> LatestStates() {
    std::map<std::string, std::map<std::string, int>> states;
    json assets = RunJson({"assets", "list"});
    for (const auto& asset : assets) {
      json detail = RunJson({"assets", "show", asset["id"]});
      for (const auto& d : detail["derivatives"]) {
        if (!d["latest"].is_null()) ++states[d["stage"]][d["latest"]["state"]];
      }
    }
    return states;
  }

  // The audit every backfill must pass: its status (and, when given, the JSON and exit
  // code of the run that made it) and its `backfill list` row agree, the counters add up,
  // the state follows from the outcomes, and the failure examples are distinct assets.
  json Audit(int64_t id, const json& run = json(), int run_exit = -1) {
    CommandResult shown = Run({"backfill", "status", std::to_string(id), "--json"});
    json status = json::parse(shown.out, nullptr, /*allow_exceptions=*/false);
    if (status.is_discarded()) {
      ADD_FAILURE() << "status is not JSON:\n" << shown.output;
      return json();
    }
    const json& progress = status["progress"];
    const json& outcomes = progress["outcomes"];
    int64_t sum = 0;
    for (const auto& [outcome, n] : outcomes.items()) sum += n.get<int64_t>();
    EXPECT_EQ(sum, progress["total"]) << status.dump(2);
    int64_t skipped = 0;
    for (const auto& [reason, n] : progress["skipped_by_reason"].items()) {
      skipped += n.get<int64_t>();
    }
    EXPECT_EQ(skipped, outcomes["skipped"]) << status.dump(2);
    int64_t failed = 0;
    for (const auto& [code, entry] : progress["failed_by_code"].items()) {
      failed += entry["count"].get<int64_t>();
      std::set<std::string> distinct(entry["examples"].begin(), entry["examples"].end());
      EXPECT_EQ(distinct.size(), entry["examples"].size()) << "examples repeat: " << entry;
    }
    EXPECT_EQ(failed, outcomes["failed"]) << status.dump(2);
    EXPECT_EQ(progress["done"],
              outcomes["processed"].get<int64_t>() + outcomes["skipped"].get<int64_t>())
        << "done counts processed + skipped only";

    const std::string state = status["state"];
    if (state == "succeeded") {
      EXPECT_EQ(outcomes["failed"], 0) << status.dump(2);
      EXPECT_EQ(outcomes["cancelled"], 0) << status.dump(2);
    }
    if (state == "completed_with_failures") {
      EXPECT_GT(outcomes["failed"], 0) << status.dump(2);
    }
    if (outcomes["failed"] > 0 && outcomes["pending"] == 0 && outcomes["queued"] == 0) {
      EXPECT_NE(state, "succeeded") << "items failed: " << status.dump(2);
    }

    const bool ended_badly =
        state == "completed_with_failures" || state == "cancelled" || state == "failed";
    EXPECT_EQ(shown.exit_code, ended_badly || outcomes["failed"] > 0 ? 1 : 0)
        << "status exits 1 when an item failed or the backfill did not succeed\n"
        << shown.output;

    bool listed = false;
    json rows = RunJson({"backfill", "list"});
    for (const auto& row : rows) {
      if (row["id"] != id) continue;
      listed = true;
      EXPECT_EQ(row["state"], status["state"]);
      EXPECT_EQ(row["progress"]["outcomes"], outcomes);
      EXPECT_EQ(row["progress"]["done"], progress["done"]);
    }
    EXPECT_TRUE(listed) << "backfill " << id << " is not listed";

    if (!run.is_null()) {
      EXPECT_EQ(run["state"], status["state"]);
      EXPECT_EQ(run["progress"]["outcomes"], outcomes);
      EXPECT_EQ(run_exit, outcomes["failed"] > 0 || outcomes["cancelled"] > 0 ? 1 : 0)
          << "the exit code says whether an item failed";
    }
    return status;
  }

  // Runs a backfill in the foreground with --json and audits it.
  json RunBackfill(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), "backfill");
    args.insert(args.end(), {"--yes", "--json"});
    CommandResult result = Run(args, env);
    ++started_;
    json doc;
    try {
      doc = json::parse(result.out);
    } catch (const json::exception& e) {
      ADD_FAILURE() << "not JSON: " << e.what() << "\n" << result.output;
      return json();
    }
    EXPECT_TRUE(doc.contains("id")) << result.output;
    if (!doc.contains("id")) return doc;
    return Audit(doc["id"].get<int64_t>(), doc, result.exit_code);
  }

  int started_ = 0;  // foreground backfills run by RunBackfill
};

TEST_F(ReplayCliTest, EveryReportedStateAndCounterEqualsWhatHappened) {
  const std::set<std::string> broken = MakeLibrary();
  constexpr int kVideos = 10;  // two per owner
  constexpr int kAudioOnly = 5;
  constexpr int kBroken = 2;
  constexpr int kAssets = kVideos + kAudioOnly + kBroken;

  // 0. Everything built once, as after ingest: the broken videos fail thumbnail and
  // audio (their probe works), the audio-only files skip thumbnail.
  auto processed = Run({"process"});
  EXPECT_EQ(processed.exit_code, 1) << "some stages failed\n" << processed.output;

  // 1. Rebuild three stages over the whole library (seed 001's "reprocess all").
  json first = RunBackfill({"probe", "thumbnail", "audio", "--all"});
  json outcomes = first["progress"]["outcomes"];
  EXPECT_EQ(first["state"], "completed_with_failures");
  EXPECT_EQ(first["progress"]["total"], kAssets + (kVideos + kBroken) + kAssets)
      << "thumbnail does not apply to the audio-only files: not in the plan";
  EXPECT_EQ(outcomes["processed"], kAssets + kVideos + (kVideos + kAudioOnly));
  EXPECT_EQ(outcomes["skipped"], 0);
  EXPECT_EQ(outcomes["failed"], 2 * kBroken);
  json unsupported = first["progress"]["failed_by_code"]["unsupported_media"];
  EXPECT_EQ(unsupported["count"], 2 * kBroken);
  std::set<std::string> examples(unsupported["examples"].begin(), unsupported["examples"].end());
  EXPECT_EQ(examples, broken) << "each broken asset once";

  auto states = LatestStates();
  EXPECT_EQ(states["thumbnail"]["done"], kVideos);
  EXPECT_EQ(states["thumbnail"]["skipped"], kAudioOnly);
  EXPECT_EQ(states["thumbnail"]["failed"], kBroken);
  EXPECT_EQ(states["audio"]["done"], kVideos + kAudioOnly);
  EXPECT_EQ(states["audio"]["failed"], kBroken);

  // 2. The thumbnail recipe changes: every thumbnail result, whatever its outcome, is
  // now outdated; none is missing (each was attempted).
  const std::vector<std::string> wider = {"REPRISE_STAGES_THUMBNAIL_WIDTH=160"};
  json table = RunJson({"stages"}, 0, wider);
  for (const auto& row : table) {
    if (row["name"] != "thumbnail") continue;
    EXPECT_EQ(row["counts"]["outdated"], kAssets) << row.dump();
    EXPECT_EQ(row["counts"]["missing"], 0) << row.dump();
  }
  json plan = RunJson({"backfill", "thumbnail", "--dry-run"}, 0, wider);
  EXPECT_EQ(plan["stages"][0]["selected_by_reason"]["outdated"], kAssets) << plan.dump(2);
  EXPECT_FALSE(plan["stages"][0]["selected_by_reason"].contains("missing")) << plan.dump(2);

  json rebuilt = RunBackfill({"thumbnail"}, wider);
  EXPECT_EQ(rebuilt["state"], "completed_with_failures");
  EXPECT_EQ(rebuilt["progress"]["outcomes"]["processed"], kVideos);
  EXPECT_EQ(rebuilt["progress"]["skipped_by_reason"]["no_video_stream"], kAudioOnly);
  EXPECT_EQ(rebuilt["progress"]["outcomes"]["failed"], kBroken);

  // 3. --all under today's recipe: what does not apply is not "rebuilt".
  json all = RunJson({"backfill", "thumbnail", "--all", "--dry-run"}, 0, wider);
  json stage = all["stages"][0];
  EXPECT_EQ(stage["left_by_reason"]["no_video_stream"], kAudioOnly) << all.dump(2);
  EXPECT_EQ(stage["selected"], kVideos + kBroken) << all.dump(2);

  // 4. Failed again and again: quarantined; --failed leaves it, --include-quarantined
  // runs it.
  for (int i = 0; i < 3; ++i) {
    json again = RunJson({"backfill", "thumbnail", "--failed", "--dry-run"}, 0, wider);
    if (again["items"] == 0) break;
    json retried = RunBackfill({"thumbnail", "--failed"}, wider);
    EXPECT_EQ(retried["progress"]["outcomes"]["failed"], kBroken);
  }
  json quarantined = RunJson({"backfill", "thumbnail", "--failed", "--dry-run"}, 0, wider);
  EXPECT_EQ(quarantined["items"], 0);
  EXPECT_EQ(quarantined["stages"][0]["left_by_reason"]["quarantined"], kBroken)
      << quarantined.dump(2);
  json forced = RunBackfill({"thumbnail", "--failed", "--include-quarantined"}, wider);
  EXPECT_EQ(forced["progress"]["total"], kBroken);
  EXPECT_EQ(forced["progress"]["outcomes"]["failed"], kBroken) << "they ran, and failed again";
  EXPECT_EQ(forced["state"], "completed_with_failures");

  // 5. Cancelled part way (seed 002's stop button): a detached, paced run that a worker
  // has started on, then cancelled.
  json started = RunJson(
      {"backfill", "probe", "--all", "--detach", "--yes", "--delay", "30", "--owner", "alice"});
  ASSERT_TRUE(started.contains("id")) << started.dump();
  const std::string cancelled_id = std::to_string(started["id"].get<int64_t>());
  auto status_of = [&] {
    return json::parse(Run({"backfill", "status", cancelled_id, "--json"}).out);
  };
  auto run_worker = [&] {
    testing::RunCommand(
        {"timeout", "-s", "INT", "2", REPRISE_BINARY, "--data", data_.path(), "worker"},
        {"REPRISE_QUEUE_POLL_SECONDS=0.05"});
  };
  for (int i = 0; i < 30 && status_of()["progress"]["outcomes"]["processed"] == 0; ++i) {
    run_worker();
  }
  ASSERT_GT(status_of()["progress"]["outcomes"]["processed"], 0) << "no worker started it";
  auto cancelled = Run({"backfill", "cancel", cancelled_id});
  EXPECT_EQ(cancelled.exit_code, 0) << cancelled.output;
  for (int i = 0; i < 30 && status_of()["state"] != "cancelled"; ++i) run_worker();
  json audited = Audit(std::stoll(cancelled_id));
  ASSERT_EQ(audited["state"], "cancelled") << audited.dump(2);
  const json& ended = audited["progress"]["outcomes"];
  EXPECT_EQ(ended["cancelled"].get<int64_t>() + ended["processed"].get<int64_t>(), 4)
      << "alice's four assets: each either ran before the cancel or was cancelled";
  EXPECT_GT(ended["cancelled"], 0);

  // Every backfill of the session, audited once more from the list.
  json rows = RunJson({"backfill", "list"});
  EXPECT_EQ(static_cast<int>(rows.size()), started_ + 1);
  for (const auto& row : rows) Audit(row["id"].get<int64_t>());
}

}  // namespace
}  // namespace reprise
