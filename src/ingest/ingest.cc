#include "ingest/ingest.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "blob/keys.h"
#include "core/hash.h"
#include "core/ids.h"
#include "media/content_type.h"
#include "media/input.h"
#include "media/probe.h"
#include "stages/media_summary.h"

namespace reprise::ingest {
namespace {

namespace fs = std::filesystem;

struct FileEntry {
  std::string path;
  int64_t size = 0;
  std::optional<Error> error;  // the path could not be listed or does not exist
};

// Expands directories depth-first in sorted order so runs are reproducible.
void Expand(const std::string& path, std::vector<FileEntry>& out) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    out.push_back({path, 0, ErrnoError(ErrorCode::kNotFound, "cannot open " + path, ENOENT)});
    return;
  }
  if (fs::is_directory(status)) {
    std::vector<std::string> children;
    fs::directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      out.push_back({path, 0,
                     Error{ErrorCode::kIo, "cannot list " + path + ": " + ec.message(),
                           "errno:" + std::to_string(ec.value())}});
      return;
    }
    for (const auto& entry : it) {
      std::string name = entry.path().filename().string();
      if (!name.empty() && name[0] == '.') continue;  // hidden files and folders
      children.push_back(entry.path().string());
    }
    std::sort(children.begin(), children.end());
    for (const auto& child : children) Expand(child, out);
    return;
  }
  if (!fs::is_regular_file(status)) return;  // sockets, fifos, devices: not files to ingest
  auto size = fs::file_size(path, ec);
  out.push_back({path, ec ? 0 : static_cast<int64_t>(size), std::nullopt});
}

ItemResult ErrorItem(const std::string& path, Error error) {
  ItemResult item;
  item.path = path;
  item.outcome = Outcome::kError;
  item.error = std::move(error);
  return item;
}

ItemResult SkipItem(const std::string& path, std::string reason, int64_t bytes = 0) {
  ItemResult item;
  item.path = path;
  item.outcome = Outcome::kSkipped;
  item.skip_reason = std::move(reason);
  item.bytes = bytes;
  return item;
}

// One fixed buffer per copy, whatever the size of the input.
constexpr size_t kCopyBufferBytes = size_t{1} << 20;

// The tighter of two limits where 0 means none.
int64_t SmallerLimit(int64_t a, int64_t b) {
  if (a <= 0) return std::max<int64_t>(b, 0);
  if (b <= 0) return a;
  return std::min(a, b);
}

struct Copied {
  Sha256Digest digest{};
  int64_t bytes = 0;
  bool too_large = false;  // more than the limit arrived; copying stopped there
};

// Hashes and stores bytes in the order they come: the one pass shared by files, pulled
// streams and pushed ones. The writer's errors say "cannot store <name>".
class HashingCopy {
 public:
  HashingCopy(std::string name, std::function<void(int64_t)> on_bytes)
      : name_(std::move(name)), on_bytes_(std::move(on_bytes)) {}

  Result<void> Add(ByteWriter& out, std::span<const std::byte> chunk) {
    hash_.Update(chunk);
    if (auto w = out.Write(chunk); !w) return Fail(w.error().Wrap("cannot store " + name_));
    bytes_ += static_cast<int64_t>(chunk.size());
    if (on_bytes_) on_bytes_(bytes_);
    return {};
  }
  [[nodiscard]] int64_t bytes() const { return bytes_; }
  Copied Finish() { return Copied{hash_.Finish(), bytes_, false}; }

 private:
  std::string name_;
  std::function<void(int64_t)> on_bytes_;
  Sha256 hash_;
  int64_t bytes_ = 0;
};

// Copies `in` into `out` while hashing it: one pass, one buffer, never more than `limit`
// bytes written (0: no limit). The source's errors come back as they are.
Result<Copied> CopyAndHash(ByteSource& in, ByteWriter& out, int64_t limit,
                           const std::function<void(int64_t)>& on_bytes, const std::string& name) {
  HashingCopy copy(name, on_bytes);
  std::vector<std::byte> buffer(kCopyBufferBytes);
  while (true) {
    auto n = in.Read(buffer);
    if (!n) return Fail(n.error());
    if (*n == 0) break;
    if (limit > 0 && copy.bytes() + static_cast<int64_t>(*n) > limit) {
      return Copied{{}, copy.bytes() + static_cast<int64_t>(*n), true};
    }
    REPRISE_TRY(copy.Add(out, std::span<const std::byte>(buffer.data(), *n)));
  }
  return copy.Finish();
}

