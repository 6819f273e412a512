// GET /blobs/{key} over real HTTP on loopback: signed URLs checked, bytes streamed from a
// real blob directory, Range, ETag / If-None-Match and Content-Type.
#include <httplib.h>

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "http/blob_url_signer.h"
#include "tests/support/api_server.h"

namespace reprise::http {
namespace {

using testing::JsonOf;

const std::string kSecret = "0123456789abcdef0123456789abcdef-blobs-test";

class BlobRouteTest : public ::testing::TestWithParam<testing::ApiBackend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(api_.ok());
    for (int i = 0; i < 1000; ++i) bytes_ += static_cast<char>('a' + i % 26);
    ASSERT_TRUE(blob::PutBytes(api_.app().blobs(), kKey, bytes_));
  }

  std::string Url(const std::string& key) {
    auto url = api_.context().signer->Sign(key);
    EXPECT_TRUE(url) << url.error().ToString();
    return url.value_or("");
  }
  httplib::Result Get(const std::string& path, httplib::Headers headers = {}) {
    return api_.Client()->Get(path.c_str(), headers);
  }

  static constexpr const char* kKey = "assets/a1/thumbnail/7/file name.bin";
  testing::ApiServer api_{GetParam(), [](Config& c) { c.server.url_secret = kSecret; }};
  std::string bytes_;
};

TEST_P(BlobRouteTest, ASignedUrlServesTheWholeBlobWithItsHeaders) {
  std::string url = Url(kKey);
  EXPECT_NE(url.find("file%20name.bin"), std::string::npos) << url;
  auto response = Get(url);
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->body, bytes_);
  EXPECT_EQ(response->get_header_value("Content-Length"), std::to_string(bytes_.size()));
  EXPECT_EQ(response->get_header_value("Accept-Ranges"), "bytes");
  EXPECT_EQ(response->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_FALSE(response->get_header_value("ETag").empty());
}

TEST_P(BlobRouteTest, TamperedOrMalformedUrlsAreRefused) {
  std::string url = Url(kKey);
  auto sig_at = url.find("sig=") + 4;
  std::string tampered = url;
  tampered[sig_at] = tampered[sig_at] == 'A' ? 'B' : 'A';
  auto response = Get(tampered);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 403);
  EXPECT_EQ(JsonOf(response)["error"]["code"], "permission_denied");

  // The signature of one key does not open another.
  std::string other = url;
  other.replace(other.find("a1"), 2, "a2");
  ASSERT_TRUE(blob::PutBytes(api_.app().blobs(), "assets/a2/thumbnail/7/file name.bin", "x"));
  auto moved = Get(other);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 403);

  // A later expiry with the old signature.
  std::string extended = url;
  auto expires_at = extended.find("expires=") + 8;
  extended[expires_at] = extended[expires_at] == '9' ? '8' : '9';
  auto longer = Get(extended);
  ASSERT_TRUE(longer);
  EXPECT_EQ(longer->status, 403);

  for (const std::string& bad : {std::string("/blobs/") + "assets/a1/x.bin",
                                 url.substr(0, url.find("&sig=")) + "&sig=short"}) {
    auto malformed = Get(bad);
    ASSERT_TRUE(malformed);
    EXPECT_EQ(malformed->status, 400) << bad;
    EXPECT_EQ(JsonOf(malformed)["error"]["code"], "invalid_argument");
  }
}

