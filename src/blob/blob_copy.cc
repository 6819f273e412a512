#include "blob/blob_copy.h"

#include <algorithm>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace reprise::blob {
namespace {

// Streams `key` from `from` into `to`, with its content type; returns the SHA-256 of the
// bytes sent.
Result<Sha256Digest> CopyOne(BlobStore& from, BlobStore& to, const std::string& key,
                             std::vector<std::byte>& buffer) {
  auto content_type = from.ContentType(key);
  if (!content_type) return Fail(std::move(content_type.error()));
  auto reader = from.Open(key);
  if (!reader) return Fail(std::move(reader.error()));
  auto writer = to.NewWriter();
  if (!writer) return Fail(std::move(writer.error()));
  if (!content_type->empty()) (*writer)->SetContentType(*content_type);
  Sha256 hash;
  while (true) {
    auto read = (*reader)->Read(buffer);
    if (!read) return Fail(std::move(read.error()));
    if (*read == 0) break;
    const std::span<const std::byte> piece(buffer.data(), *read);
    hash.Update(piece);
    REPRISE_TRY((*writer)->Write(piece));
  }
  auto committed = (*writer)->Commit(key);
  if (!committed) return Fail(std::move(committed.error()));
  return hash.Finish();
}

class Copier {
 public:
  Copier(BlobStore& from, BlobStore& to, const BlobCopyOptions& options,
         const BlobCopyProgress& progress)
      : from_(from),
        to_(to),
        options_(options),
        progress_(progress),
        buffer_(std::max<size_t>(options.buffer_bytes, 4096)) {}

  Result<void> One(const BlobInfo& blob) {
    ++report_.objects;
    report_.bytes += blob.size;
    auto present = to_.Size(blob.key);
    if (!present && present.error().code != ErrorCode::kNotFound) {
      return Fail(std::move(present.error()));
    }
    if (present && *present == blob.size) {
      if (!options_.verify) return Skip(blob);
      auto source = HashBlob(from_, blob.key, buffer_.size());
      if (!source) return Fail(std::move(source.error()));
      auto destination = HashBlob(to_, blob.key, buffer_.size());
      if (!destination) return Fail(std::move(destination.error()));
      ++report_.verified;
      if (*source == *destination) return Skip(blob);
      Mismatch(blob.key);
    }
    auto sent = CopyOne(from_, to_, blob.key, buffer_);
    if (!sent) return Fail(std::move(sent.error()));
    ++report_.copied;
    report_.copied_bytes += blob.size;
    if (options_.verify) {
      auto destination = HashBlob(to_, blob.key, buffer_.size());
      if (!destination) return Fail(std::move(destination.error()));
      ++report_.verified;
      if (*destination != *sent) Mismatch(blob.key);
    }
    if (progress_) progress_(report_, blob.key);
    return {};
  }

  BlobCopyReport& report() { return report_; }

 private:
  Result<void> Skip(const BlobInfo& blob) {
    ++report_.skipped;
    report_.skipped_bytes += blob.size;
    if (progress_) progress_(report_, blob.key);
    return {};
  }

  void Mismatch(const std::string& key) {
    ++report_.mismatches;
    if (report_.mismatched_keys.size() < options_.max_reported_keys) {
      report_.mismatched_keys.push_back(key);
    }
  }

  BlobStore& from_;
  BlobStore& to_;
  const BlobCopyOptions& options_;
  const BlobCopyProgress& progress_;
  std::vector<std::byte> buffer_;
  BlobCopyReport report_;
};

}  // namespace

Result<Sha256Digest> HashBlob(BlobStore& store, const std::string& key, size_t buffer_bytes) {
  auto reader = store.Open(key);
  if (!reader) return Fail(std::move(reader.error()));
  std::vector<std::byte> buffer(std::max<size_t>(buffer_bytes, 4096));
  Sha256 hash;
  while (true) {
    auto read = (*reader)->Read(buffer);
    if (!read) return Fail(std::move(read.error()));
    if (*read == 0) break;
    hash.Update(std::span<const std::byte>(buffer.data(), *read));
  }
  return hash.Finish();
}

Result<BlobCopyReport> CopyBlobs(BlobStore& from, BlobStore& to, const BlobCopyOptions& options,
                                 const BlobCopyProgress& progress) {
  Copier copier(from, to, options, progress);
  Result<void> failed;
  auto listed = from.List(options.prefix, [&](const BlobInfo& blob) {
    failed = copier.One(blob);
    return failed.has_value();
  });
  if (!listed) return Fail(std::move(listed.error()));
  if (!failed) return Fail(std::move(failed.error()));
  return std::move(copier.report());
}

}  // namespace reprise::blob
