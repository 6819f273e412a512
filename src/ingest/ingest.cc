#include "ingest/ingest.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "blob/keys.h"
#include "core/hash.h"
#include "core/ids.h"
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

ItemResult SkipItem(const std::string& path, std::string reason) {
  ItemResult item;
  item.path = path;
  item.outcome = Outcome::kSkipped;
  item.skip_reason = std::move(reason);
  return item;
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

  // Unrecognised bytes are skipped; a recognised container that fails to open is broken
  // media and an error.
  auto info = media::ProbeReader(in);
  if (!info) {
    if (media::IsNotMedia(info.error())) return SkipItem(path, "not_media");
    return ErrorItem(path, info.error());  // its message names the file
  }
  auto summary = stages::Summarize(*info);
  if (summary.kind == catalog::AssetKind::kUnknown) return SkipItem(path, "not_media");

  // One streaming pass: hash and copy together.
  if (auto rewound = in.Seek(0); !rewound) return ErrorItem(path, rewound.error());
  auto writer = blobs_.NewWriter();
  if (!writer) return ErrorItem(path, writer.error().Wrap("cannot store " + path));
  Sha256 hash;
  std::vector<std::byte> buffer(1 << 20);
  int64_t bytes = 0;
  while (true) {
    auto n = in.Read(buffer);
    if (!n) return ErrorItem(path, n.error());
    if (*n == 0) break;
    std::span<const std::byte> chunk(buffer.data(), *n);
    hash.Update(chunk);
    if (auto w = (*writer)->Write(chunk); !w) {
      return ErrorItem(path, w.error().Wrap("cannot store " + path));
    }
    bytes += static_cast<int64_t>(*n);
    if (on_bytes) on_bytes(bytes);
  }
  auto digest = hash.Finish();
  std::string key = blob::OriginalKey(digest);

  // Content already stored (another owner, an earlier run): drop the copy.
  auto exists = blobs_.Exists(key);
  if (!exists) return ErrorItem(path, exists.error());
  if (!*exists) {
    auto committed = (*writer)->Commit(key);
    if (!committed) return ErrorItem(path, committed.error().Wrap("cannot store " + path));
  }
  writer->reset();

  catalog::NewAsset asset;
  asset.id = AssetIdFor(options.owner, digest);
  asset.owner = options.owner;
  asset.source = options.source;
  asset.sha256_hex = HexLower(digest);
  asset.cid = CidV1Raw(digest);
  asset.size_bytes = bytes;
  asset.original_key = key;
  asset.original_name = fs::path(path).filename().string();
  std::error_code ec;
  auto absolute = fs::absolute(path, ec);
  asset.source_uri = "file://" + (ec ? path : absolute.lexically_normal().string());
  asset.media = summary;

  auto inserted = [&]() -> Result<catalog::InsertAssetResult> {
    if (options.job.stages.empty()) return catalog_.InsertAsset(asset);
    catalog::NewJob job = options.job;
    job.asset_id = asset.id;
    return catalog_.InsertAssetWithJob(asset, job);
  }();
  if (!inserted) return ErrorItem(path, inserted.error().Wrap("cannot record " + path));

  ItemResult item;
  item.path = path;
  item.outcome = inserted->created ? Outcome::kAdded : Outcome::kExisted;
  item.asset = std::move(inserted->asset);
  item.bytes = bytes;
  log_->debug("ingest {} -> {} ({})", path, item.asset->id, Name(item.outcome));
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
