// One view per resource: on one library, each read command's --json (the real `reprise`
// binary) and the matching GET of an ApiServer opened on the same data directory give the
// same document.
//
// What is compared, exactly:
// - assets list, jobs list: the command's array equals the API page's "items" (the API
//   wraps them in {items, next_cursor}; one page holds them all here);
// - assets show, stages, duplicates: the whole documents, once the API's signed "url"
//   fields are removed (every one of them is checked to be a signed URL of its "key"
//   that the server's signer accepts; no blob route exists to download it yet);
// - queue: the whole document but "oldest_waiting_seconds", an age measured against the
//   instant each side read it (both must be numbers). No job runs here (the server has no
//   workers and the command line's processing has finished), so "running" with its ages
//   is empty on both sides and compared as it is.
#include <httplib.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"
#include "tests/support/api_server.h"

namespace reprise {
namespace {

using testing::ApiServer;
using testing::JsonOf;

const std::vector<std::string> kEnv = {"REPRISE_PIPELINE_STAGES=probe,thumbnail,fingerprint"};

// A tune of sine notes (a new one every quarter second), `seconds` long.
std::string Tune(double seconds) {
  return "aevalsrc=0.5*sin(2*PI*t*220*pow(2\\,mod(floor(t*4)*7\\,24)/12)):s=44100:d=" +
         std::to_string(seconds);
}

// Removes every "url" member, checking each is the signed URL of the "key" beside it.
void StripUrls(json& doc, const http::BlobUrlSigner& signer, int& seen) {
  if (doc.is_array()) {
    for (auto& item : doc) StripUrls(item, signer, seen);
    return;
  }
  if (!doc.is_object()) return;
  if (doc.contains("url")) {
    ++seen;
    const std::string url = doc["url"];
    const std::string key = doc["key"];
    const std::string head = "/blobs/" + key + "?expires=";
    EXPECT_EQ(url.rfind(head, 0), 0u) << url;
    auto amp = url.find("&sig=");
    if (url.rfind(head, 0) == 0 && amp != std::string::npos) {
      EXPECT_TRUE(
          signer.Verify(key, url.substr(head.size(), amp - head.size()), url.substr(amp + 5)))
          << url;
    }
    doc.erase("url");
  }
  for (auto& [name, value] : doc.items()) StripUrls(value, signer, seen);
}

class CliApiEqualityTest : public CliTest {
 protected:
  json RunJson(std::vector<std::string> args) { return CliTest::RunJson(std::move(args), 0, kEnv); }
};

TEST_F(CliApiEqualityTest, EveryReadCommandPrintsWhatTheApiAnswers) {
  // The library: owner a's media processed (with a duplicate pair by fingerprint), owner
  // b's ingested only (its jobs wait in the queue).
  std::string tune_wav = input_.Join("tune.wav");
  std::string tune_mp3 = input_.Join("tune.mp3");
  ASSERT_TRUE(testing::Ffmpeg({"-f", "lavfi", "-i", Tune(8), tune_wav}));
  ASSERT_TRUE(testing::Ffmpeg({"-f", "lavfi", "-i", Tune(8), "-b:a", "128k", tune_mp3}));
  json ingested =
      RunJson({"ingest", "--owner", "a", "--process", tune_wav, tune_mp3, samples_->PngImage()});
  ASSERT_EQ(ingested["ingest"]["summary"]["added"], 3) << ingested.dump(2);
  ASSERT_EQ(RunJson({"ingest", "--owner", "b", samples_->H264AacMp4()})["summary"]["added"], 1);

  ApiServer api([this](Config& config) {
    config.data_dir = data_.path();
    config.pipeline_stages = {"probe", "thumbnail", "fingerprint"};
  });
  ASSERT_TRUE(api.ok());
  auto client = api.Client();
  const auto& signer = *api.context().signer;
  auto get = [&](const std::string& path) {
    auto response = client->Get(path);
    EXPECT_TRUE(response && response->status == 200)
        << path << ": " << (response ? response->body : "no response");
    return JsonOf(response);
  };

  // assets list (and narrowed to an owner, and filtered).
  json assets = RunJson({"assets", "list"});
  ASSERT_EQ(assets.size(), 4u);
  EXPECT_EQ(assets, get("/api/v1/assets?limit=1000")["items"]);
  EXPECT_EQ(RunJson({"assets", "list", "--owner", "b"}), get("/api/v1/assets?owner=b")["items"]);
  EXPECT_EQ(RunJson({"assets", "list", "--kind", "audio", "--where", "duration > 5"}),
            get("/api/v1/assets?kind=audio&where=duration%20%3E%205")["items"]);

  // assets show, for every asset.
  int urls = 0;
  for (const auto& asset : assets) {
    const std::string id = asset["id"];
    json shown = RunJson({"assets", "show", id});
    json answered = get("/api/v1/assets/" + id);
    StripUrls(answered, signer, urls);
    EXPECT_EQ(shown, answered) << id;
  }
  EXPECT_GT(urls, 4);  // every original, and the thumbnails

  // jobs list.
  json jobs = RunJson({"jobs", "list", "--limit", "0"});
  ASSERT_GE(jobs.size(), 2u);  // the processing of a's assets, b's waiting job
  EXPECT_EQ(jobs, get("/api/v1/jobs?limit=1000")["items"]);
  EXPECT_EQ(RunJson({"jobs", "list", "--state", "queued"}),
            get("/api/v1/jobs?state=queued")["items"]);

  // queue: all but the age, which each side measured at its own instant.
  json queue = RunJson({"queue"});
  json queue_api = get("/api/v1/queue");
  ASSERT_TRUE(queue["oldest_waiting_seconds"].is_number()) << queue.dump(2);
  ASSERT_TRUE(queue_api["oldest_waiting_seconds"].is_number());
  queue.erase("oldest_waiting_seconds");
  queue_api.erase("oldest_waiting_seconds");
  EXPECT_EQ(queue, queue_api);

  // stages and duplicates.
  EXPECT_EQ(RunJson({"stages"}), get("/api/v1/stages"));
  EXPECT_EQ(RunJson({"stages", "--owner", "a"}), get("/api/v1/stages?owner=a"));
  json duplicates = RunJson({"assets", "duplicates"});
  ASSERT_EQ(duplicates["groups"].size(), 1u) << duplicates.dump(2);
  EXPECT_EQ(duplicates, get("/api/v1/duplicates"));
  EXPECT_EQ(RunJson({"assets", "duplicates", "--threshold", "0.95"}),
            get("/api/v1/duplicates?threshold=0.95"));
}

}  // namespace
}  // namespace reprise
