// URL imports end to end below HTTP: ImportService validates and queues, ImportRunner
// downloads from a local server (loopback allowed by config) into assets with their
// stages queued, records precise errors, takes over a dead runner's import and gives
// imports back on shutdown.
#include "services/import_runner.h"

#include <string>

#include <gtest/gtest.h>

#include "app/app.h"
#include "blob/fs/fs_blob_store.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "core/byte_pipe.h"
#include "tests/support/fetch_server.h"
#include "tests/support/media_suite.h"
#include "tests/support/test_support.h"
#include "tests/support/wait_until.h"

namespace reprise::services {
namespace {

using testing::FetchServer;

ImportRequest UrlRequest(std::string url) {
  ImportRequest request;
  request.url = std::move(url);
  return request;
}

class ImportRunnerTest : public testing::MediaSuite {
 protected:
  void Open(const std::function<void(Config&)>& configure = {}) {
    Config config;
    config.data_dir = dir_.Join("data");
    config.pipeline_stages = {"probe", "thumbnail"};
    config.import.allow_private_addresses = true;
    config.import.timeout_seconds = 30;
    if (configure) configure(config);
    auto app = app::App::Open(config, MakeNullLogger());
    ASSERT_TRUE(app) << app.error().ToString();
    app_ = std::move(*app);
    runner_ = app_->NewImportRunner();
  }

  catalog::Import Queue(const std::string& url, const Caller& caller = Caller::Owner("alice")) {
    ImportRequest request;
    request.url = url;
    request.name = "sunset.mp4";
    request.kind = "video";
    request.metadata = {{"prompt", "sunset"}, {"seed", 7}};
    auto import = app_->imports().Request(caller, request);
    EXPECT_TRUE(import) << import.error().ToString();
    return import.value_or(catalog::Import{});
  }

  catalog::Import RunAndGet(const std::string& id) {
    auto ran = runner_->RunOne();
    EXPECT_TRUE(ran && *ran) << (ran ? "nothing due" : ran.error().ToString());
    auto import = app_->imports().Get(Caller::Admin(), id);
    EXPECT_TRUE(import) << import.error().ToString();
    return import.value_or(catalog::Import{});
  }

  testing::TempDir dir_;
  FetchServer server_;
  std::unique_ptr<app::App> app_;
  std::unique_ptr<ImportRunner> runner_;
};

TEST_F(ImportRunnerTest, ADownloadBecomesAnAssetWithItsStagesQueuedAndTheImportsMetadata) {
  Open();
  std::string media = testing::ReadFile(samples_->H264AacMp4());
  server_.AddFile("clip.mp4", media);
  catalog::Import queued = Queue(server_.Url("/files/clip.mp4"));
  EXPECT_EQ(queued.state, catalog::ImportState::kQueued);
  EXPECT_TRUE(LooksLikeImportId(queued.id)) << queued.id;

  catalog::Import done = RunAndGet(queued.id);
  ASSERT_EQ(done.state, catalog::ImportState::kDone) << done.error_message;
  ASSERT_TRUE(done.asset_id);
  EXPECT_EQ(done.bytes, static_cast<int64_t>(media.size()));
  EXPECT_EQ(done.attempts, 1);

  catalog::AssetFilter alice;
  alice.owner = "alice";
  auto asset = app_->catalog().GetAsset(*done.asset_id, alice);
  ASSERT_TRUE(asset) << asset.error().ToString();
  EXPECT_EQ(asset->original_name, "sunset.mp4");
  EXPECT_EQ(asset->source_uri, server_.Url("/files/clip.mp4"));
  EXPECT_EQ(asset->source, catalog::AssetSource::kUrl);
  EXPECT_EQ(asset->size_bytes, static_cast<int64_t>(media.size()));
  EXPECT_EQ(asset->media.kind, catalog::AssetKind::kVideo);

  catalog::JobFilter jobs;
  jobs.owner = "alice";
  auto listed = app_->catalog().ListJobs(jobs, {});
  ASSERT_TRUE(listed) << listed.error().ToString();
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].asset_id, asset->id);
  EXPECT_EQ(listed->items[0].state, catalog::JobState::kQueued);

  auto linked = app_->catalog().FindImportOfAsset(asset->id);
  ASSERT_TRUE(linked && linked->has_value());
  EXPECT_EQ((*linked)->metadata["prompt"], "sunset");

