// POST /api/v1/assets over real HTTP on loopback: raw and multipart uploads of generated
// media, read while they arrive into a real SQLite catalog and blob directory.
#include <httplib.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "tests/support/api_server.h"
#include "tests/support/generated_wav.h"
#include "tests/support/media_suite.h"
#include "tests/support/resident_memory.h"

namespace reprise::http {
namespace {

using nlohmann::json;
using testing::JsonOf;

// Tokens "a" (owner alice), "b" (owner bob) and "admin".
Router::Options WithTokens() {
  Router::Options options;
  options.authenticate = [](std::string_view token) -> Result<services::Caller> {
    if (token == "a") return services::Caller::Owner("alice", "a");
    if (token == "b") return services::Caller::Owner("bob", "b");
    if (token == "admin") return services::Caller::Admin("admin");
    return Fail(ErrorCode::kNotFound, "unknown token");
  };
  return options;
}

class UploadTest : public testing::MediaSuite,
                   public ::testing::WithParamInterface<testing::ApiBackend> {
 protected:
  static int CountBlobs(testing::ApiServer& api) {
    int count = 0;
    auto listed = api.app().blobs().List("", [&](const blob::BlobInfo&) {
      ++count;
      return true;
    });
    EXPECT_TRUE(listed);
    return count;
  }
  static int CountTemporaries(testing::ApiServer& api) {
    std::filesystem::path tmp = api.config().data_dir + "/blobs/.tmp";
    if (!std::filesystem::exists(tmp)) return 0;
    int count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(tmp)) ++count;
    return count;
  }
  static int64_t CountAssets(testing::ApiServer& api) {
    auto count = api.app().catalog().CountAssets({});
    EXPECT_TRUE(count);
    return count.value_or(-1);
  }
  // Sends `bytes` with chunked transfer encoding (no Content-Length), in 16 KiB pieces.
  static httplib::Result PostChunked(httplib::Client& client, const std::string& path,
                                     const std::string& bytes, const std::string& type) {
    return client.Post(
        path.c_str(),
        [&bytes](size_t offset, httplib::DataSink& sink) {
          if (offset >= bytes.size()) {
            sink.done();
            return true;
          }
          size_t n = std::min<size_t>(16 * 1024, bytes.size() - offset);
          return sink.write(bytes.data() + offset, n);
        },
        type.c_str());
  }
  static void ExpectErrorCode(const httplib::Result& response, int status,
                              const std::string& code) {
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, status) << response->body;
    json body = JsonOf(response);
    EXPECT_EQ(body["error"]["code"], code) << response->body;
    EXPECT_TRUE(body["error"]["details"].is_object());
  }
};

TEST_P(UploadTest, ARawUploadIsCreatedThenTheSameContentAnswersCreatedFalse) {
  testing::ApiServer api(GetParam(), {});
  ASSERT_TRUE(api.ok());
  std::string bytes = testing::ReadFile(samples_->H264AacMp4());
  auto first = api.Client()->Post("/api/v1/assets?name=clip.mp4", bytes, "video/mp4");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201) << first->body;
  json created = JsonOf(first);
  EXPECT_EQ(created["created"], true);
  EXPECT_EQ(created["asset"]["kind"], "video");
  EXPECT_EQ(created["asset"]["source"], "upload");
  EXPECT_EQ(created["asset"]["owner"], api.config().owner) << "an admin without ?owner=";
  EXPECT_EQ(created["asset"]["original"]["name"], "clip.mp4");
  EXPECT_EQ(created["asset"]["size_bytes"], bytes.size());
  EXPECT_EQ(created["asset"]["sha256"], HexLower(Sha256Of(bytes)));
  EXPECT_TRUE(created["derivatives"].is_array());
  std::string id = created["asset"]["id"];
  EXPECT_EQ(first->get_header_value("Location"), "/api/v1/assets/" + id);

  // The document GET /api/v1/assets/{id} answers, and its signed URL serves the bytes.
  std::string original_url = created["asset"]["original"]["url"];
  auto original = api.Fetch(original_url);
  ASSERT_TRUE(original);
  EXPECT_EQ(original->status, 200);
  EXPECT_EQ(original->body, bytes);
  auto shown = api.Client()->Get(("/api/v1/assets/" + id).c_str());
  ASSERT_TRUE(shown);
  ASSERT_EQ(shown->status, 200) << shown->body;
  json view = JsonOf(shown);
  view["created"] = true;
  json uploaded = created;
  uploaded["asset"]["original"].erase("url");  // signed a second apart, maybe
  view["asset"]["original"].erase("url");
  EXPECT_EQ(uploaded, view);
  // The job of every stage was queued with it.
  auto jobs = api.app().catalog().GetQueueStats({});
  ASSERT_TRUE(jobs);
  EXPECT_FALSE(jobs->depth.empty());

  auto again = api.Client()->Post("/api/v1/assets?name=again.mp4", bytes, "video/mp4");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  json existed = JsonOf(again);
  EXPECT_EQ(existed["created"], false);
  EXPECT_EQ(existed["asset"]["id"], id);
  EXPECT_EQ(CountBlobs(api), 1);
  EXPECT_EQ(CountTemporaries(api), 0);
  EXPECT_EQ(CountAssets(api), 1);
}

