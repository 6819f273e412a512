// S3Client: the S3 REST calls the blob store needs, over libcurl, signed with SigV4
// (blob/s3/sigv4.h) and retried. Keys here are whole object keys (the store's prefix
// already added); the client knows nothing of blobs.
//
// Retries: a call is retried with exponential backoff and full jitter (a delay drawn
// uniformly from [0, min(max_delay, base_delay * 2^(attempt-1)))) when the transport fails
// (connection refused or reset, timeouts, a transfer cut short), when S3 answers 5xx or
// 429, or when its error code is SlowDown, RequestTimeout or InternalError, up to
// `retry.max_attempts` attempts in all. Request bodies are in memory, so every attempt
// sends them whole again. A GET stream is not retried once its body has started: the
// caller resumes it with a Range (S3BlobStore's reader does).
//
// Errors, each naming the call, the key and S3's own error code and message:
//   kNotFound          404 (NoSuchKey, NoSuchBucket, NoSuchUpload)
//   kPermissionDenied  401/403 (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied)
//   kConflict          409, and 412 (the object changed under an If-Match)
//   kUnavailable       transport failures, 5xx, 429, SlowDown (after the last retry)
//   kIo                any other answer (400 BadDigest, EntityTooSmall, malformed XML)
// The origin is "http:STATUS" or "curl:CODE".
//
// Test seam: `fault_hook` sees every attempt before it is sent and may answer
// kConnectionReset, which cuts that attempt's connection for real — after half of its
// request body, or, for a call without a body, as the answer arrives — so retries are
// tested against a real server, not a mock.
// Thread-safety: an S3Client may be used from many threads at once (connections are pooled
// behind a mutex); an ObjectStream by one thread at a time. Constructing one does no I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "blob/s3/s3_location.h"
#include "blob/s3/sigv4.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"
#include "net/curl_handles.h"

