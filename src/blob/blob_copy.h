// Blob copy: moves every blob of one store into another, whatever their backends
// (directory to S3 and back), for `reprise blobs copy`. Each blob streams through a
// fixed buffer from the source's reader into the destination's atomic writer (S3 sends
// large ones as a multipart upload), keeping its content type; memory stays bounded by
// the buffer and the destination writer's own spool, whatever the blob's size.
//
// Restartable: a blob the destination already holds with the same size is skipped, so
// running the copy again after an interruption sends only what is missing (a writer
// interrupted before Commit() leaves nothing under the key).
//
// With `verify`, every blob is read back from both sides and their SHA-256 compared: a
// destination blob of the right size but other bytes is a mismatch, copied again, and
// its key reported; so is a fresh copy that does not read back as the source's bytes.
// A run that reports mismatches found the destination damaged (the caller exits
// non-zero); the blobs it could repair are repaired, so a second verified run is clean.
//
// Errors: the stores' (kIo, kUnavailable, ...). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "core/error.h"
#include "core/hash.h"

namespace reprise::blob {

struct BlobCopyOptions {
  std::string prefix;              // only keys starting with this
  bool verify = false;             // compare SHA-256 of both sides (see the file comment)
  size_t buffer_bytes = 1 << 20;   // read and write size
  size_t max_reported_keys = 100;  // of mismatches kept in the report
};

struct BlobCopyReport {
  int64_t objects = 0;  // blobs in the source
  int64_t bytes = 0;    // their total size
  int64_t copied = 0;
  int64_t copied_bytes = 0;
  int64_t skipped = 0;  // already present (and, verifying, equal)
  int64_t skipped_bytes = 0;
  int64_t verified = 0;    // blobs whose hashes were compared
  int64_t mismatches = 0;  // see the file comment
  std::vector<std::string> mismatched_keys;
};

// Told after each blob, with the report so far and the blob's key.
using BlobCopyProgress = std::function<void(const BlobCopyReport& so_far, const std::string& key)>;

[[nodiscard]] Result<BlobCopyReport> CopyBlobs(BlobStore& from, BlobStore& to,
                                               const BlobCopyOptions& options,
                                               const BlobCopyProgress& progress);

// The SHA-256 of a stored blob, read in `buffer_bytes` pieces.
[[nodiscard]] Result<Sha256Digest> HashBlob(BlobStore& store, const std::string& key,
                                            size_t buffer_bytes);

}  // namespace reprise::blob
