// One view per resource: `reprise backfill list --json`, `backfill status ID --json` and
// `backfill --dry-run --json` from the real binary print exactly what GET
// /api/v1/backfills (its page's items), GET /api/v1/backfills/{id} and POST
// /api/v1/backfills with dry_run answer, from an API server on the same data directory.
//
// What a status measures against "now" — progress.elapsed_seconds and eta_seconds while
// a backfill has not ended, and driver_lease (its note says how long the lease has left)
// while it runs — differs between two reads by the clock alone; so the backfills compared
// here are frozen: ended (succeeded, completed with failures, cancelled), where elapsed
// runs from start to end, eta_seconds is null and there is no driver lease.
#include <string>

#include "tests/cli/cli_fixture.h"
#include "tests/support/api_server.h"

namespace reprise {
namespace {

class BackfillApiEqualityTest : public CliTest {};

TEST_F(BackfillApiEqualityTest, ListStatusAndDryRunJsonEqualTheApiBodiesOnOneLibrary) {
  std::string library = Library(
      {samples_->H264AacMp4(), samples_->Vp9OpusWebm(), samples_->Mp3(), samples_->PngImage()});
  ASSERT_EQ(Run({"ingest", library}).exit_code, 0);
  ASSERT_EQ(Run({"process"}).exit_code, 0);

  // Succeeded: a foreground run to its end.
  json succeeded = RunJson({"backfill", "thumbnail", "--all", "--yes"});
  ASSERT_EQ(succeeded["state"], "succeeded") << succeeded.dump(2);
  // Cancelled before any worker took it.
  json detached = RunJson({"backfill", "probe", "--all", "--detach", "--yes"});
  const std::string cancelled = std::to_string(detached["id"].get<int64_t>());
  ASSERT_EQ(RunJson({"backfill", "cancel", cancelled})["state"], "cancelled");
  // Completed with failures: one original is gone, so its stages fail (with examples).
  json video = RunJson({"assets", "list", "--kind", "video"})[0];
  std::string original = BlobPath(video["original"]["key"]);
  fs::rename(original, original + "-moved");
  json failed = RunJson({"backfill", "probe", "thumbnail", "--all", "--yes"}, 1);
  ASSERT_EQ(failed["state"], "completed_with_failures") << failed.dump(2);
  ASSERT_FALSE(failed["progress"]["failed_by_code"].empty());

  testing::ApiServer api([this](Config& config) { config.data_dir = data_.path(); });
  ASSERT_TRUE(api.ok());
  auto client = api.Client();

  json listed = RunJson({"backfill", "list"});
  ASSERT_EQ(listed.size(), 3u);
  auto response = client->Get("/api/v1/backfills");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  json page = testing::JsonOf(response);
  EXPECT_EQ(page["items"], listed);
  EXPECT_TRUE(page["next_cursor"].is_null());

  for (const auto& backfill : listed) {
    const std::string id = std::to_string(backfill["id"].get<int64_t>());
    const bool ok = backfill["state"] == "succeeded";
    json status = RunJson({"backfill", "status", id}, ok ? 0 : 1);
    auto answer = client->Get("/api/v1/backfills/" + id);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(testing::JsonOf(answer), status) << "backfill " << id;
    EXPECT_EQ(status, backfill) << "list and status show one view";

    json diff = RunJson({"backfill", "diff", id});
    EXPECT_EQ(testing::JsonOf(client->Get("/api/v1/backfills/" + id + "/diff")), diff);
  }

  json plan = RunJson({"backfill", "waveform", "thumbnail", "--where", "duration > 1", "--dry-run",
                       "--preview", "3"});
  auto planned = client->Post(
      "/api/v1/backfills",
      R"({"stages": ["waveform", "thumbnail"], "where": "duration > 1", "dry_run": true,
          "preview": 3})",
      "application/json");
  ASSERT_TRUE(planned);
  EXPECT_EQ(planned->status, 200);
  EXPECT_EQ(testing::JsonOf(planned), plan);

  json rollback = RunJson({"rollback", "thumbnail", "--kind", "video", "--dry-run"});
  EXPECT_EQ(testing::JsonOf(client->Post(
                "/api/v1/rollbacks", R"({"stage": "thumbnail", "kind": "video", "dry_run": true})",
                "application/json")),
            rollback);
}

}  // namespace
}  // namespace reprise