namespace reprise::blob::s3 {

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{5'000};
};

// One attempt of one call, as the fault hook sees it.
struct S3Attempt {
  std::string_view operation;  // "PutObject", "UploadPart", "GetObject", ...
  std::string_view key;
  int part_number = 0;  // UploadPart only
  int attempt = 1;      // 1 for the first try of the call
};

enum class InjectedFault {
  kNone,
  kConnectionReset,
};

struct S3ClientOptions {
  S3Location location;
  Credentials credentials;
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer moving less than one byte a second for this long is cut off (and retried).
  std::chrono::seconds stall_timeout{60};
  // Signing time; the system clock when null. Must outlive the client.
  const Clock* clock = nullptr;
  // Retry jitter; one seeded from the operating system when null. Must outlive the client.
  Random* random = nullptr;
  // Tests only: see the top of this file.
  std::function<InjectedFault(const S3Attempt&)> fault_hook;
};

struct ObjectHead {
  int64_t size = 0;
  std::string etag;
  std::string content_type;
};

struct ObjectSummary {
  std::string key;
  int64_t size = 0;
};

struct ListPage {
  std::vector<ObjectSummary> objects;
  std::string next_continuation_token;  // empty on the last page
};

// The body of a GET as it arrives: Read() waits for bytes (at most about 1 MiB is buffered
// ahead of the reader; the transfer pauses beyond that). Read() returns 0 at the end;
// kUnavailable when the connection fails midway (resume with a new GetObject at an offset).
class ObjectStream {
 public:
  virtual ~ObjectStream() = default;
  [[nodiscard]] virtual Result<size_t> Read(std::span<std::byte> buffer) = 0;
  // Bytes this answer carries (the whole object, or from the offset asked for to its end).
  [[nodiscard]] virtual int64_t ContentLength() const = 0;
  [[nodiscard]] virtual const std::string& ETag() const = 0;
};

// How the client reads S3's answers, exposed for tests.
struct S3ErrorBody {
  std::string code;  // "SlowDown", "NoSuchKey", ...; empty when the body is no <Error>
  std::string message;
};
S3ErrorBody ParseErrorBody(std::string_view body);
// True for answers worth another attempt: 5xx, 429, and the codes SlowDown,
// RequestTimeout, InternalError and ServiceUnavailable whatever the status.
bool IsRetryableAnswer(int status, std::string_view s3_code);
// The ErrorCode of an unsuccessful answer (see the top of this file).
ErrorCode ErrorCodeOfAnswer(int status, std::string_view s3_code);

class S3Client final {
 public:
  explicit S3Client(S3ClientOptions options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // One PUT of a whole object, its SHA-256 signed (radosgw checks it: 400 on a mismatch).
  [[nodiscard]] Result<void> PutObject(std::string_view key, std::string_view body,
                                       std::string_view body_sha256_hex,
                                       std::string_view content_type);
  // Returns the upload id.
  [[nodiscard]] Result<std::string> CreateMultipartUpload(std::string_view key,
                                                          std::string_view content_type);
  // Returns the part's ETag, as CompleteMultipartUpload wants it.
  [[nodiscard]] Result<std::string> UploadPart(std::string_view key, std::string_view upload_id,
                                               int part_number, std::string_view body);
  // `etags` in part order (part numbers 1..N). S3 may report a failure inside a 200
  // answer; that is an error here too. When a retry finds the upload already gone
  // (NoSuchUpload: the earlier attempt completed but its answer was lost), the object is
  // accepted if it exists with `total_size` bytes.
  [[nodiscard]] Result<void> CompleteMultipartUpload(std::string_view key,
                                                     std::string_view upload_id,
                                                     const std::vector<std::string>& etags,
                                                     int64_t total_size);
  [[nodiscard]] Result<void> AbortMultipartUpload(std::string_view key, std::string_view upload_id);
  // nullopt when there is no such object.
  [[nodiscard]] Result<std::optional<ObjectHead>> HeadObject(std::string_view key);
  // Deleting a missing object succeeds (S3 answers 204 either way).
  [[nodiscard]] Result<void> DeleteObject(std::string_view key);
  // One page of the keys starting with `prefix`, in S3's (byte-wise) order.
  [[nodiscard]] Result<ListPage> ListObjectsV2(std::string_view prefix,
                                               std::string_view continuation_token,
                                               int max_keys = 1000);
  // The object from `offset` to its end (Range: bytes=offset-); with a non-empty
  // `if_match`, kConflict if the object is no longer that version. Opening is retried;
  // the body, once started, is not.
  [[nodiscard]] Result<std::unique_ptr<ObjectStream>> GetObject(std::string_view key,
                                                                int64_t offset,
                                                                std::string_view if_match);
  // Creates the location's bucket (tests and first-time setup); succeeds if it is already
  // ours. DeleteBucket() removes it once empty.
  [[nodiscard]] Result<void> CreateBucket();
  [[nodiscard]] Result<void> DeleteBucket();
  // The keys under `prefix` with a multipart upload in progress (at most 1,000): what an
  // abandoned upload would leave behind.
  [[nodiscard]] Result<std::vector<std::string>> ListMultipartUploads(std::string_view prefix);
  // A presigned GET URL signed at `signed_at` (Unix seconds) and valid for `expires` from
  // then (no I/O).
  [[nodiscard]] std::string PresignGetUrl(std::string_view key, int64_t signed_at,
                                          std::chrono::seconds expires) const;

  const S3Location& location() const { return options_.location; }

  struct Request;
  struct Response;

 private:
  Result<Response> Perform(const Request& request);
  Result<Response> PerformOnce(const Request& request, int attempt);
  net::CurlEasyPtr Acquire();
  void Release(net::CurlEasyPtr handle);
  std::chrono::milliseconds Backoff(int attempt);
  std::string Now() const;
  // Signs a request; returns the URL and the headers to send.
  std::pair<std::string, NameValues> Signed(const Request& request) const;

  S3ClientOptions options_;
  std::unique_ptr<Random> own_random_;
  std::mutex pool_mutex_;
  std::vector<net::CurlEasyPtr> pool_;  // idle handles, their connections kept open
};

}  // namespace reprise::blob::s3
