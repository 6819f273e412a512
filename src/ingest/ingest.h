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
// A stream that is pushed rather than pulled (an HTTP upload, whose server hands the body
// over chunk by chunk) goes through a StreamSession from BeginStream(): Write() each chunk
// as it arrives, then Finish(). It is the same single pass as IngestStream (which is a
// pull loop over a session), with the limit checked on every Write(), so a body is cut
// off as soon as it passes the limit.
//
// Thread-safety: an Ingestor may serve one call at a time; a StreamSession is used by one
// thread at a time and holds the Ingestor until it is finished or destroyed.
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

class Ingestor;

// One stream being ingested as it is pushed in (see the top of this file). Destroying a
// session that was not finished drops its temporary blob: nothing is left behind.
class StreamSession final {
 public:
  // Fills in, or refuses, the record of new content after it was probed and before it is
  // inserted (a parent, refs, a kind the caller insists on). Its error becomes the item's
  // and the copy is dropped like bytes that are not media.
  using Completer = std::function<Result<void>(catalog::NewAsset&)>;

  StreamSession(StreamSession&&) noexcept;
  StreamSession& operator=(StreamSession&&) = delete;
  ~StreamSession();

  // Hashes and stores the next bytes (buffered in one fixed buffer). True while the
  // stream is within its limit; false from the chunk that passes it on: the temporary is
  // dropped at once, nothing more is stored and Finish() answers "too_large". Errors of
  // the blob store name the stream; after one, Write() repeats it.
  [[nodiscard]] Result<bool> Write(std::span<const std::byte> data);
  // Bytes received so far (also those past the limit).
  [[nodiscard]] int64_t bytes() const { return received_; }
  [[nodiscard]] bool too_large() const { return too_large_; }
  // Ends the stream: commits the copy under its content key, probes it from the store and
  // records the asset, as IngestStream does. Call once.
  ItemResult Finish(const Completer& complete = nullptr);

 private:
  friend class Ingestor;
  struct State;
  explicit StreamSession(std::unique_ptr<State> state);
  Result<void> Flush();

  std::unique_ptr<State> state_;
  int64_t received_ = 0;
  bool too_large_ = false;
};

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

  // Starts a stream to be pushed in chunk by chunk (Options::on_item and stop_requested
  // are not consulted). `on_bytes` is told the bytes stored so far after each buffer.
  StreamSession BeginStream(const StreamInfo& info, const Options& options,
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

  friend class StreamSession;
  ItemResult Record(const std::string& name, catalog::NewAsset asset, const Options& options);
};

}  // namespace reprise::ingest
