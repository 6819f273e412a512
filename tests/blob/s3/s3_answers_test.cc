// How the S3 client reads answers: the XML walker (blob/s3/xml.h) on documents shaped like
// S3's, error bodies, and which answers are retried and what error each becomes.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "blob/s3/s3_client.h"
#include "blob/s3/xml.h"

namespace reprise::blob::s3 {
namespace {

TEST(S3Xml, WalksElementsByPathWithoutNamespaces) {
  const std::string document =
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      R"(<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
      "<IsTruncated>true</IsTruncated>"
      "<Contents><Key>a/b&amp;c</Key><Size>12</Size></Contents>"
      "<Contents><Key>z</Key><Size>0</Size></Contents>"
      "<NextContinuationToken>1/tok+=</NextContinuationToken>"
      "</ListBucketResult>";
  std::vector<std::string> seen;
  auto parsed = ParseXml(document, [&](std::string_view path, std::string_view text) {
    if (path == "ListBucketResult/Contents") {
      seen.push_back("end of contents");
    } else if (path != "ListBucketResult") {
      seen.push_back(std::string(path) + "=" + std::string(text));
    }
  });
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "ListBucketResult/IsTruncated=true", "ListBucketResult/Contents/Key=a/b&c",
                      "ListBucketResult/Contents/Size=12", "end of contents",
                      "ListBucketResult/Contents/Key=z", "ListBucketResult/Contents/Size=0",
                      "end of contents", "ListBucketResult/NextContinuationToken=1/tok+="}));
}

TEST(S3Xml, MalformedDocumentIsAnIoError) {
  auto parsed =
      ParseXml("<Error><Code>SlowDown</Error>", [](std::string_view, std::string_view) {});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::kIo);
  EXPECT_NE(parsed.error().message.find("malformed XML"), std::string::npos);
}

TEST(S3Xml, EscapesWhatElementsCannotHoldRaw) {
  EXPECT_EQ(XmlEscape(R"("etag"&<x>')"), "&quot;etag&quot;&amp;&lt;x&gt;&apos;");
}

TEST(S3Answers, ErrorBodyGivesCodeAndMessage) {
  S3ErrorBody error = ParseErrorBody(
      "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Reduce your request "
      "rate.</Message><RequestId>x</RequestId></Error>");
  EXPECT_EQ(error.code, "SlowDown");
  EXPECT_EQ(error.message, "Reduce your request rate.");
  EXPECT_EQ(ParseErrorBody("").code, "");
  EXPECT_EQ(ParseErrorBody("<Error><Code>cut off").code, "") << "unreadable: no code";
}

TEST(S3Answers, RetriesServerTroubleAndThrottlingOnly) {
  EXPECT_TRUE(IsRetryableAnswer(500, "InternalError"));
  EXPECT_TRUE(IsRetryableAnswer(503, "SlowDown"));
  EXPECT_TRUE(IsRetryableAnswer(503, ""));
  EXPECT_TRUE(IsRetryableAnswer(429, ""));
  EXPECT_TRUE(IsRetryableAnswer(400, "RequestTimeout"));
  EXPECT_TRUE(IsRetryableAnswer(200, "InternalError")) << "a completion failed inside a 200";
  EXPECT_FALSE(IsRetryableAnswer(403, "SignatureDoesNotMatch"));
  EXPECT_FALSE(IsRetryableAnswer(404, "NoSuchKey"));
  EXPECT_FALSE(IsRetryableAnswer(400, "BadDigest"));
  EXPECT_FALSE(IsRetryableAnswer(400, "EntityTooSmall"));
}

TEST(S3Answers, MapsAnswersToErrorCodes) {
  EXPECT_EQ(ErrorCodeOfAnswer(404, "NoSuchKey"), ErrorCode::kNotFound);
  EXPECT_EQ(ErrorCodeOfAnswer(404, "NoSuchBucket"), ErrorCode::kNotFound);
  EXPECT_EQ(ErrorCodeOfAnswer(403, "InvalidAccessKeyId"), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ErrorCodeOfAnswer(401, ""), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ErrorCodeOfAnswer(412, "PreconditionFailed"), ErrorCode::kConflict);
  EXPECT_EQ(ErrorCodeOfAnswer(409, "BucketNotEmpty"), ErrorCode::kConflict);
  EXPECT_EQ(ErrorCodeOfAnswer(503, "SlowDown"), ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorCodeOfAnswer(400, "RequestTimeout"), ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorCodeOfAnswer(400, "BadDigest"), ErrorCode::kIo);
}

}  // namespace
}  // namespace reprise::blob::s3
