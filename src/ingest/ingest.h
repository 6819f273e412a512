// Ingest: turns files on disk, and byte streams (uploads, downloads), into assets.
//
// For each file: recognise media by its content (libavformat, never the extension),
// then copy it into the blob store while computing its SHA-256 in the same streaming
// pass (read once, memory bounded by one buffer), commit it under its content-addressed
// key and insert the asset record. The same content for the same owner is a no-op
// ("already existed"). A new asset and the job for its stages are inserted in one
// transaction, so no asset ever waits without its work queued. A file that is not media
// is skipped ("not_media"); one that is unreadable or broken media is an error naming
// the file. Neither stops the others.
//
// A stream (IngestStream) is read exactly once, never rewound: it is copied into a
// temporary blob while its SHA-256 is computed, with the size limit enforced as bytes
// arrive (over it: the temporary is dropped and the item skipped "too_large"); then the
// copy is committed under its content key and probed from the stored blob, through the
// BlobStore interface. Bytes that turn out not to be media (or to be broken media) are
// deleted again if this call stored them, so nothing is left behind; content already
// stored is never deleted. A source that fails mid-way leaves no blob and no asset.
// Memory stays one fixed buffer whatever the size.
//
// Thread-safety: an Ingestor may serve one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"

namespace reprise::ingest {

enum class Outcome { kAdded, kExisted, kSkipped, kError };
std::string_view Name(Outcome outcome);

struct ItemResult {
  std::string path;  // the file, or StreamInfo::name
  Outcome outcome = Outcome::kError;
  std::string skip_reason;              // kSkipped: "not_media", "too_large"
  std::optional<Error> error;           // kError
  std::optional<catalog::Asset> asset;  // kAdded / kExisted
  int64_t bytes = 0;                    // bytes read from the file or stream
};

// What a stream is, for the asset record and for messages.
struct StreamInfo {
  std::string name;           // ItemResult::path and error context, e.g. "upload clip.mp4"
  std::string original_name;  // the name the client gave, may be empty
  std::string source_uri;     // where it came from (a URL), may be empty
  std::optional<std::string> parent_id;  // the asset this one derives from, if any
  // Per-call limit in bytes; 0: none. The smaller of this and Options::max_file_bytes
  // applies.
  int64_t max_bytes = 0;
};

struct Options {
  std::string owner;
  catalog::AssetSource source = catalog::AssetSource::kScan;
  int64_t max_file_bytes = 0;  // 0: no limit
  // Stages to enqueue for each new asset, in the same transaction that inserts it (the
  // job's asset_id is filled in); empty stages: the asset is only recorded.
  catalog::NewJob job;
  // IngestPaths(): called with each file's result as soon as it is done, before the next
  // file starts.
  std::function<void(const ItemResult&)> on_item;
  // IngestPaths(): asked before each file; true stops there (a file being copied is
  // finished first). The files left are counted in Summary::not_started.
  std::function<bool()> stop_requested;
};

struct Summary {
  int64_t added = 0;
  int64_t existed = 0;
  std::map<std::string, int64_t> skipped;  // by reason
  int64_t errors = 0;
  int64_t bytes = 0;
  int64_t not_started = 0;  // files left when stop_requested said stop
  double elapsed_seconds = 0;
  std::vector<ItemResult> items;

  [[nodiscard]] int64_t SkippedTotal() const;
};

// Called before each file (done, total files, bytes done, total bytes) and after it.
struct Progress {
  int64_t files_done = 0;
  int64_t files_total = 0;
  int64_t bytes_done = 0;
  int64_t bytes_total = 0;
  std::string current;
};
using ProgressFn = std::function<void(const Progress&)>;

class Ingestor {
 public:
  Ingestor(catalog::Catalog& catalog, blob::BlobStore& blobs, const Clock& clock, Logger log)
      : catalog_(catalog), blobs_(blobs), clock_(clock), log_(std::move(log)) {}

  // Ingests one file. `on_bytes`, when set, is told the bytes copied so far after each
  // chunk (progress for large files).
  ItemResult IngestFile(const std::string& path, const Options& options,
                        const std::function<void(int64_t)>& on_bytes = nullptr);

  // Ingests a stream read once, front to back (see the top of this file). `on_bytes` as
  // for IngestFile. Options::on_item and stop_requested are not consulted.
  ItemResult IngestStream(ByteSource& source, const StreamInfo& info, const Options& options,
                          const std::function<void(int64_t)>& on_bytes = nullptr);

  // Ingests files and directories (recursively, in sorted order). A path that does not
  // exist is an error item; the rest go on.
  Summary IngestPaths(const std::vector<std::string>& paths, const Options& options,
                      const ProgressFn& progress = nullptr);

 private:
  catalog::Catalog& catalog_;
  blob::BlobStore& blobs_;
  const Clock& clock_;
  Logger log_;

  ItemResult Record(const std::string& name, catalog::NewAsset asset, const Options& options);
};

}  // namespace reprise::ingest