// Publishes the copy under `key` unless that content is stored already (another owner,
// an earlier run), in which case the copy is dropped. True when this call stored it.
Result<bool> CommitUnlessStored(blob::BlobStore& blobs, std::unique_ptr<blob::BlobWriter> writer,
                                const std::string& key, const std::string& name) {
  auto exists = blobs.Exists(key);
  if (!exists) return Fail(exists.error());
  if (*exists) return false;
  auto committed = writer->Commit(key);
  if (!committed) return Fail(committed.error().Wrap("cannot store " + name));
  return true;
}

// Media is recognised by its content: the summary, or empty when libavformat does not
// recognise the bytes or finds nothing playable. A recognised container that fails to
// open is broken media: an error (kUnsupportedMedia) naming the reader.
Result<std::optional<catalog::MediaSummary>> Recognise(ByteReader& in) {
  auto info = media::ProbeReader(in);
  if (!info) {
    if (media::IsNotMedia(info.error())) return std::optional<catalog::MediaSummary>();
    return Fail(info.error());
  }
  auto summary = stages::Summarize(*info);
  if (summary.kind == catalog::AssetKind::kUnknown) return std::optional<catalog::MediaSummary>();
  return std::optional<catalog::MediaSummary>(std::move(summary));
}

// Recognise() on a stored blob, its errors naming the stream.
Result<std::optional<catalog::MediaSummary>> ProbeStored(blob::BlobStore& blobs,
                                                         const std::string& key,
                                                         const std::string& name) {
  auto reader = blobs.Open(key);
  if (!reader) return Fail(reader.error().Wrap("cannot read back " + name));
  auto summary = Recognise(**reader);
  if (!summary) return Fail(summary.error().Wrap(name));
  return summary;
}

// The record for copied content: everything but where it came from and what it holds.
catalog::NewAsset AssetFor(const Options& options, const Copied& copied) {
  catalog::NewAsset asset;
  asset.id = AssetIdFor(options.owner, copied.digest);
  asset.owner = options.owner;
  asset.source = options.source;
  asset.sha256_hex = HexLower(copied.digest);
  asset.cid = CidV1Raw(copied.digest);
  asset.size_bytes = copied.bytes;
  asset.original_key = blob::OriginalKey(copied.digest);
  return asset;
}

}  // namespace

std::string_view Name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAdded:
      return "added";
    case Outcome::kExisted:
      return "existed";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kError:
      return "error";
  }
  return "error";
}

int64_t Summary::SkippedTotal() const {
  int64_t total = 0;
  for (const auto& [reason, count] : skipped) total += count;
  return total;
}

ItemResult Ingestor::IngestFile(const std::string& path, const Options& options,
                                const std::function<void(int64_t)>& on_bytes) {
  auto reader = OpenFileReader(path);
  if (!reader) return ErrorItem(path, reader.error());
  ByteReader& in = **reader;

  if (in.Size() == 0) return SkipItem(path, "not_media");
  if (options.max_file_bytes > 0 && in.Size() > options.max_file_bytes) {
    return SkipItem(path, "too_large");
  }

  // Probed before copying, as the file can be read twice: what is not media is never
  // written to the store.
  auto summary = Recognise(in);
  if (!summary) return ErrorItem(path, summary.error());  // its message names the file
  if (!summary->has_value()) return SkipItem(path, "not_media");

  // One streaming pass: hash and copy together.
  if (auto rewound = in.Seek(0); !rewound) return ErrorItem(path, rewound.error());
  auto writer = blobs_.NewWriter();
  if (!writer) return ErrorItem(path, writer.error().Wrap("cannot store " + path));
  (*writer)->SetContentType(media::OriginalContentType(
      (*summary)->container, (*summary)->kind == catalog::AssetKind::kAudio, path));
  auto copied = CopyAndHash(in, **writer, options.max_file_bytes, on_bytes, path);
  if (!copied) return ErrorItem(path, copied.error());
  if (copied->too_large) return SkipItem(path, "too_large");  // the file grew meanwhile
  std::string key = blob::OriginalKey(copied->digest);
  auto committed = CommitUnlessStored(blobs_, std::move(*writer), key, path);
  if (!committed) return ErrorItem(path, committed.error());

  catalog::NewAsset asset = AssetFor(options, *copied);
  asset.original_name = fs::path(path).filename().string();
  std::error_code ec;
  auto absolute = fs::absolute(path, ec);
  asset.source_uri = "file://" + (ec ? path : absolute.lexically_normal().string());
  asset.media = **summary;
  return Record(path, std::move(asset), options);
}