TEST_P(UploadTest, TheNameComesFromContentDispositionWhenTheQueryHasNone) {
  testing::ApiServer api(GetParam(), {});
  ASSERT_TRUE(api.ok());
  httplib::Headers headers{{"Content-Disposition", "attachment; filename=\"dir/song.mp3\""}};
  auto response = api.Client()->Post("/api/v1/assets", headers, testing::ReadFile(samples_->Mp3()),
                                     "audio/mpeg");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 201) << response->body;
  json body = JsonOf(response);
  EXPECT_EQ(body["asset"]["original"]["name"], "song.mp3") << "folders are dropped";
  EXPECT_EQ(body["asset"]["kind"], "audio");
}

TEST_P(UploadTest, AMultipartUploadTakesTheFilePartAndItsFields) {
  testing::ApiServer api(GetParam(), {});
  ASSERT_TRUE(api.ok());
  auto parent = api.Client()->Post("/api/v1/assets?name=parent.mp3",
                                   testing::ReadFile(samples_->Mp3()), "audio/mpeg");
  ASSERT_TRUE(parent);
  ASSERT_EQ(parent->status, 201) << parent->body;
  std::string parent_id = JsonOf(parent)["asset"]["id"];

  httplib::MultipartFormDataItems items{
      {"name", "cover.png", "", ""},
      {"kind", "image", "", ""},
      {"metadata", R"({"prompt": "a magenta square", "seed": 7})", "", ""},
      {"parent_id", parent_id, "", ""},
      {"file", testing::ReadFile(samples_->PngImage()), "upload.png", "image/png"},
  };
  auto response = api.Client()->Post("/api/v1/assets", items);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 201) << response->body;
  json asset = JsonOf(response)["asset"];
  EXPECT_EQ(asset["kind"], "image");
  EXPECT_EQ(asset["original"]["name"], "cover.png") << "the name field wins over the filename";
  EXPECT_EQ(asset["parent_id"], parent_id);
  EXPECT_EQ(asset["refs"]["prompt"], "a magenta square");
  EXPECT_EQ(asset["refs"]["seed"], "7");
  EXPECT_EQ(asset["width"], testing::samples::kPngWidth);
}

TEST_P(UploadTest, AMultipartFileNameIsUsedWhenNoNameFieldIsGiven) {
  testing::ApiServer api(GetParam(), {});
  ASSERT_TRUE(api.ok());
  httplib::MultipartFormDataItems items{
      {"file", testing::ReadFile(samples_->Wav()), "take1.wav", "audio/wav"}};
  auto response = api.Client()->Post("/api/v1/assets", items);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 201) << response->body;
  EXPECT_EQ(JsonOf(response)["asset"]["original"]["name"], "take1.wav");
}