  auto resolved = app_->imports().Resolve(Caller::Owner("alice"), queued.id);
  ASSERT_TRUE(resolved) << resolved.error().ToString();
  ASSERT_TRUE(resolved->asset);
  EXPECT_EQ(resolved->asset->id, asset->id);

  // The same content again is the same asset.
  catalog::Import twice = RunAndGet(Queue(server_.Url("/files/clip.mp4")).id);
  EXPECT_EQ(twice.asset_id, done.asset_id);
}

TEST_F(ImportRunnerTest, FailuresAreRecordedWithThePreciseError) {
  Open([](Config& config) { config.import.max_bytes = 100'000; });
  server_.AddFile("notes.txt", std::string(5000, 'n'));
  struct Case {
    std::string path;
    std::string code;
    std::string message;
  };
  for (const auto& [path, code, message] : std::vector<Case>{
           {"/missing", "not_found", "http 404 from " + server_.Url("/missing")},
           {"/files/notes.txt", "unsupported_media",
            server_.Url("/files/notes.txt") +
                " is not media (5000 bytes, Content-Type application/octet-stream)"},
           {"/big?bytes=200000", "invalid_argument",
            server_.Url("/big?bytes=200000") + " is larger than the limit of 100000 bytes"},
           {"/big-chunked?bytes=200000", "invalid_argument",
            server_.Url("/big-chunked?bytes=200000") + " is larger than the limit of 100000 bytes"},
           {"/loop", "invalid_argument", "more than 5 redirects fetching"},
       }) {
    catalog::Import failed = RunAndGet(Queue(server_.Url(path)).id);
    EXPECT_EQ(failed.state, catalog::ImportState::kFailed) << path;
    EXPECT_EQ(failed.error_code, code) << path;
    EXPECT_NE(failed.error_message.find(message), std::string::npos)
        << path << ": " << failed.error_message;
    EXPECT_FALSE(failed.asset_id) << path;
  }
  auto assets = app_->catalog().CountAssets({});
  ASSERT_TRUE(assets);
  EXPECT_EQ(*assets, 0);
}

TEST_F(ImportRunnerTest, AKilledRunnersImportIsTakenOverAfterItsLease) {
  Open();
  server_.AddFile("clip.mp4", testing::ReadFile(samples_->H264AacMp4()));
  catalog::Import queued = Queue(server_.Url("/files/clip.mp4"));
  // A server claimed it with a one-microsecond lease and died.
  auto dead = app_->catalog().ClaimImport("dead-server", 1, 3);
  ASSERT_TRUE(dead && dead->has_value());
  const int64_t expires = (*dead)->lease_expires_at;
  ASSERT_TRUE(testing::WaitUntil([&] { return app_->clock().NowMicros() > expires; }));
  catalog::Import done = RunAndGet(queued.id);
  EXPECT_EQ(done.state, catalog::ImportState::kDone) << done.error_message;
  EXPECT_EQ(done.attempts, 2);
}

TEST_F(ImportRunnerTest, RequestsAreCheckedAtOnceAndScopedToTheirOwner) {
  Open([](Config& config) { config.import.allow_private_addresses = false; });
  struct Case {
    ImportRequest request;
    ErrorCode code;
    std::string says;
  };
  ImportRequest ftp = UrlRequest("ftp://example.com/a.mp4");
  ImportRequest loopback = UrlRequest("http://127.0.0.1:8080/a.mp4");
  ImportRequest metadata_service = UrlRequest("http://169.254.169.254/latest/meta-data/");
  ImportRequest bad_kind = UrlRequest("https://example.com/a.mp4");
  bad_kind.kind = "document";
  ImportRequest orphan = UrlRequest("https://example.com/a.mp4");
  orphan.parent_id = "aaaaaaaaaaaa";
  ImportRequest slash = UrlRequest("https://example.com/a.mp4");
  slash.name = "../etc/passwd";
  for (const auto& [request, code, says] : std::vector<Case>{
           {ftp, ErrorCode::kInvalidArgument, "only http and https"},
           {loopback, ErrorCode::kInvalidArgument, "(loopback address)"},
           {metadata_service, ErrorCode::kInvalidArgument, "(link-local address)"},
           {bad_kind, ErrorCode::kInvalidArgument, "kind 'document'"},
           {orphan, ErrorCode::kNotFound, "parent asset aaaaaaaaaaaa not found"},
           {slash, ErrorCode::kInvalidArgument, "name must not contain '/'"},
       }) {
    auto refused = app_->imports().Request(Caller::Owner("alice"), request);
    ASSERT_FALSE(refused) << request.url;
    EXPECT_EQ(refused.error().code, code) << request.url;
    EXPECT_NE(refused.error().message.find(says), std::string::npos) << refused.error().message;
  }
  auto listed = app_->catalog().ListImports({}, {}, 10);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());

  auto mine =
      app_->imports().Request(Caller::Owner("alice"), UrlRequest("https://example.com/x/clip.mp4"));
  ASSERT_TRUE(mine) << mine.error().ToString();
  EXPECT_EQ(mine->name, "clip.mp4");  // from the URL
  EXPECT_EQ(mine->owner, "alice");
  auto hidden = app_->imports().Get(Caller::Owner("bob"), mine->id);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(app_->imports().Get(Caller::Admin(), mine->id));
  ImportRequest for_bob = UrlRequest("https://example.com/y.mp4");
  for_bob.owner = "bob";
  auto widened = app_->imports().Request(Caller::Owner("alice"), for_bob);
  ASSERT_FALSE(widened);
  auto by_admin = app_->imports().Request(Caller::Admin(), for_bob);
  ASSERT_TRUE(by_admin) << by_admin.error().ToString();
  EXPECT_EQ(by_admin->owner, "bob");
}

TEST_F(ImportRunnerTest, StoppingGivesADownloadUnderWayBack) {
  Open();
  catalog::Import queued = Queue(server_.Url("/slow"));
  runner_->Start();
  ASSERT_TRUE(testing::WaitUntil([&] {
    auto import = app_->imports().Get(Caller::Admin(), queued.id);
    return import && import->state == catalog::ImportState::kDownloading;
  }));
  runner_->Stop();
  auto back = app_->imports().Get(Caller::Admin(), queued.id);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->state, catalog::ImportState::kQueued);
  EXPECT_EQ(back->attempts, 0);
  EXPECT_TRUE(back->lease_owner.empty());
}