struct StreamSession::State {
  State(Ingestor& owner, const StreamInfo& stream, const Options& opts,
        const std::function<void(int64_t)>& on_bytes)
      : ingestor(owner),
        info(stream),
        options(opts),
        limit(SmallerLimit(opts.max_file_bytes, stream.max_bytes)),
        copy(stream.name, on_bytes) {}

  Ingestor& ingestor;
  StreamInfo info;
  Options options;
  int64_t limit;
  HashingCopy copy;
  std::unique_ptr<blob::BlobWriter> writer;
  std::optional<Error> error;  // sticky: the first failure
  std::vector<std::byte> pending;
};

StreamSession::StreamSession(std::unique_ptr<State> state) : state_(std::move(state)) {}
StreamSession::StreamSession(StreamSession&&) noexcept = default;
StreamSession::~StreamSession() = default;

Result<void> StreamSession::Flush() {
  State& s = *state_;
  if (s.pending.empty()) return {};
  auto added = s.copy.Add(*s.writer, s.pending);
  s.pending.clear();
  if (!added) {
    s.error = added.error();
    return Fail(added.error());
  }
  return {};
}

Result<bool> StreamSession::Write(std::span<const std::byte> data) {
  State& s = *state_;
  if (s.error) return Fail(*s.error);
  if (too_large_) return false;
  received_ += static_cast<int64_t>(data.size());
  if (s.limit > 0 && received_ > s.limit) {
    too_large_ = true;
    s.writer.reset();  // removes the temporary now, not when the request ends
    s.pending = {};
    return false;
  }
  if (s.pending.empty() && data.size() >= kCopyBufferBytes) {
    auto added = s.copy.Add(*s.writer, data);
    if (!added) s.error = added.error();
    if (!added) return Fail(added.error());
    return true;
  }
  while (!data.empty()) {
    size_t take = std::min(data.size(), kCopyBufferBytes - s.pending.size());
    s.pending.insert(s.pending.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
    data = data.subspan(take);
    if (s.pending.size() == kCopyBufferBytes) REPRISE_TRY(Flush());
  }
  return true;
}

ItemResult StreamSession::Finish(const Completer& complete) {
  State& s = *state_;
  const std::string& name = s.info.name;
  if (s.error) return ErrorItem(name, *s.error);
  if (too_large_) return SkipItem(name, "too_large", received_);
  if (auto flushed = Flush(); !flushed) return ErrorItem(name, flushed.error());
  if (received_ == 0) return SkipItem(name, "not_media");
  Copied copied = s.copy.Finish();
  blob::BlobStore& blobs = s.ingestor.blobs_;

  std::string key = blob::OriginalKey(copied.digest);
  auto committed = CommitUnlessStored(blobs, std::move(s.writer), key, name);
  if (!committed) return ErrorItem(name, committed.error());

  // Probed from the stored copy: the stream itself cannot be read twice. What is not
  // media is known from the bytes alone, so a copy this call stored is deleted again
  // (no asset can refer to it); a blob that was already there is left alone. So is a
  // record the completer refuses.
  auto summary = ProbeStored(blobs, key, name);
  catalog::NewAsset asset = AssetFor(s.options, copied);
  asset.original_name = s.info.original_name;
  asset.source_uri = s.info.source_uri;
  asset.parent_id = s.info.parent_id;
  std::optional<Error> refused;
  if (summary && summary->has_value()) {
    asset.media = **summary;
    if (complete) {
      if (auto completed = complete(asset); !completed) refused = completed.error();
    }
  }
  bool content_refused = !summary && summary.error().code == ErrorCode::kUnsupportedMedia;
  if (*committed && (content_refused || refused || (summary && !summary->has_value()))) {
    if (auto deleted = blobs.Delete(key); !deleted) {
      s.ingestor.log_->warn("ingest {}: cannot delete {}: {}", name, key,
                            deleted.error().ToString());
    }
  }
  if (!summary) return ErrorItem(name, summary.error());
  if (!summary->has_value()) return SkipItem(name, "not_media", copied.bytes);
  if (refused) return ErrorItem(name, *refused);
  return s.ingestor.Record(name, std::move(asset), s.options);
}

StreamSession Ingestor::BeginStream(const StreamInfo& info, const Options& options,
                                    const std::function<void(int64_t)>& on_bytes) {
  auto state = std::make_unique<StreamSession::State>(*this, info, options, on_bytes);
  auto writer = blobs_.NewWriter();
  if (writer) {
    // The stream is probed only once stored, so its type comes from its name.
    (*writer)->SetContentType(
        media::ContentTypeForName(info.original_name.empty() ? info.name : info.original_name));
    state->writer = std::move(*writer);
    state->pending.reserve(kCopyBufferBytes);
  } else {
    state->error = writer.error().Wrap("cannot store " + info.name);
  }
  return StreamSession(std::move(state));
}

ItemResult Ingestor::IngestStream(ByteSource& source, const StreamInfo& info,
                                  const Options& options,
                                  const std::function<void(int64_t)>& on_bytes) {
  StreamSession session = BeginStream(info, options, on_bytes);
  std::vector<std::byte> buffer(kCopyBufferBytes);
  while (true) {
    auto n = source.Read(buffer);
    // Leaving early drops the session, which removes its temporary.
    if (!n) return ErrorItem(info.name, n.error());
    if (*n == 0) break;
    auto written = session.Write(std::span<const std::byte>(buffer.data(), *n));
    if (!written) return ErrorItem(info.name, written.error());
    if (!*written) break;
  }
  return session.Finish();
}

ItemResult Ingestor::Record(const std::string& name, catalog::NewAsset asset,
                            const Options& options) {
  auto inserted = [&]() -> Result<catalog::InsertAssetResult> {
    if (options.job.stages.empty()) return catalog_.InsertAsset(asset);
    catalog::NewJob job = options.job;
    job.asset_id = asset.id;
    return catalog_.InsertAssetWithJob(asset, job);
  }();
  if (!inserted) return ErrorItem(name, inserted.error().Wrap("cannot record " + name));

  ItemResult item;
  item.path = name;
  item.outcome = inserted->created ? Outcome::kAdded : Outcome::kExisted;
  item.asset = std::move(inserted->asset);
  item.bytes = asset.size_bytes;
  log_->debug("ingest {} -> {} ({})", name, item.asset->id, Name(item.outcome));
  return item;
}

Summary Ingestor::IngestPaths(const std::vector<std::string>& paths, const Options& options,
                              const ProgressFn& progress) {
  int64_t started = clock_.MonotonicMicros();
  std::vector<FileEntry> files;
  for (const auto& path : paths) Expand(path, files);

  Summary summary;
  Progress state;
  state.files_total = static_cast<int64_t>(files.size());
  for (const auto& file : files) state.bytes_total += file.size;

  for (size_t index = 0; index < files.size(); ++index) {
    const FileEntry& file = files[index];
    if (options.stop_requested && options.stop_requested()) {
      summary.not_started = static_cast<int64_t>(files.size() - index);
      break;
    }
    state.current = file.path;
    if (progress) progress(state);
    int64_t bytes_before = state.bytes_done;
    ItemResult item = file.error ? ErrorItem(file.path, *file.error)
                                 : IngestFile(file.path, options, [&](int64_t copied) {
                                     state.bytes_done = bytes_before + copied;
                                     if (progress) progress(state);
                                   });
    switch (item.outcome) {
      case Outcome::kAdded:
        ++summary.added;
        break;
      case Outcome::kExisted:
        ++summary.existed;
        break;
      case Outcome::kSkipped:
        ++summary.skipped[item.skip_reason];
        break;
      case Outcome::kError:
        ++summary.errors;
        log_->warn("ingest {}: {}", file.path, item.error->ToString());
        break;
    }
    if (options.on_item) options.on_item(item);
    summary.bytes += item.bytes;
    state.files_done += 1;
    state.bytes_done = bytes_before + file.size;
    summary.items.push_back(std::move(item));
  }
  state.current.clear();
  if (progress) progress(state);
  summary.elapsed_seconds = static_cast<double>(clock_.MonotonicMicros() - started) / 1e6;
  return summary;
}

}  // namespace reprise::ingest