TEST_P(UploadTest, BadFieldsAre400AndLeaveNothing) {
  testing::ApiServer api(GetParam(), {});
  ASSERT_TRUE(api.ok());
  std::string bytes = testing::ReadFile(samples_->Mp3());
  auto client = api.Client();
  ExpectErrorCode(client->Post("/api/v1/assets?kind=movie", bytes, "audio/mpeg"), 400,
                  "invalid_argument");
  ExpectErrorCode(client->Post("/api/v1/assets?metadata=%5B1%5D", bytes, "audio/mpeg"), 400,
                  "invalid_argument");
  ExpectErrorCode(client->Post("/api/v1/assets?metadata=%7Bnope", bytes, "audio/mpeg"), 400,
                  "invalid_argument");
  auto unknown = client->Post("/api/v1/assets", httplib::MultipartFormDataItems{
                                                    {"file", bytes, "a.mp3", "audio/mpeg"},
                                                    {"colour", "red", "", ""},
                                                });
  ExpectErrorCode(unknown, 400, "invalid_argument");
  EXPECT_NE(unknown->body.find("colour"), std::string::npos) << unknown->body;
  auto no_file =
      client->Post("/api/v1/assets", httplib::MultipartFormDataItems{{"name", "x.mp3", "", ""}});
  ExpectErrorCode(no_file, 400, "invalid_argument");
  EXPECT_NE(no_file->body.find("'file'"), std::string::npos) << no_file->body;
  auto twice = client->Post("/api/v1/assets", httplib::MultipartFormDataItems{
                                                  {"file", bytes, "a.mp3", "audio/mpeg"},
                                                  {"file", bytes, "b.mp3", "audio/mpeg"},
                                              });
  ExpectErrorCode(twice, 400, "invalid_argument");
  // An image where the client insists on video: refused as media of the wrong kind.
  ExpectErrorCode(client->Post("/api/v1/assets?kind=video", testing::ReadFile(samples_->PngImage()),
                               "image/png"),
                  415, "unsupported_media");
  EXPECT_EQ(CountBlobs(api), 0);
  EXPECT_EQ(CountTemporaries(api), 0);
  EXPECT_EQ(CountAssets(api), 0);
}

TEST_P(UploadTest, WhatIsNotMediaIs415AndLeavesNothingBehind) {
  testing::ApiServer api(GetParam(), {});
  ASSERT_TRUE(api.ok());
  auto client = api.Client();
  for (const std::string& bytes :
       {testing::ReadFile(samples_->RandomBytesMp4()), std::string("just some text\n")}) {
    ExpectErrorCode(client->Post("/api/v1/assets?name=fake.mp4", bytes, "video/mp4"), 415,
                    "unsupported_media");
  }
  ExpectErrorCode(PostChunked(*client, "/api/v1/assets",
                              testing::ReadFile(samples_->TruncatedMp4()), "video/mp4"),
                  415, "unsupported_media");
  ExpectErrorCode(
      client->Post("/api/v1/assets",
                   httplib::MultipartFormDataItems{{"file", "%PDF-1.4 not media", "a.pdf", ""}}),
      415, "unsupported_media");
  EXPECT_EQ(CountBlobs(api), 0);
  EXPECT_EQ(CountTemporaries(api), 0);
  EXPECT_EQ(CountAssets(api), 0);
}

TEST_P(UploadTest, OverTheLimitIs413WithOrWithoutContentLengthAndStoresNothing) {
  std::string bytes = testing::ReadFile(samples_->H264AacMp4());
  testing::ApiServer api(
      GetParam(), [&](Config& c) { c.max_ingest_bytes = static_cast<int64_t>(bytes.size()) - 1; });
  ASSERT_TRUE(api.ok());
  auto client = api.Client();

  auto declared = client->Post("/api/v1/assets?name=big.mp4", bytes, "video/mp4");
  ExpectErrorCode(declared, 413, "payload_too_large");
  EXPECT_EQ(JsonOf(declared)["error"]["details"]["limit"], bytes.size() - 1);
  EXPECT_NE(declared->body.find("declares"), std::string::npos)
      << "refused on its Content-Length, before reading: " << declared->body;

  auto chunked = PostChunked(*api.Client(), "/api/v1/assets?name=big.mp4", bytes, "video/mp4");
  ExpectErrorCode(chunked, 413, "payload_too_large");
  EXPECT_NE(chunked->body.find("passed"), std::string::npos)
      << "cut off as it arrived: " << chunked->body;

  auto multipart = api.Client()->Post(
      "/api/v1/assets", httplib::MultipartFormDataItems{{"file", bytes, "big.mp4", "video/mp4"}});
  ExpectErrorCode(multipart, 413, "payload_too_large");
  EXPECT_EQ(CountBlobs(api), 0);
  EXPECT_EQ(CountTemporaries(api), 0);
  EXPECT_EQ(CountAssets(api), 0);

  // Within the limit, it goes in.
  std::string audio = testing::ReadFile(samples_->Mp3());
  ASSERT_LT(audio.size(), bytes.size());
  auto fits = PostChunked(*api.Client(), "/api/v1/assets?name=a.wav", audio, "audio/wav");
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 201) << fits->body;
}