TEST_F(ImportRunnerTest, AStartedRunnerIsWokenByANewImport) {
  Open([](Config& config) { config.queue.poll_seconds = 3600; });  // no polling to rely on
  server_.AddFile("clip.mp4", testing::ReadFile(samples_->H264AacMp4()));
  runner_->Start();
  catalog::Import queued = Queue(server_.Url("/files/clip.mp4"));
  ASSERT_TRUE(testing::WaitUntil([&] {
    auto import = app_->imports().Get(Caller::Admin(), queued.id);
    return import && import->state == catalog::ImportState::kDone;
  }));
  runner_->Stop();
}

TEST(BytePipe, HoldsAtMostItsCapacityAndPassesErrorsAndEarlyClose) {
  BytePipe pipe(1000, "pipe");
  std::string sent(100'000, 'x');
  std::thread writer([&] {
    for (size_t at = 0; at < sent.size(); at += 3000) {
      size_t count = std::min<size_t>(3000, sent.size() - at);
      ASSERT_TRUE(pipe.Write(std::as_bytes(std::span(sent).subspan(at, count))));
    }
    pipe.Finish();
  });
  std::string got;
  std::array<std::byte, 700> buffer{};
  while (true) {
    auto read = pipe.Read(buffer);
    ASSERT_TRUE(read) << read.error().ToString();
    if (*read == 0) break;
    got.append(reinterpret_cast<const char*>(buffer.data()), *read);
  }
  writer.join();
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent);
  EXPECT_LE(pipe.peak(), 1000u);

  BytePipe failing(10, "failing");
  ASSERT_TRUE(failing.Write(std::as_bytes(std::span("abc", 3))));
  failing.Finish(Error{ErrorCode::kUnavailable, "timed out", ""});
  ASSERT_EQ(failing.Read(buffer).value_or(0), 3u);
  auto error = failing.Read(buffer);
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().message, "timed out");

  BytePipe closed(10, "closed");
  std::thread blocked([&] {
    std::string lots(1000, 'y');
    EXPECT_FALSE(closed.Write(std::as_bytes(std::span(lots))));
  });
  closed.CloseReader();
  blocked.join();
}

