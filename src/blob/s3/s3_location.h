// Where an S3 blob store lives, as one URL so one variable configures a worker:
//
//   s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION&path_style=true|false]
//
// - BUCKET: 3 to 63 lower-case letters, digits, '.' and '-' (S3's naming rules).
// - PREFIX: keys of this store live under "PREFIX/" in the bucket (a valid blob key, see
//   blob/keys.h; surrounding '/' are ignored). Empty: the whole bucket.
// - endpoint: http:// or https:// with host and optional port, no path (MinIO, radosgw,
//   R2: "https://ACCOUNT.r2.cloudflarestorage.com"). Default: AWS,
//   "https://s3.REGION.amazonaws.com".
// - region: the SigV4 signing region, default "us-east-1" (R2 wants "auto").
// - path_style: true addresses "ENDPOINT/BUCKET/KEY" (radosgw and MinIO without DNS
//   wildcards), false (the default) "BUCKET.ENDPOINT-HOST/KEY" as AWS prefers.
// Query values may be percent-encoded. An unknown parameter is an error, so a typo never
// silently falls back to AWS. Errors: kInvalidArgument naming the problem.
//
// Settings the URL leaves out may come from configuration (S3Settings). Credentials come
// from the environment's standard variables when not configured:
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (temporary credentials) AWS_SESSION_TOKEN.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "blob/s3/sigv4.h"
#include "core/error.h"

namespace reprise::blob::s3 {

struct S3Location {
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; may be empty
  std::string scheme = "https";
  std::string host;  // host[:port] of the endpoint, without the bucket
  std::string region = "us-east-1";
  bool path_style = false;

  // "http://127.0.0.1:7480/bucket" or "https://bucket.s3.us-east-1.amazonaws.com".
  std::string BucketUrl() const;
  // The Host header and the request path of an object key (raw, not encoded); the key ""
  // is the bucket itself.
  std::string HostHeader() const;
  std::string PathOf(std::string_view object_key) const;
  // "s3://bucket/prefix (http://127.0.0.1:7480, us-east-1, path style)"
  std::string Describe() const;
};

// What configuration gives beside the URL ([blob] in reprise.toml): empty fields are unset.
// Endpoint, region and path style fill in what the URL's query leaves out (the query wins);
// configured credentials (key id and secret both, or neither) beat the AWS_* variables.
struct S3Settings {
  std::string endpoint;
  std::string region;
  std::optional<bool> path_style;
  Credentials credentials;
};

[[nodiscard]] Result<S3Location> ParseS3Url(std::string_view url, const S3Settings& settings = {});

// Looks a variable up (std::getenv in production, a map in tests).
using EnvLookup = std::function<const char*(const char*)>;
// The AWS_* variables; kInvalidArgument naming what is missing when the key id or the
// secret is unset or empty.
[[nodiscard]] Result<Credentials> CredentialsFromEnvironment(const EnvLookup& env);
// The configured credentials when `settings` holds any, else the environment's;
// kInvalidArgument when only one of the key id and the secret is configured.
[[nodiscard]] Result<Credentials> ResolveCredentials(const S3Settings& settings,
                                                     const EnvLookup& env);

}  // namespace reprise::blob::s3
