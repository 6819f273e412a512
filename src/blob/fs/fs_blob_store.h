// FsBlobStore: the BlobStore backend over a local directory, reprise's default store.
//
// Layout: the blob under key K is the regular file <root>/K. A writer streams into
// <root>/.tmp/<random> (created with O_EXCL); Commit() fsyncs it, creates the parent
// directories, rename(2)s it onto <root>/K and fsyncs that directory, so a committed blob
// survives power loss and a crash at any earlier point leaves nothing under a key. Open()
// deletes temporaries older than `stale_temp_age_micros` (default one hour): a crashed
// writer's leftovers; younger ones may belong to a live writer in another process, so a
// writer must not sit idle for that long between writes. Delete() also removes parent
// directories it leaves empty; Commit() retries when that races with it.
//
// Confinement: paths are resolved one segment at a time with openat(O_NOFOLLOW) from a
// descriptor of the root taken at Open(), so no key reaches outside the root, not even
// through a symbolic link planted inside it. A key whose path crosses or names a symlink
// fails with kIo, except that Delete() of a key naming one removes the link itself (never
// its target); List() skips symlinks. The root path given to Open() may itself contain symlinks:
// that is the operator's choice, resolved once.
//
// Limits of this backend beyond ValidateKey(), all kInvalidArgument: a first segment
// ".tmp" (reserved for temporaries) and segments longer than 255 bytes (NAME_MAX). A key
// cannot be a blob and a folder of other blobs at once ("a" and "a/b"); committing such a
// key fails with kConflict, unlike S3.
//
// The directory store keeps no media types (ContentType() is "" for every blob; sidecar
// files would have to be written, listed and deleted atomically with the blob) and hands
// out no presigned URLs (PresignGet() is nullopt): the HTTP layer signs its own /blobs
// URLs and knows the types from the catalog.
//
// List() holds the names of one directory per level of the key it is visiting, never the
// whole store; a reader keeps reading the version it opened even if the key is replaced or
// deleted meanwhile. Thread-safety: as BlobStore; several processes may share one root.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/io.h"

namespace reprise::blob {

struct FsBlobStoreOptions {
  // Temporaries last modified longer ago than this are swept by Open().
  int64_t stale_temp_age_micros = int64_t{3600} * 1'000'000;
  // Wall clock compared with temporaries' mtime; the system clock when null. Only used
  // during Open(), so it need not outlive the store.
  const Clock* clock = nullptr;
};

class FsBlobStore final : public BlobStore {
 public:
  // Creates `root` (and its parents) when missing, then sweeps stale temporaries.
  // Errors: kInvalidArgument for an empty root, kIo when it cannot be created or opened.
  static Result<std::unique_ptr<BlobStore>> Open(std::string root);
  // Without this, Open("literal") would be ambiguous with the member Open(key).
  static Result<std::unique_ptr<BlobStore>> Open(const char* root);
  static Result<std::unique_ptr<BlobStore>> Open(std::string root,
                                                 const FsBlobStoreOptions& options);

  ~FsBlobStore() override;
  FsBlobStore(const FsBlobStore&) = delete;
  FsBlobStore& operator=(const FsBlobStore&) = delete;

  std::string Describe() const override;
  Result<std::unique_ptr<BlobWriter>> NewWriter() override;
  Result<std::unique_ptr<ByteReader>> Open(std::string_view key) override;
  Result<bool> Exists(std::string_view key) override;
  Result<int64_t> Size(std::string_view key) override;
  Result<void> Delete(std::string_view key) override;
  Result<void> List(std::string_view prefix,
                    const std::function<bool(const BlobInfo&)>& visit) override;
  Result<std::optional<std::string>> PresignGet(std::string_view key, int64_t signed_at,
                                                std::chrono::seconds expires_in) override;
  Result<std::string> ContentType(std::string_view key) override;

  // The directory descriptors of an open store; shared with its writers so a writer may
  // outlive the store that made it.
  struct Dirs;

 private:
  explicit FsBlobStore(std::shared_ptr<const Dirs> dirs);

  std::shared_ptr<const Dirs> dirs_;
};

}  // namespace reprise::blob
