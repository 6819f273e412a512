// SigV4 against published vectors: AWS's Signature Version 4 test suite (the cases whose
// rules S3 shares, in data/sigv4_test_suite.json) and the worked examples of the S3 API
// documentation (header signing and the presigned GET of examplebucket/test.txt).
#include "blob/s3/sigv4.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace reprise::blob::s3 {
namespace {

using nlohmann::json;

json LoadSuite() {
  std::ifstream in(std::string(REPRISE_S3_TEST_DATA) + "/sigv4_test_suite.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

NameValues Pairs(const json& list) {
  NameValues out;
  for (const auto& pair : list) {
    out.emplace_back(pair.at(0).get<std::string>(),
                     pair.size() > 1 ? pair.at(1).get<std::string>() : std::string());
  }
  return out;
}

TEST(SigV4, MatchesEveryApplicableCaseOfAwsTestSuite) {
  const json suite = LoadSuite();
  const Credentials credentials{suite["credentials"]["access_key_id"],
                                suite["credentials"]["secret_access_key"], ""};
  const SigningScope scope{suite["region"], suite["service"]};
  const std::string amz_date = suite["amz_date"];
  ASSERT_GE(suite["cases"].size(), 20u);
  for (const auto& test : suite["cases"]) {
    SCOPED_TRACE(test["name"].get<std::string>());
    SigV4Request request;
    request.method = test["method"];
    request.path = test["path"];
    request.query = Pairs(test["query"]);
    request.headers = Pairs(test["headers"]);
    request.payload_hash = HexLower(Sha256Of(test["body"].get<std::string>()));
    std::string canonical = CanonicalRequest(request);
    if (test.contains("creq")) {
      EXPECT_EQ(canonical, test["creq"].get<std::string>());
    }
    EXPECT_EQ(StringToSign(amz_date, scope, canonical), test["sts"].get<std::string>());
    EXPECT_EQ(AuthorizationHeader(request, credentials, scope, amz_date),
              test["authz"].get<std::string>());
  }
}

// The S3 documentation's examples all use these.
const Credentials kS3DocCredentials{"AKIAIOSFODNN7EXAMPLE",
                                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const SigningScope kS3DocScope{"us-east-1", "s3"};
constexpr char kS3DocDate[] = "20130524T000000Z";
constexpr char kS3DocHost[] = "examplebucket.s3.amazonaws.com";

// Signs like the client does and returns the Authorization header it added.
std::string SignedAuthorization(SigV4Request request) {
  SignRequest(request, kS3DocCredentials, kS3DocScope, kS3DocDate);
  EXPECT_EQ(request.headers.back().first, "Authorization");
  return request.headers.back().second;
}

std::string SignatureOf(const std::string& authorization) {
  return authorization.substr(authorization.rfind("Signature=") + 10);
}

TEST(SigV4, S3DocumentationGetObjectWithRange) {
  SigV4Request request{"GET", "/test.txt", {}, {{"Host", kS3DocHost}, {"Range", "bytes=0-9"}}};
  std::string authorization = SignedAuthorization(request);
  EXPECT_NE(authorization.find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date"),
            std::string::npos);
  EXPECT_EQ(SignatureOf(authorization),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3DocumentationPutObjectEncodesDollarAndSignsBodyHash) {
  SigV4Request request{"PUT",
                       "/test$file.text",
                       {},
                       {{"Host", kS3DocHost},
                        {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                        {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                       HexLower(Sha256Of("Welcome to Amazon S3."))};
  EXPECT_EQ(request.payload_hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(CanonicalRequest(request).substr(0, 22), "PUT\n/test%24file.text\n");
  EXPECT_EQ(SignatureOf(SignedAuthorization(request)),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, S3DocumentationGetBucketLifecycle) {
  SigV4Request request{"GET", "/", {{"lifecycle", ""}}, {{"Host", kS3DocHost}}};
  EXPECT_EQ(SignatureOf(SignedAuthorization(request)),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, S3DocumentationListObjectsSortsQuery) {
  SigV4Request request{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {{"Host", kS3DocHost}}};
  EXPECT_EQ(CanonicalQuery(request.query), "max-keys=2&prefix=J");
  EXPECT_EQ(SignatureOf(SignedAuthorization(request)),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, S3DocumentationPresignedGet) {
  SigV4Request request{"GET", "/test.txt", {}, {{"Host", kS3DocHost}}};
  std::string query = PresignQuery(request, kS3DocCredentials, kS3DocScope, kS3DocDate,
                                   std::chrono::seconds(86400));
  EXPECT_EQ("https://examplebucket.s3.amazonaws.com/test.txt?" + query,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, SessionTokenIsSignedInHeadersAndQuery) {
  Credentials with_token = kS3DocCredentials;
  with_token.session_token = "token/with+chars=";
  SigV4Request request{"GET", "/test.txt", {}, {{"Host", kS3DocHost}}};
  SigV4Request signed_request = request;
  SignRequest(signed_request, with_token, kS3DocScope, kS3DocDate);
  EXPECT_NE(signed_request.headers.back().second.find(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"),
            std::string::npos);
  std::string query =
      PresignQuery(request, with_token, kS3DocScope, kS3DocDate, std::chrono::seconds(60));
  EXPECT_NE(query.find("X-Amz-Security-Token=token%2Fwith%2Bchars%3D"), std::string::npos);
  EXPECT_NE(query.find("&X-Amz-Signature="), std::string::npos);
  // Without the token the signature differs: the token is part of what is signed.
  EXPECT_NE(SignatureOf(signed_request.headers.back().second),
            SignatureOf(SignedAuthorization(request)));
}

TEST(SigV4, UriEncodeKeepsUnreservedAndSlashOnlyInPaths) {
  EXPECT_EQ(UriEncode("A-z_0.9~", false), "A-z_0.9~");
  EXPECT_EQ(UriEncode("a b+c=d&e", false), "a%20b%2Bc%3Dd%26e");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("a/b", true), "a/b");
  EXPECT_EQ(UriEncode("100%", true), "100%25");
  EXPECT_EQ(UriEncode("\xe1\x88\xb4", true), "%E1%88%B4");
}

TEST(SigV4, PathsAreNotNormalisedForS3) {
  SigV4Request request{"GET", "/bucket//a/./b/../c", {}, {{"Host", "h"}}};
  EXPECT_EQ(CanonicalRequest(request).substr(0, 24), "GET\n/bucket//a/./b/../c\n");
}

TEST(SigV4, AmzDateIsUtcBasicFormat) {
  auto time = std::chrono::system_clock::time_point(std::chrono::seconds(1369353600));
  EXPECT_EQ(AmzDate(time), "20130524T000000Z");
}

}  // namespace
}  // namespace reprise::blob::s3