TEST_F(ImportRunnerTest, A503IsRetriedLaterUnderTheSameIdAndARestartMidWaitLosesNothing) {
  // A month's ceiling: the retry is not due while this test runs on the real clock.
  Open([](Config& config) { config.import.backoff_base_seconds = 30 * 86400.0; });
  std::string media = testing::ReadFile(samples_->H264AacMp4());
  server_.AddFile("clip.mp4", media);
  server_.FailNext("clip.mp4", 1);
  const catalog::Import queued = Queue(server_.Url("/flaky/clip.mp4"));

  catalog::Import waiting = RunAndGet(queued.id);
  EXPECT_EQ(waiting.state, catalog::ImportState::kQueued);
  EXPECT_EQ(waiting.attempts, 1);
  EXPECT_EQ(waiting.error_code, "unavailable");
  EXPECT_NE(waiting.error_message.find("http 503 from"), std::string::npos)
      << waiting.error_message;
  EXPECT_GT(waiting.retry_at, waiting.updated_at - 1);
  auto view = ImportJson(waiting);
  EXPECT_EQ(view["status"], "queued");
  EXPECT_EQ(view["attempts"], 1);
  EXPECT_EQ(view["error"]["code"], "unavailable");
  EXPECT_TRUE(view["next_attempt_at"].is_string()) << view.dump();
  auto nothing = runner_->RunOne();
  ASSERT_TRUE(nothing);
  EXPECT_FALSE(*nothing) << "not claimed before its retry time";

  // The server stops; another opens the library with a clock at the retry time.
  Config config = app_->config();
  runner_.reset();
  app_.reset();
  FakeClock later(waiting.retry_at);
  const std::string catalog_url = config.ResolvedCatalogUrl();
  const std::string blob_url = config.ResolvedBlobUrl();
  auto catalog = catalog::SqliteCatalog::Open(catalog_url.substr(catalog_url.find(':') + 1), later,
                                              /*create=*/false);
  ASSERT_TRUE(catalog) << catalog.error().ToString();
  auto blobs = blob::FsBlobStore::Open(blob_url.substr(blob_url.find(':') + 1));
  ASSERT_TRUE(blobs) << blobs.error().ToString();
  ImportService service(**catalog, ImportSettingsFrom(config, catalog::NewJob{}));
  SeededRandom random(3);
  ImportRunner runner(**catalog, **blobs, later, random, MakeNullLogger(), service, "restarted");
  auto ran = runner.RunOne();
  ASSERT_TRUE(ran) << ran.error().ToString();
  ASSERT_TRUE(*ran) << "due once its time came, after the restart";
  auto done = (*catalog)->GetImport(queued.id, {});
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_EQ(done->state, catalog::ImportState::kDone) << done->error_message;
  EXPECT_EQ(done->attempts, 2);
  EXPECT_EQ(done->retry_at, 0);
  EXPECT_TRUE(done->error_message.empty());
  ASSERT_TRUE(done->asset_id);
  EXPECT_EQ(ImportJson(*done)["error"], nullptr);
  EXPECT_EQ(server_.requests(), 2);
}

TEST_F(ImportRunnerTest, PassingFailuresStopAtMaxAttemptsAndA404FailsAtOnce) {
  Open([](Config& config) {
    config.import.max_attempts = 2;
    config.import.backoff_base_seconds = 0;  // due again at once
  });
  server_.AddFile("clip.mp4", "x");
  server_.FailNext("clip.mp4", 10);
  const catalog::Import flaky = Queue(server_.Url("/flaky/clip.mp4"));
  EXPECT_EQ(RunAndGet(flaky.id).state, catalog::ImportState::kQueued);
  catalog::Import gave_up = RunAndGet(flaky.id);
  EXPECT_EQ(gave_up.state, catalog::ImportState::kFailed);
  EXPECT_EQ(gave_up.attempts, 2);
  EXPECT_EQ(gave_up.error_code, "unavailable");
  EXPECT_NE(gave_up.error_message.find("http 503"), std::string::npos) << gave_up.error_message;
  EXPECT_EQ(ImportJson(gave_up)["next_attempt_at"], nullptr);

  const int before = server_.requests();
  const catalog::Import missing = Queue(server_.Url("/missing"));
  catalog::Import failed = RunAndGet(missing.id);
  EXPECT_EQ(failed.state, catalog::ImportState::kFailed);
  EXPECT_EQ(failed.attempts, 1);
  EXPECT_EQ(failed.error_code, "not_found");
  auto again = runner_->RunOne();
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(server_.requests(), before + 1);
}

}  // namespace
}  // namespace reprise::services
