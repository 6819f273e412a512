// GET /api/v1/assets, GET|DELETE /api/v1/assets/{id}, .../derivatives/{stage} and
// GET /api/v1/duplicates over real HTTP on loopback, with two owners' tokens and an admin.
#include <httplib.h>

#include <ctime>
#include <string>

#include <gtest/gtest.h>

#include "tests/api/api_fixture.h"

namespace reprise::testing {
namespace {

using nlohmann::json;

// Checks that `url` is the signed blob URL of `key` and that the server's signer accepts it,
// or (blobs on S3) a presigned GET of the key: plain curl fetches those in
// BlobUrlsServeTheBlobWithItsTypeToPlainCurlAndTamperedOnesAreRefused.
void ExpectSignedUrl(const http::BlobUrlSigner& signer, const json& url, const std::string& key) {
  ASSERT_TRUE(url.is_string()) << "no url for " << key;
  const std::string text = url.get<std::string>();
  if (text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0) {
    EXPECT_NE(text.find("/" + http::PercentEncodeKey(key) + "?"), std::string::npos) << text;
    EXPECT_NE(text.find("X-Amz-Signature="), std::string::npos) << text;
    return;
  }
  const std::string head = "/blobs/" + key + "?expires=";
  ASSERT_EQ(text.rfind(head, 0), 0u) << text;
  auto amp = text.find("&sig=", head.size());
  ASSERT_NE(amp, std::string::npos) << text;
  std::string expires = text.substr(head.size(), amp - head.size());
  std::string sig = text.substr(amp + 5);
  auto verified = signer.Verify(key, expires, sig);
  EXPECT_TRUE(verified) << text << ": " << verified.error().ToString();
  EXPECT_FALSE(signer.Verify(key + "x", expires, sig));
}

TEST_P(ApiTest, AssetListFiltersPagesAndScopesByOwner) {
  auto a = Ingest({samples_->Wav(), samples_->Mp3()}, "a");
  auto b = Ingest({samples_->PngImage()}, "b");

  json all = JsonOf(Get("/api/v1/assets"));
  ASSERT_EQ(all["items"].size(), 3u) << all.dump(2);
  EXPECT_TRUE(all["next_cursor"].is_null());

  json mine = JsonOf(Get("/api/v1/assets", "tokA"));
  ASSERT_EQ(mine["items"].size(), 2u);
  for (const auto& item : mine["items"]) EXPECT_EQ(item["owner"], "a");
  json theirs = JsonOf(Get("/api/v1/assets", "tokB"));
  ASSERT_EQ(theirs["items"].size(), 1u);
  EXPECT_EQ(theirs["items"][0]["id"], b[0]);

  // Admin narrowing; a non-admin cannot widen.
  json narrowed = JsonOf(Get("/api/v1/assets?owner=b"));
  ASSERT_EQ(narrowed["items"].size(), 1u);
  EXPECT_TRUE(HasStatus(Get("/api/v1/assets?owner=b", "tokA"), 403));
  EXPECT_TRUE(HasStatus(Get("/api/v1/assets?owner=a", "tokA"), 200));

  // Filters and cursor paging.
  json first = JsonOf(Get("/api/v1/assets?kind=audio&limit=1"));
  ASSERT_EQ(first["items"].size(), 1u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  json second = JsonOf(
      Get("/api/v1/assets?kind=audio&limit=1&cursor=" + first["next_cursor"].get<std::string>()));
  ASSERT_EQ(second["items"].size(), 1u);
  EXPECT_TRUE(second["next_cursor"].is_null());
  EXPECT_EQ(first["items"][0]["id"], a[0]);
  EXPECT_EQ(second["items"][0]["id"], a[1]);
  json where = JsonOf(Get("/api/v1/assets?where=duration%20%3E%201.8"));
  ASSERT_EQ(where["items"].size(), 1u) << where.dump(2);  // the 2 s MP3, not the 1.5 s WAV
  EXPECT_EQ(where["items"][0]["id"], a[1]);
  json dated = JsonOf(Get("/api/v1/assets?created_after=2000-01-01&source=scan"));
  EXPECT_EQ(dated["items"].size(), 3u);

  // Nothing matches: the reason comes along.
  json none = JsonOf(Get("/api/v1/assets?status=ready", "tokB"));
  EXPECT_TRUE(none["items"].empty());
  ASSERT_EQ(none["empty_selection"].size(), 1u) << none.dump(2);
  EXPECT_EQ(none["empty_selection"][0]["filter"], "--status");
  EXPECT_EQ(none["empty_selection"][0]["present"], json({{"pending", 1}}));
}

TEST_P(ApiTest, AssetListRefusesMalformedQueriesNamingTheParameter) {
  Ingest({samples_->Wav()}, "a");
  struct Case {
    std::string query;
    std::string named;
  };
  for (const auto& c : std::vector<Case>{{"status=done", "query parameter 'status'"},
                                         {"kind=smell", "query parameter 'kind'"},
                                         {"source=ftp", "query parameter 'source'"},
                                         {"created_after=yesterday", "'created_after'"},
                                         {"created_before=2020-13-45", "'created_before'"},
                                         {"where=duration%20%3E", "query parameter 'where'"},
                                         {"limit=0", "query parameter 'limit'"},
                                         {"limit=1001", "query parameter 'limit'"},
                                         {"limit=ten", "query parameter 'limit'"},
                                         {"lmit=5", "query parameter 'lmit'"},
                                         {"status=ready&status=failed", "more than once"},
                                         {"cursor=zzz", "cursor"}}) {
    auto response = Get("/api/v1/assets?" + c.query);
    EXPECT_TRUE(HasStatus(response, 400)) << c.query;
    EXPECT_NE(Message(response).find(c.named), std::string::npos)
        << c.query << ": " << Message(response);
  }
  EXPECT_TRUE(HasStatus(Get("/api/v1/assets", "nobody"), 401));
  EXPECT_TRUE(HasStatus(Get("/api/v1/assets", ""), 401));
}

TEST_P(ApiTest, AnAssetShowsItsDerivativesWithSignedUrls) {
  auto ids = Ingest({samples_->H264AacMp4()}, "a", /*process=*/true);
  ASSERT_EQ(ids.size(), 1u);
  const std::string path = "/api/v1/assets/" + ids[0];
  auto response = Get(path, "tokA");
  ASSERT_TRUE(HasStatus(response, 200));
  json doc = JsonOf(response);
  EXPECT_EQ(doc["status"], "ready");
  EXPECT_TRUE(doc["error"].is_null());
  EXPECT_TRUE(doc["probe"].is_object()) << doc["probe"].dump();
  const auto& signer = *api_.context().signer;
  ExpectSignedUrl(signer, doc["asset"]["original"]["url"],
                  doc["asset"]["original"]["key"].get<std::string>());
  int files = 0;
  for (const auto& stage : doc["derivatives"]) {
    EXPECT_TRUE(stage.contains("status"));
    for (const char* which : {"current", "latest"}) {
      if (stage[which].is_null()) continue;
      EXPECT_TRUE(stage[which].contains("state"));
      for (const auto& blob : stage[which]["blobs"]) {
        ExpectSignedUrl(signer, blob["url"], blob["key"].get<std::string>());
        ++files;
      }
    }
  }
  EXPECT_GT(files, 0);

  json thumbnail = JsonOf(Get(path + "/derivatives/thumbnail", "tokA"));
  EXPECT_EQ(thumbnail["stage"], "thumbnail");
  EXPECT_EQ(thumbnail["status"], "current");
  ASSERT_FALSE(thumbnail["current"]["blobs"].empty());
  ExpectSignedUrl(signer, thumbnail["current"]["blobs"][0]["url"],
                  thumbnail["current"]["blobs"][0]["key"].get<std::string>());
  EXPECT_TRUE(HasStatus(Get(path + "/derivatives/nope", "tokA"), 404));

  // Another owner's id is not found, never forbidden.
  EXPECT_TRUE(HasStatus(Get(path, "tokB"), 404));
  EXPECT_TRUE(HasStatus(Get(path + "/derivatives/thumbnail", "tokB"), 404));
  EXPECT_TRUE(HasStatus(Get("/api/v1/assets/no-such-asset"), 404));
  EXPECT_TRUE(HasStatus(Get(path + "?verbose=1", "tokA"), 400));
}

// The server keeps built documents; what it sends must still follow every change, also
// one made behind its back (a worker process writing to the same catalog).
TEST_P(ApiTest, AKeptDocumentFollowsEveryChangeOfTheAsset) {
  auto ids = Ingest({samples_->H264AacMp4()}, "a", /*process=*/true);
  ASSERT_EQ(ids.size(), 1u);
  const std::string path = "/api/v1/assets/" + ids[0];
  auto first = Get(path, "tokA");
  ASSERT_TRUE(HasStatus(first, 200));
  const auto hits = api_.app().assets().document_cache_stats().hits;
  auto again = Get(path, "tokA");
  ASSERT_TRUE(HasStatus(again, 200));
  EXPECT_EQ(again->body, first->body);
  EXPECT_EQ(api_.app().assets().document_cache_stats().hits, hits + 1);
  // Kept or not, another owner's asset is not found.
  EXPECT_TRUE(HasStatus(Get(path, "tokB"), 404));
  // A client polling with the entity tag is told "not modified" while nothing changes.
  const std::string etag = first->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto poll = [&](const std::string& token) {
    return api_.Client(token)->Get(path, httplib::Headers{{"If-None-Match", etag}});
  };
  auto unchanged = poll("tokA");
  ASSERT_TRUE(HasStatus(unchanged, 304));
  EXPECT_TRUE(unchanged->body.empty());
  EXPECT_TRUE(HasStatus(poll("tokB"), 404));  // the tag opens nothing to another owner

  // A failed attempt of a newer thumbnail recipe, recorded straight in the catalog.
  catalog::Catalog& catalog = api_.app().catalog();
  auto started =
      catalog.StartDerivative(ids[0], "thumbnail", 99, "newer-recipe", nlohmann::json::object());
  ASSERT_TRUE(started) << started.error().ToString();
  catalog::DerivativeOutcome failed;
  failed.state = catalog::DerivativeState::kFailed;
  failed.error = Error{ErrorCode::kIo, "disk on fire", {}};
  ASSERT_TRUE(catalog.CompleteDerivative(*started, failed));
  auto thumbnail_of = [](const json& doc) {
    for (const auto& stage : doc["derivatives"]) {
      if (stage["stage"] == "thumbnail") return stage;
    }
    return json();
  };
  json before = thumbnail_of(JsonOf(first));
  json after = thumbnail_of(JsonOf(Get(path, "tokA")));
  ASSERT_TRUE(after.is_object());
  EXPECT_EQ(after["latest"]["recipe"], "newer-recipe") << after.dump();
  EXPECT_EQ(after["latest"]["error"]["message"], "disk on fire");
  EXPECT_EQ(after["history"].size(), before["history"].size() + 1);
  auto changed = poll("tokA");
  ASSERT_TRUE(HasStatus(changed, 200));
  EXPECT_NE(changed->get_header_value("ETag"), etag);

  ASSERT_TRUE(catalog.SetAssetStatus(ids[0], catalog::AssetStatus::kFailed));
  EXPECT_EQ(JsonOf(Get(path, "tokA"))["status"], "failed");

  // Deleted: gone at once, not served from what was kept.
  ASSERT_TRUE(HasStatus(Delete(path, "tokA"), 200));
  EXPECT_TRUE(HasStatus(Get(path, "tokA"), 404));
}

TEST_P(ApiTest, AnImportIdIsAnsweredThroughTheImportSeam) {
  api_.context().import_status =
      [](const services::Caller& caller,
         const std::string& id) -> Result<std::optional<nlohmann::json>> {
    if (id == "imp_1" && caller.Sees("a")) {
      return std::optional<nlohmann::json>(json{{"id", id}, {"status", "importing"}});
    }
    return std::optional<nlohmann::json>();
  };
  json importing = JsonOf(Get("/api/v1/assets/imp_1", "tokA"));
  EXPECT_EQ(importing["status"], "importing");
  EXPECT_TRUE(HasStatus(Get("/api/v1/assets/imp_1", "tokB"), 404));
  EXPECT_TRUE(HasStatus(Get("/api/v1/assets/imp_2", "tokA"), 404));
}

TEST_P(ApiTest, DeletingAnAssetRemovesItsFilesAndIsRefusedWhileItRuns) {
  auto a = Ingest({samples_->H264AacMp4()}, "a", /*process=*/true);
  auto b = Ingest({samples_->H264AacMp4()}, "b");  // same content, a queued job
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  json shown = JsonOf(Get("/api/v1/assets/" + a[0]));
  const std::string original = shown["asset"]["original"]["key"];

  EXPECT_TRUE(HasStatus(Delete("/api/v1/assets/" + a[0], "tokB"), 404));
  catalog::ClaimRequest claim;
  claim.worker_id = "w";
  auto running = api_.app().catalog().ClaimJobs(claim);
  ASSERT_TRUE(running && running->size() == 1u);
  auto refused = Delete("/api/v1/assets/" + b[0], "tokB");
  EXPECT_TRUE(HasStatus(refused, 409));
  EXPECT_NE(Message(refused).find("running job"), std::string::npos) << Message(refused);
  ASSERT_TRUE(api_.app().catalog().FinishJob(running->at(0).id, "w", {}));

  auto deleted = Delete("/api/v1/assets/" + a[0], "tokA");
  ASSERT_TRUE(HasStatus(deleted, 200));
  json body = JsonOf(deleted);
  EXPECT_EQ(body["id"], a[0]);
  EXPECT_EQ(body["original_kept"], true);
  EXPECT_GT(body["blobs_deleted"].get<int64_t>(), 0);
  EXPECT_TRUE(HasStatus(Get("/api/v1/assets/" + a[0], "tokA"), 404));
  EXPECT_TRUE(api_.app().blobs().Exists(original).value_or(false));
  EXPECT_TRUE(HasStatus(Delete("/api/v1/assets/" + a[0], "tokA"), 404));

  ASSERT_TRUE(HasStatus(Delete("/api/v1/assets/" + b[0], "tokB"), 200));
  EXPECT_FALSE(api_.app().blobs().Exists(original).value_or(true));
}

TEST_P(ApiTest, DuplicatesAreScopedAndTheThresholdChecked) {
  json report = JsonOf(Get("/api/v1/duplicates?threshold=0.9", "tokA"));
  EXPECT_EQ(report["threshold"], 0.9);
  EXPECT_EQ(report["groups"], json::array());
  EXPECT_TRUE(HasStatus(Get("/api/v1/duplicates?owner=b", "tokA"), 403));
  for (const char* bad : {"threshold=2", "threshold=abc", "threshold=0", "min=3"}) {
    auto response = Get(std::string("/api/v1/duplicates?") + bad);
    EXPECT_TRUE(HasStatus(response, 400)) << bad;
  }
  EXPECT_NE(Message(Get("/api/v1/duplicates?threshold=2")).find("'threshold'"), std::string::npos);
}

// What plain curl (no reprise code) gets from a URL: status, Content-Type and body.
struct Fetched {
  std::string status_and_type;  // "200 image/jpeg"
  std::string body;
};
Fetched CurlFetch(const ApiServer& api, const std::string& url) {
  const std::string absolute = url.rfind("/", 0) == 0 ? api.base_url() + url : url;
  const std::string out = api.dir().Join("fetched");
  auto result =
      RunCommand({"curl", "-sS", "-o", out, "-w", "%{http_code} %{content_type}", "--", absolute});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return {result.out, ReadFile(out)};
}

// The blob URLs of an answer are fetched by a client holding nothing but the URL: from this
// server (blob directory) or from radosgw itself (S3 presigned GETs), each with its bytes
// and its type; one character changed and the server that serves it refuses it.
TEST_P(ApiTest, BlobUrlsServeTheBlobWithItsTypeToPlainCurlAndTamperedOnesAreRefused) {
  auto ids = Ingest({samples_->H264AacMp4()}, "a", /*process=*/true);
  ASSERT_EQ(ids.size(), 1u);
  json doc = JsonOf(Get("/api/v1/assets/" + ids[0], "tokA"));
  const bool on_s3 = GetParam().name == "postgres_s3";

  json thumbnail = JsonOf(Get("/api/v1/assets/" + ids[0] + "/derivatives/thumbnail", "tokA"));
  ASSERT_FALSE(thumbnail["current"]["blobs"].empty()) << thumbnail.dump();
  const json& thumb = thumbnail["current"]["blobs"][0];
  const std::string thumb_url = thumb["url"].get<std::string>();
  EXPECT_EQ(thumb_url.rfind("http://", 0) == 0, on_s3) << thumb_url;
  Fetched fetched = CurlFetch(api_, thumb_url);
  EXPECT_EQ(fetched.status_and_type, "200 image/jpeg");
  auto stored = blob::GetBytes(api_.blobs(), thumb["key"].get<std::string>());
  ASSERT_TRUE(stored) << stored.error().ToString();
  EXPECT_EQ(fetched.body, *stored);

  const json& original = doc["asset"]["original"];
  Fetched original_fetched = CurlFetch(api_, original["url"].get<std::string>());
  // The directory store keeps no types and the /blobs route types by extension (originals
  // have none); S3 serves the type the upload gave the object.
  EXPECT_EQ(original_fetched.status_and_type,
            on_s3 ? "200 video/mp4" : "200 application/octet-stream");
  EXPECT_EQ(original_fetched.body, ReadFile(samples_->H264AacMp4()));

  std::string tampered = thumb_url;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  Fetched refused = CurlFetch(api_, tampered);
  EXPECT_EQ(refused.status_and_type.substr(0, 3), "403") << refused.body;
  EXPECT_EQ(refused.body.find("JFIF"), std::string::npos);
}

// Every URL of one answer ends at the answer's shared expiry, and signing again within the
// step gives the same URL, so a kept document (ETag "rev-expires") stays true.
TEST_P(ApiTest, AnAnswersUrlsEndAtItsSharedExpiryAndAreStableWithinTheStep) {
  auto first = http::SignForAnswer(api_.context());
  ASSERT_TRUE(first) << first.error().ToString();
  auto url = first->sign("assets/x/thumbnail/1/thumb.jpg");
  ASSERT_TRUE(url) << url.error().ToString();
  const int64_t now = api_.app().clock().NowMicros() / 1'000'000;
  EXPECT_GE(first->expires, now + 3600);
  EXPECT_LT(first->expires, now + 3600 + 60);
  if (GetParam().name == "postgres_s3") {
    auto field = [&](const std::string& name) {
      size_t at = url->find(name + "=");
      EXPECT_NE(at, std::string::npos) << *url;
      size_t start = at + name.size() + 1;
      return url->substr(start, url->find('&', start) - start);
    };
    std::tm signed_tm{};
    ASSERT_TRUE(strptime(field("X-Amz-Date").c_str(), "%Y%m%dT%H%M%SZ", &signed_tm)) << *url;
    const int64_t signed_at = timegm(&signed_tm);
    EXPECT_LE(signed_at, now) << "never signed in the future";
    EXPECT_EQ(signed_at + std::stoll(field("X-Amz-Expires")), first->expires) << *url;
  } else {
    EXPECT_NE(url->find("expires=" + std::to_string(first->expires)), std::string::npos) << *url;
  }
  auto second = http::SignForAnswer(api_.context());
  ASSERT_TRUE(second);
  if (second->expires == first->expires) {  // not across a step boundary
    EXPECT_EQ(second->sign("assets/x/thumbnail/1/thumb.jpg").value_or(""), *url);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiTest, ::testing::ValuesIn(ApiBackends()), ApiBackendName);

}  // namespace
}  // namespace reprise::testing