// Signed by this server's secret over a clock an hour behind: its URL ran out before the
// server's clock, and the server says so.
TEST_P(BlobRouteTest, AnExpiredUrlIs403SayingExpired) {
  FakeClock past(api_.app().clock().NowMicros() - int64_t{3600} * 1'000'000);
  auto signer = BlobUrlSigner::Create(kSecret, past);
  ASSERT_TRUE(signer);
  auto url = (*signer)->Sign(kKey, std::chrono::seconds(60));
  ASSERT_TRUE(url);
  auto response = Get(*url);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 403);
  EXPECT_NE(JsonOf(response)["error"]["message"].get<std::string>().find("expired"),
            std::string::npos)
      << response->body;

  // The same signer with a ttl that reaches past now is accepted: only time differs.
  auto fresh = (*signer)->Sign(kKey, std::chrono::hours(2));
  ASSERT_TRUE(fresh);
  auto ok = Get(*fresh);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_P(BlobRouteTest, AMissingBlobWithAValidSignatureIs404) {
  auto response = Get(Url("assets/a1/thumbnail/7/gone.jpg"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(JsonOf(response)["error"]["code"], "not_found");
}

TEST_P(BlobRouteTest, RangesServeTheBytesAskedFor) {
  std::string url = Url(kKey);
  struct Case {
    std::string range;
    size_t first;
    size_t length;
  };
  for (const Case& c : {Case{"bytes=0-9", 0, 10}, Case{"bytes=-5", 995, 5},
                        Case{"bytes=990-", 990, 10}, Case{"bytes=100-5000", 100, 900}}) {
    auto response = Get(url, {{"Range", c.range}});
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 206) << c.range;
    EXPECT_EQ(response->body, bytes_.substr(c.first, c.length)) << c.range;
    EXPECT_EQ(
        response->get_header_value("Content-Range"),
        "bytes " + std::to_string(c.first) + "-" + std::to_string(c.first + c.length - 1) + "/1000")
        << c.range;
    EXPECT_EQ(response->get_header_value("Content-Length"), std::to_string(c.length));
  }

  auto unsatisfiable = Get(url, {{"Range", "bytes=1000-"}});
  ASSERT_TRUE(unsatisfiable);
  EXPECT_EQ(unsatisfiable->status, 416);
  EXPECT_EQ(unsatisfiable->get_header_value("Content-Range"), "bytes */1000");
  EXPECT_EQ(JsonOf(unsatisfiable)["error"]["code"], "range_not_satisfiable");

  // Several ranges: the whole blob (never multipart/byteranges).
  auto several = Get(url, {{"Range", "bytes=0-1,4-5"}});
  ASSERT_TRUE(several);
  EXPECT_EQ(several->status, 200);
  EXPECT_EQ(several->body, bytes_);
  EXPECT_EQ(several->get_header_value("Content-Type"), "application/octet-stream");
}

TEST_P(BlobRouteTest, IfNoneMatchWithTheETagIs304) {
  std::string url = Url(kKey);
  auto first = Get(url);
  ASSERT_TRUE(first);
  std::string etag = first->get_header_value("ETag");
  ASSERT_EQ(etag.front(), '"');
  auto again = Get(url);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get_header_value("ETag"), etag) << "stable";

  for (const std::string& header : {etag, "\"other\", " + etag, "W/" + etag, std::string("*")}) {
    auto cached = Get(url, {{"If-None-Match", header}});
    ASSERT_TRUE(cached);
    EXPECT_EQ(cached->status, 304) << header;
    EXPECT_TRUE(cached->body.empty());
    EXPECT_EQ(cached->get_header_value("ETag"), etag);
  }
  auto stale = Get(url, {{"If-None-Match", "\"something-else\""}});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 200);
  EXPECT_EQ(stale->body, bytes_);

  // Another blob has another tag.
  ASSERT_TRUE(blob::PutBytes(api_.app().blobs(), "assets/a1/thumbnail/7/other.bin", bytes_));
  auto other = Get(Url("assets/a1/thumbnail/7/other.bin"));
  ASSERT_TRUE(other);
  EXPECT_NE(other->get_header_value("ETag"), etag);
}

TEST_P(BlobRouteTest, HlsPlaylistsSegmentsAndPicturesGetTheirContentType) {
  struct Case {
    std::string key;
    std::string type;
  };
  for (const Case& c : {Case{"assets/a1/hls/3/index.m3u8", "application/vnd.apple.mpegurl"},
                        Case{"assets/a1/hls/3/seg_00001.ts", "video/mp2t"},
                        Case{"assets/a1/thumbnail/2/thumb.jpg", "image/jpeg"}}) {
    ASSERT_TRUE(blob::PutBytes(api_.app().blobs(), c.key, "#EXTM3U\n"));
    auto response = Get(Url(c.key));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << c.key;
    EXPECT_EQ(response->get_header_value("Content-Type"), c.type) << c.key;
    EXPECT_EQ(response->body, "#EXTM3U\n");
  }
}

TEST_P(BlobRouteTest, HeadAnswersTheHeadersWithoutTheBody) {
  auto response = api_.Client()->Head(Url(kKey).c_str());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->get_header_value("Content-Length"), "1000");
  EXPECT_FALSE(response->get_header_value("ETag").empty());
  EXPECT_TRUE(response->body.empty());
}

// A blob larger than the route's 64 KiB pieces, whole and from the middle.
TEST_P(BlobRouteTest, ALargeBlobStreamsWholeAndInRanges) {
  std::string large;
  for (int i = 0; i < 300'000; ++i) large += static_cast<char>(i * 7 % 251);
  ASSERT_TRUE(blob::PutBytes(api_.app().blobs(), "originals/ab/large", large));
  std::string url = Url("originals/ab/large");
  auto whole = Get(url);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->body, large);
  auto middle = Get(url, {{"Range", "bytes=65000-200000"}});
  ASSERT_TRUE(middle);
  EXPECT_EQ(middle->status, 206);
  EXPECT_EQ(middle->body, large.substr(65000, 135001));
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobRouteTest, ::testing::ValuesIn(testing::ApiBackends()),
                         testing::ApiBackendName);

}  // namespace
}  // namespace reprise::http
