// S3BlobStore: the BlobStore backend over S3-compatible object storage (AWS S3, Cloudflare
// R2, MinIO, Ceph radosgw), configured by one URL (blob/s3/s3_location.h):
//
//   s3://bucket/prefix?endpoint=http://127.0.0.1:7480&region=us-east-1&path_style=true
//
// The blob under key K is the object "prefix/K" of the bucket.
//
// Writes: the key is only known at Commit(), so a writer spools what it is given — in
// memory up to `memory_spool_bytes`, then in an anonymous temporary file (core/temp_file.h),
// hashing as it goes — and uploads at Commit(): one PUT with the body's SHA-256 signed when
// the blob is at most `multipart_threshold` bytes, otherwise a multipart upload of
// `part_size` parts (grown when 10,000 parts would not hold the blob), each part read back
// into memory, hashed, sent and retried on its own. S3 publishes an object only when the
// PUT or the completion succeeds, so no reader ever sees a partial blob and no temporary
// key exists; a multipart upload that fails is aborted (best effort: a bucket lifecycle
// rule for incomplete uploads catches what an abort cannot). A writer destroyed before
// Commit() has sent nothing. Memory per writer: the spool's memory part, plus one part
// while committing.
//
// Media types: a writer's SetContentType() becomes the object's Content-Type (on the PUT or
// on CreateMultipartUpload), so presigned GETs (PresignGet) serve the blob with its type.
//
// Reads: Open() starts one streaming GET (its answer gives the size and the ETag); reads
// pull the body as it arrives. Seek() and a connection lost midway restart the GET at the
// reader's position with `Range` and `If-Match: <ETag>`, so a reader never mixes two
// versions: if the key was replaced meanwhile, the read fails with kConflict instead.
// Exists() and Size() are HEAD requests; List() pages through ListObjectsV2 (`list_page_size`
// keys a page, never all keys in memory); Delete() is DELETE (idempotent, as in S3).
//
// Unlike the directory store, "a" and "a/b" can both be blobs. Keys are checked with
// ValidateKey() before any request, and must fit S3's 1,024 bytes with the prefix
// (kInvalidArgument otherwise: under a prefix, the longest keys blob_store.h allows do not).
// Objects under the prefix whose names are not valid keys (written by other tools) are skipped by
// List().
//
// Errors as in blob_store.h and blob/s3/s3_client.h: kPermissionDenied for refused
// credentials, kUnavailable when S3 stays unreachable or busy after the retries.
// Thread-safety: as BlobStore. Writers and readers keep the client alive, so they may
// outlive the store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "blob/blob_store.h"
#include "blob/s3/s3_client.h"
#include "blob/s3/s3_location.h"
#include "core/error.h"

namespace reprise::blob {

struct S3BlobStoreOptions {
  s3::S3ClientOptions client;  // location, credentials, retries, test hooks
  int64_t part_size = int64_t{8} * 1024 * 1024;
  // Blobs larger than this go up in parts; 0 means `part_size`.
  int64_t multipart_threshold = 0;
  int64_t memory_spool_bytes = int64_t{1} * 1024 * 1024;
  int list_page_size = 1000;  // keys per ListObjectsV2 page (S3's maximum)
  std::string spool_dir;      // for spooled writes; empty: $TMPDIR or /tmp
};

class S3BlobStore final : public BlobStore {
 public:
  // Checks the options, then lists one key under the prefix so that wrong credentials, a
  // missing bucket or an unreachable endpoint are reported now, not at the first write.
  // Errors: kInvalidArgument for a part size under 5 MiB (S3's minimum) or missing
  // credentials; the listing's error otherwise (kPermissionDenied, kNotFound for a
  // missing bucket, kUnavailable).
  static Result<std::unique_ptr<BlobStore>> Open(S3BlobStoreOptions options);
  // `url` as described above with `settings` filling what it leaves out, credentials from
  // `settings` or else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN looked
  // up with `env`; default options otherwise.
  static Result<std::unique_ptr<BlobStore>> OpenUrl(std::string_view url, const s3::EnvLookup& env,
                                                    const s3::S3Settings& settings = {});

  ~S3BlobStore() override;
  S3BlobStore(const S3BlobStore&) = delete;
  S3BlobStore& operator=(const S3BlobStore&) = delete;

  std::string Describe() const override;
  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<ByteReader>> Open(std::string_view key) override;
  Result<bool> Exists(std::string_view key) override;
  Result<int64_t> Size(std::string_view key) override;
  Result<void> Delete(std::string_view key) override;
  Result<void> List(std::string_view prefix,
                    const std::function<bool(const BlobInfo&)>& visit) override;
  // A SigV4 presigned GET (query-string authentication, X-Amz-Date = `signed_at`,
  // X-Amz-Expires = `expires_in`), signed with the store's credentials.
  Result<std::optional<std::string>> PresignGet(std::string_view key, int64_t signed_at,
                                                std::chrono::seconds expires_in) override;
  // The object's Content-Type, a HEAD request; "application/octet-stream" for blobs written
  // without a type (what the store sends then).
  Result<std::string> ContentType(std::string_view key) override;

  // What writers and readers share with the store.
  struct Shared;

 private:
  explicit S3BlobStore(std::shared_ptr<const Shared> shared);

  std::shared_ptr<const Shared> shared_;
};

}  // namespace reprise::blob
