// BlobStore: where originals and derivative files live. Backends: a local directory
// (blob/fs) now, S3-compatible object storage later; nothing above this interface names
// a path or a bucket.
//
// Keys are relative, '/'-separated, at most 1024 bytes of printable ASCII without
// empty segments or segments starting with '.' (so no "..", no ".tmp"), a leading '/',
// a backslash or NUL (see ValidateKey in blob/keys.h); every method refuses other keys
// with kInvalidArgument.
//
// Writes are atomic: a BlobWriter streams into a temporary object that becomes visible
// under its key only on Commit(); destroying a writer without committing removes the
// temporary. A crash at any point never leaves a partial object under a real key.
// Committing over an existing key replaces it atomically.
//
// Each blob may carry a media type (BlobWriter::SetContentType), and a store may hand out
// URLs from which clients fetch a blob directly (PresignGet); stores that cannot say so
// (the directory store keeps no types and signs no URLs).
//
// Errors: kNotFound for a missing key, kInvalidArgument for a bad key, kIo for storage
// failures, kUnavailable when a remote store cannot be reached.
// Thread-safety: a BlobStore may be used from many threads at once; a single
// BlobWriter or ByteReader by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/io.h"

namespace reprise::blob {

struct BlobInfo {
  std::string key;
  int64_t size = 0;
};

// How long a presigned URL lives unless configured otherwise.
inline constexpr std::chrono::seconds kDefaultPresignExpiry{3600};

class BlobWriter : public ByteWriter {
 public:
  // The media type to store with the blob ("video/mp4"), before Commit(). Stores that
  // keep no types ignore it; a writer that wraps another must pass it on.
  virtual void SetContentType(std::string_view content_type) { static_cast<void>(content_type); }
  // Publishes everything written so far under `key` atomically.
  [[nodiscard]] virtual Result<BlobInfo> Commit(std::string_view key) = 0;
  // Bytes written so far.
  [[nodiscard]] virtual int64_t BytesWritten() const = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // A short description for logs and `doctor`, e.g. "fs:/srv/reprise/blobs".
  [[nodiscard]] virtual std::string Describe() const = 0;

  // Starts an atomic write; the key is chosen at Commit() so content-addressed keys
  // can be computed while streaming.
  [[nodiscard]] virtual Result<std::unique_ptr<BlobWriter>> NewWriter() = 0;
  [[nodiscard]] virtual Result<std::unique_ptr<ByteReader>> Open(std::string_view key) = 0;
  [[nodiscard]] virtual Result<bool> Exists(std::string_view key) = 0;
  [[nodiscard]] virtual Result<int64_t> Size(std::string_view key) = 0;
  // Deleting a missing key succeeds (idempotent).
  [[nodiscard]] virtual Result<void> Delete(std::string_view key) = 0;
  // Calls `visit` for every key that starts with `prefix`, in lexicographic order,
  // streaming (never all keys in memory). Returning false from `visit` stops early.
  [[nodiscard]] virtual Result<void> List(std::string_view prefix,
                                          const std::function<bool(const BlobInfo&)>& visit) = 0;
  // A URL from which anyone can GET the blob from `signed_at` (Unix seconds, the signature's
  // date; callers pass the present or a moment just before it) until `expires_in` after it
  // (S3: a SigV4 presigned GET, served with the blob's content type), or nullopt when the
  // store has no such URLs (fs: callers sign their own). The same arguments give the same
  // URL, so answers holding one can be kept while it lives. No I/O: for a missing key the
  // URL answers 404. kInvalidArgument for a bad key, a negative signed_at or an expiry
  // outside 1 s to 7 days (S3's limit).
  [[nodiscard]] virtual Result<std::optional<std::string>> PresignGet(
      std::string_view key, int64_t signed_at, std::chrono::seconds expires_in) = 0;
  // The media type stored with the blob; "" when none was set or the store keeps none.
  [[nodiscard]] virtual Result<std::string> ContentType(std::string_view key) = 0;
};

// kInvalidArgument unless 1 s <= expires_in <= 7 days (PresignGet's range) and signed_at
// is not before 1970.
Result<void> CheckPresignExpiry(int64_t signed_at, std::chrono::seconds expires_in);

// Writes `data` under `key` atomically.
Result<BlobInfo> PutBytes(BlobStore& store, std::string_view key, std::string_view data);
// Reads a whole (small) blob.
Result<std::string> GetBytes(BlobStore& store, std::string_view key);
// The store can be written and read back: a tiny probe blob under `key` round-trips
// (health checks). The store's error, or kIo when the bytes read back differ.
Result<void> CheckReadWrite(BlobStore& store, std::string_view key);

}  // namespace reprise::blob