TEST_P(UploadTest, AChunkedUploadIsIngestedAsItArrives) {
  testing::ApiServer api(GetParam(), {});
  ASSERT_TRUE(api.ok());
  std::string bytes = testing::ReadFile(samples_->Vp9OpusWebm());
  auto response = PostChunked(*api.Client(), "/api/v1/assets?name=clip.webm", bytes, "video/webm");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 201) << response->body;
  json asset = JsonOf(response)["asset"];
  EXPECT_EQ(asset["size_bytes"], bytes.size());
  EXPECT_EQ(asset["sha256"], HexLower(Sha256Of(bytes)));
  auto stored = blob::GetBytes(api.app().blobs(), asset["original"]["key"].get<std::string>());
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, bytes);
}

TEST_P(UploadTest, OwnersUploadForThemselvesAndSeeOnlyTheirOwnParents) {
  testing::ApiServer api(GetParam(), {}, WithTokens());
  ASSERT_TRUE(api.ok());
  std::string mp3 = testing::ReadFile(samples_->Mp3());
  ExpectErrorCode(api.Client()->Post("/api/v1/assets", mp3, "audio/mpeg"), 401, "unauthenticated");

  auto alice = api.Client("a")->Post("/api/v1/assets?name=a.mp3", mp3, "audio/mpeg");
  ASSERT_TRUE(alice);
  ASSERT_EQ(alice->status, 201) << alice->body;
  EXPECT_EQ(JsonOf(alice)["asset"]["owner"], "alice");
  std::string alices = JsonOf(alice)["asset"]["id"];

  // The same bytes are bob's own asset, not alice's.
  auto bob = api.Client("b")->Post("/api/v1/assets?name=b.mp3", mp3, "audio/mpeg");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->status, 201) << bob->body;
  EXPECT_EQ(JsonOf(bob)["asset"]["owner"], "bob");
  EXPECT_NE(JsonOf(bob)["asset"]["id"], alices);

  ExpectErrorCode(api.Client("b")->Post("/api/v1/assets?owner=alice", mp3, "audio/mpeg"), 403,
                  "permission_denied");
  // Alice's asset as bob's parent: not found for bob, and the upload leaves nothing.
  int blobs_before = CountBlobs(api);
  ExpectErrorCode(api.Client("b")->Post("/api/v1/assets?parent_id=" + alices,
                                        testing::ReadFile(samples_->Wav()), "audio/wav"),
                  404, "not_found");
  EXPECT_EQ(CountBlobs(api), blobs_before);
  EXPECT_EQ(CountAssets(api), 2);

  auto admin = api.Client("admin")->Post("/api/v1/assets?owner=carol&parent_id=" + alices,
                                         testing::ReadFile(samples_->Wav()), "audio/wav");
  ASSERT_TRUE(admin);
  ASSERT_EQ(admin->status, 201) << admin->body;
  EXPECT_EQ(JsonOf(admin)["asset"]["owner"], "carol");
  EXPECT_EQ(JsonOf(admin)["asset"]["parent_id"], alices);
}

// The server runs in this process: its resident memory must not grow with the upload.
TEST_P(UploadTest, ALargeUploadKeepsTheServersMemoryBounded) {
  if (testing::kFreedMemoryIsQuarantined) GTEST_SKIP() << "ASan holds freed memory";
  testing::ApiServer api(GetParam(), {});
  ASSERT_TRUE(api.ok());
  constexpr int64_t kSize = int64_t{200} << 20;
  testing::GeneratedWav wav(kSize);
  std::vector<std::byte> chunk(64 * 1024);
  auto client = api.Client();
  client->set_read_timeout(120);
  client->set_write_timeout(120);
  int64_t before = testing::ResidentKib();
  testing::ResidentPeak peak;
  auto response = client->Post(
      "/api/v1/assets?name=long.wav",
      [&](size_t, httplib::DataSink& sink) {
        auto n = wav.Read(chunk);
        if (!n || *n == 0) {
          sink.done();
          return n.has_value();
        }
        return sink.write(reinterpret_cast<const char*>(chunk.data()), *n);
      },
      "audio/wav");
  int64_t grown_kib = peak.Stop() - before;
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 201) << response->body;
  EXPECT_EQ(JsonOf(response)["asset"]["size_bytes"], kSize);
  EXPECT_LT(grown_kib, 32 * 1024) << "resident memory grew by " << grown_kib << " KiB";
}

INSTANTIATE_TEST_SUITE_P(Backends, UploadTest, ::testing::ValuesIn(testing::ApiBackends()),
                         testing::ApiBackendName);

}  // namespace
}  // namespace reprise::http
