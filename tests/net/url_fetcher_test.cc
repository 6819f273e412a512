#include "net/url_fetcher.h"

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/fetch_server.h"
#include "tests/support/media_samples.h"
#include "tests/support/test_support.h"

namespace reprise::net {
namespace {

using testing::FetchServer;

constexpr int64_t kMiB = 1024 * 1024;

// Loopback is private: these tests allow the one address their server listens on.
FetchOptions LoopbackServer() {
  FetchOptions options;
  options.addresses.allowed_addresses = {"127.0.0.1"};
  options.total_timeout = std::chrono::seconds(30);
  return options;
}

struct Collected {
  std::string body;
  Result<FetchResult> result = Fail(ErrorCode::kInternal, "not run");
};

Collected FetchAll(const FetchOptions& options, const std::string& url) {
  Collected out;
  UrlFetcher fetcher(options);
  out.result = fetcher.Fetch(url, [&](std::span<const std::byte> chunk) {
    out.body.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return true;
  });
  return out;
}

class UrlFetcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { samples_ = new testing::MediaSamples(); }
  static void TearDownTestSuite() {
    delete samples_;
    samples_ = nullptr;
  }
  static testing::MediaSamples* samples_;
  FetchServer server_;
};
testing::MediaSamples* UrlFetcherTest::samples_ = nullptr;

TEST_F(UrlFetcherTest, StreamsGeneratedMediaIntoTheSink) {
  std::string media = testing::ReadFile(samples_->H264AacMp4());
  server_.AddFile("clip.mp4", media);
  auto got = FetchAll(LoopbackServer(), server_.Url("/files/clip.mp4"));
  ASSERT_TRUE(got.result) << got.result.error().ToString();
  EXPECT_EQ(got.result->status, 200);
  EXPECT_EQ(got.result->content_length, static_cast<int64_t>(media.size()));
  EXPECT_EQ(got.result->bytes, static_cast<int64_t>(media.size()));
  EXPECT_EQ(got.body, media);
}

TEST_F(UrlFetcherTest, ANotFoundSaysTheStatusAndTheUrl) {
  auto got = FetchAll(LoopbackServer(), server_.Url("/missing"));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(got.result.error().message, "http 404 from " + server_.Url("/missing"));
  EXPECT_EQ(got.result.error().origin, "http:404");
  EXPECT_TRUE(got.body.empty());
}

TEST_F(UrlFetcherTest, ARedirectLoopStopsAfterFiveRedirects) {
  auto got = FetchAll(LoopbackServer(), server_.Url("/loop"));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(got.result.error().message.find("more than 5 redirects"), std::string::npos)
      << got.result.error().message;
  EXPECT_EQ(server_.requests(), 6);
}

TEST_F(UrlFetcherTest, RedirectsAreFollowedAndEachTargetIsCheckedAgain) {
  server_.AddFile("a", "hello");
  auto followed = FetchAll(LoopbackServer(), server_.Url("/redirect?to=/files/a"));
  ASSERT_TRUE(followed.result) << followed.result.error().ToString();
  EXPECT_EQ(followed.body, "hello");
  EXPECT_EQ(followed.result->redirects, 1);
  EXPECT_EQ(followed.result->final_url, server_.Url("/files/a"));

  // 127.0.0.2 is loopback too, and not the one address allowed.
  std::string other = "http://127.0.0.2:" + std::to_string(server_.port()) + "/files/a";
  int before = server_.requests();
  auto refused = FetchAll(LoopbackServer(), server_.Url("/redirect?to=" + other));
  ASSERT_FALSE(refused.result);
  EXPECT_EQ(refused.result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.result.error().message.find("refused to connect to 127.0.0.2 (loopback"),
            std::string::npos)
      << refused.result.error().message;
  EXPECT_EQ(server_.requests(), before + 1);

  auto ftp = FetchAll(LoopbackServer(), server_.Url("/redirect?to=ftp://127.0.0.1/a"));
  ASSERT_FALSE(ftp.result);
  EXPECT_NE(ftp.result.error().message.find("only http and https"), std::string::npos)
      << ftp.result.error().message;
}

TEST_F(UrlFetcherTest, LoopbackIsRefusedBeforeAnyByteIsSent) {
  server_.AddFile("a", "secret");
  FetchOptions options;  // the default policy: no private address at all
  const std::string port = std::to_string(server_.port());
  for (const std::string& url :
       {server_.Url("/files/a"), "http://localhost:" + port + "/files/a",
        "http://2130706433:" + port + "/files/a", "http://[::ffff:127.0.0.1]:" + port + "/files/a",
        "http://127.1:" + port + "/files/a"}) {
    auto got = FetchAll(options, url);
    ASSERT_FALSE(got.result) << url;
    EXPECT_EQ(got.result.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_NE(got.result.error().message.find("(loopback address)"), std::string::npos)
        << got.result.error().message;
    EXPECT_NE(got.result.error().message.find("allow_private_addresses"), std::string::npos);
    EXPECT_TRUE(got.body.empty());
  }
  EXPECT_EQ(server_.requests(), 0);

  options.addresses.allow_private_addresses = true;
  auto allowed = FetchAll(options, "http://localhost:" + port + "/files/a");
  if (allowed.result) {
    EXPECT_EQ(allowed.body, "secret");
  } else {
    // localhost may resolve to ::1 only, where this server does not listen; it was
    // still tried, which is the point.
    EXPECT_EQ(allowed.result.error().code, ErrorCode::kUnavailable);
  }
}

TEST_F(UrlFetcherTest, ASlowTricklePastTheTotalTimeoutIsCutOff) {
  FetchOptions options = LoopbackServer();
  options.total_timeout = std::chrono::seconds(1);
  auto got = FetchAll(options, server_.Url("/slow"));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(got.result.error().message.find("timed out fetching"), std::string::npos)
      << got.result.error().message;
  EXPECT_EQ(got.result.error().origin, "curl:28");
}

TEST_F(UrlFetcherTest, ATrickleBelowTheLowSpeedLimitIsCutOff) {
  FetchOptions options = LoopbackServer();
  options.low_speed_bytes = 1000;
  options.low_speed_seconds = std::chrono::seconds(1);
  auto got = FetchAll(options, server_.Url("/slow"));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(got.result.error().message.find("too slow"), std::string::npos)
      << got.result.error().message;
}

TEST_F(UrlFetcherTest, ABodyOverTheLimitWithContentLengthIsRefusedBeforeItsBody) {
  FetchOptions options = LoopbackServer();
  options.max_bytes = kMiB;
  auto got = FetchAll(options, server_.Url("/big?bytes=" + std::to_string(2 * kMiB)));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(got.result.error().message.find("larger than the limit of 1048576 bytes"),
            std::string::npos)
      << got.result.error().message;
  EXPECT_TRUE(got.body.empty());

  auto exact = FetchAll(options, server_.Url("/big?bytes=" + std::to_string(kMiB)));
  ASSERT_TRUE(exact.result) << exact.result.error().ToString();
  EXPECT_EQ(exact.body.size(), static_cast<size_t>(kMiB));
}

TEST_F(UrlFetcherTest, ABodyOverTheLimitWithoutContentLengthStopsAsItPassesTheLimit) {
  FetchOptions options = LoopbackServer();
  options.max_bytes = kMiB;
  auto got = FetchAll(options, server_.Url("/big-chunked?bytes=" + std::to_string(8 * kMiB)));
  ASSERT_FALSE(got.result);
  EXPECT_EQ(got.result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(got.result.error().message.find("larger than the limit"), std::string::npos);
  EXPECT_LE(got.body.size(), static_cast<size_t>(kMiB));

  auto exact = FetchAll(options, server_.Url("/big-chunked?bytes=" + std::to_string(kMiB)));
  ASSERT_TRUE(exact.result) << exact.result.error().ToString();
  EXPECT_EQ(exact.result->content_length, -1);
  EXPECT_EQ(exact.body.size(), static_cast<size_t>(kMiB));
}

TEST_F(UrlFetcherTest, ASinkThatStopsCancelsTheDownload) {
  UrlFetcher fetcher(LoopbackServer());
  auto got = fetcher.Fetch(server_.Url("/big?bytes=100000"),
                           [](std::span<const std::byte>) { return false; });
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kCancelled);
}

TEST_F(UrlFetcherTest, NoProxyIsTakenFromTheEnvironment) {
  server_.AddFile("a", "direct");
  // A proxy that does not exist: using it would fail the fetch.
  ::setenv("http_proxy", "http://127.0.0.1:9", 1);
  ::setenv("ALL_PROXY", "http://127.0.0.1:9", 1);
  auto got = FetchAll(LoopbackServer(), server_.Url("/files/a"));
  ::unsetenv("http_proxy");
  ::unsetenv("ALL_PROXY");
  ASSERT_TRUE(got.result) << got.result.error().ToString();
  EXPECT_EQ(got.body, "direct");
}

TEST(CheckFetchUrl, RefusesOtherSchemesBadHostsAndPrivateLiterals) {
  FetchOptions options;
  struct Case {
    std::string url;
    std::string says;
  };
  for (const auto& [url, says] : std::vector<Case>{
           {"ftp://example.com/a.mp4", "only http and https"},
           {"file:///etc/passwd", "only http and https"},
           {"gopher://example.com/", "only http and https"},
           {"", "empty"},
           {"not a url", "not a valid URL"},
           {"http://exa_mple..com/a", "invalid host"},
           {"http://-/a", ""},
           {"http://169.254.169.254/latest/meta-data/", "(link-local address)"},
           {"http://[::1]:8080/", "(loopback address)"},
           {"http://[fd00::1]/", "(private address)"},
           {"http://10.0.0.1/", "(private address)"},
           {"http://100.64.1.1/", "(shared (CGNAT) address)"},
           {"http://0.0.0.0/", "(unspecified address)"},
           {"http://[::ffff:169.254.169.254]/", "(link-local address)"},
       }) {
    auto checked = CheckFetchUrl(url, options);
    ASSERT_FALSE(checked) << url;
    EXPECT_EQ(checked.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_NE(checked.error().message.find(says), std::string::npos)
        << url << ": " << checked.error().message;
  }
  auto good = CheckFetchUrl("HTTPS://Example.com/a%20b.mp4?x=1", options);
  ASSERT_TRUE(good) << good.error().ToString();
  EXPECT_EQ(*good, "https://Example.com/a%20b.mp4?x=1");
  options.addresses.allow_private_addresses = true;
  EXPECT_TRUE(CheckFetchUrl("http://10.0.0.1/", options));
}

}  // namespace
}  // namespace reprise::net
