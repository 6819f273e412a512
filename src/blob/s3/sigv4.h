// AWS Signature Version 4, written by hand for S3-compatible stores (AWS S3, Cloudflare R2,
// MinIO, Ceph radosgw). Debian's libs3 signs with version 2 only, and curl's built-in
// CURLOPT_AWS_SIGV4 omits x-amz-content-sha256, which radosgw requires; so reprise signs.
//
// Two forms, both over one canonical request:
// - SignRequest(): the Authorization header. It also sets x-amz-date, x-amz-content-sha256
//   (the body's SHA-256 in lower hex, or UNSIGNED-PAYLOAD for a body streamed without a
//   hash) and x-amz-security-token when the credentials carry a session token; every
//   header of the request is signed.
// - PresignQuery(): query-string authentication (a presigned URL), with UNSIGNED-PAYLOAD
//   and only `host` signed, so a plain HTTP client can fetch it until it expires.
//
// S3's rules, not the generic service's: the path is percent-encoded once (every byte but
// the unreserved A-Z a-z 0-9 - . _ ~ and '/'), never normalised ("a//b" and "./" stay as
// they are, because they are part of an object's key). Paths and query parameters are
// given raw (not encoded); the functions encode them.
//
// Header values are trimmed and runs of spaces collapsed; a header repeated is signed as
// its values joined by ',' in the order given. Tested against AWS's published test suite
// and the S3 documentation's worked examples (tests/blob/s3/sigv4_test.cc).
// Thread-safety: every function is reentrant. No I/O, no clock: the caller passes the time.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/hash.h"

namespace reprise::blob::s3 {

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of no bytes, the payload hash of GET, HEAD and DELETE.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials (STS)
};

// Where a signature is valid: "us-east-1" and "s3" for most S3-compatible stores.
struct SigningScope {
  std::string region;
  std::string service = "s3";
};

using NameValues = std::vector<std::pair<std::string, std::string>>;

// One request as it will be sent. `path` and `query` are raw; `headers` must include Host.
struct SigV4Request {
  std::string method;
  std::string path = "/";
  NameValues query;
  NameValues headers;
  // The body's SHA-256 in lower hex, or kUnsignedPayload.
  std::string payload_hash = std::string(kEmptyPayloadSha256);
};

// RFC 3986 percent-encoding as SigV4 wants it: unreserved bytes kept, every other byte
// as %XX with upper-case hex; '/' kept when `keep_slash` (paths), encoded otherwise.
std::string UriEncode(std::string_view text, bool keep_slash);
// "20130524T000000Z", UTC.
std::string AmzDate(std::chrono::system_clock::time_point time);

// The parts of the signature, exposed so tests can compare each with published vectors.
std::string CanonicalQuery(const NameValues& query);
std::string CanonicalRequest(const SigV4Request& request);
// "host;range;x-amz-date": the request's header names, lower case, sorted, unique.
std::string SignedHeaderNames(const SigV4Request& request);
// "20130524/us-east-1/s3/aws4_request" for an amz_date of that day.
std::string CredentialScope(std::string_view amz_date, const SigningScope& scope);
std::string StringToSign(std::string_view amz_date, const SigningScope& scope,
                         std::string_view canonical_request);
Sha256Digest SigningKey(std::string_view secret_access_key, std::string_view amz_date,
                        const SigningScope& scope);
// Lower-hex signature of the request as it stands (headers are not added).
std::string Signature(const SigV4Request& request, const Credentials& credentials,
                      const SigningScope& scope, std::string_view amz_date);
// "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=…" for the request as it stands.
std::string AuthorizationHeader(const SigV4Request& request, const Credentials& credentials,
                                const SigningScope& scope, std::string_view amz_date);

// Adds x-amz-date, x-amz-content-sha256 (= payload_hash), x-amz-security-token (when the
// credentials have one) and then Authorization to `request.headers`.
void SignRequest(SigV4Request& request, const Credentials& credentials, const SigningScope& scope,
                 std::string_view amz_date);

// The encoded query string of a presigned URL for `request` (method, path, query and a Host
// header; other headers are not signed): the request's own parameters plus X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders=host,
// X-Amz-Security-Token when there is a session token, and X-Amz-Signature last.
// `expires` is 1 s to 7 days (S3's limit); callers check it.
std::string PresignQuery(const SigV4Request& request, const Credentials& credentials,
                         const SigningScope& scope, std::string_view amz_date,
                         std::chrono::seconds expires);

}  // namespace reprise::blob::s3
