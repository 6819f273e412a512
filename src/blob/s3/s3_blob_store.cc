#include "blob/s3/s3_blob_store.h"

#include <algorithm>
#include <cstdlib>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "blob/keys.h"
#include "core/hash.h"
#include "core/temp_file.h"

namespace reprise::blob {

namespace {
constexpr size_t kMaxObjectKeyBytes = 1024;  // S3's limit, in UTF-8 bytes
}  // namespace

struct S3BlobStore::Shared {
  std::unique_ptr<s3::S3Client> client;
  S3BlobStoreOptions options;

  // "prefix/key", or the key itself in a store over a whole bucket.
  std::string ObjectKey(std::string_view key) const {
    const std::string& prefix = options.client.location.prefix;
    return prefix.empty() ? std::string(key) : prefix + "/" + std::string(key);
  }
  // ObjectKey() of a key that passes ValidateKey() and, with the prefix, fits S3's limit.
  Result<std::string> CheckedObjectKey(std::string_view key) const {
    REPRISE_TRY(ValidateKey(key));
    std::string object_key = ObjectKey(key);
    if (object_key.size() > kMaxObjectKeyBytes) {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("blob key '{}...' is too long for this S3 store: with the prefix "
                      "'{}' it is {} bytes, S3 allows 1024",
                      key.substr(0, 40), options.client.location.prefix, object_key.size()));
    }
    return object_key;
  }
  int64_t Threshold() const {
    return options.multipart_threshold > 0 ? options.multipart_threshold : options.part_size;
  }
};

namespace {

constexpr int64_t kMinPartSize = int64_t{5} * 1024 * 1024;
constexpr int64_t kMaxParts = 10'000;

std::string Quoted(std::string_view key) { return "'" + std::string(key) + "'"; }

// Collects what TempFile::CopyTo hands over.
class StringWriter final : public ByteWriter {
 public:
  explicit StringWriter(std::string& out) : out_(out) {}
  Result<void> Write(std::span<const std::byte> data) override {
    out_.append(reinterpret_cast<const char*>(data.data()), data.size());
    return {};
  }

 private:
  std::string& out_;
};

class S3BlobWriter final : public BlobWriter {
 public:
  explicit S3BlobWriter(std::shared_ptr<const S3BlobStore::Shared> shared)
      : shared_(std::move(shared)) {}

  Result<void> Write(std::span<const std::byte> data) override {
    REPRISE_TRY(CheckUsable());
    const S3BlobStoreOptions& options = shared_->options;
    if (!spool_ &&
        static_cast<int64_t>(memory_.size() + data.size()) > options.memory_spool_bytes) {
      auto spool = TempFile::Create(options.spool_dir);
      if (!spool) return Fail(spool.error().Wrap("cannot spool a blob for S3"));
      spool_ = std::move(*spool);
      auto moved = spool_->WriteAt(0, std::as_bytes(std::span(memory_.data(), memory_.size())));
      if (!moved) return Broken(moved.error());
      std::string().swap(memory_);
    }
    if (spool_) {
      auto written = spool_->WriteAt(size_, data);
      if (!written) return Broken(written.error());
    } else {
      memory_.append(reinterpret_cast<const char*>(data.data()), data.size());
    }
    hash_.Update(data);
    size_ += static_cast<int64_t>(data.size());
    return {};
  }

  int64_t BytesWritten() const override { return size_; }

  void SetContentType(std::string_view content_type) override {
    content_type_ = std::string(content_type);
  }

  Result<BlobInfo> Commit(std::string_view key) override {
    auto checked = shared_->CheckedObjectKey(key);
    if (!checked) return Fail(std::move(checked.error()));
    const std::string& object_key = *checked;
    REPRISE_TRY(CheckUsable());
    if (!digest_) digest_ = HexLower(hash_.Finish());
    if (size_ <= shared_->Threshold()) {
      auto body = Range(0, size_);
      if (!body) return Fail(std::move(body.error()));
      REPRISE_TRY(shared_->client->PutObject(object_key, *body, *digest_, content_type_));
    } else {
      REPRISE_TRY(UploadInParts(object_key));
    }
    committed_ = true;
    memory_.clear();
    spool_.reset();
    return BlobInfo{std::string(key), size_};
  }

 private:
  Result<void> CheckUsable() const {
    if (committed_) return Fail(ErrorCode::kInvalidArgument, "blob writer already committed");
    if (failed_) {
      return Fail(ErrorCode::kIo, "blob writer failed earlier; its content is incomplete");
    }
    return {};
  }

  tl::unexpected<Error> Broken(const Error& error) {
    failed_ = true;  // the spool holds an unknown part of the last chunk
    return Fail(error.Wrap("cannot spool a blob for S3"));
  }

  // Bytes [offset, offset + length) of what was written.
  Result<std::string> Range(int64_t offset, int64_t length) const {
    if (!spool_) return memory_.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
    std::string out;
    out.reserve(static_cast<size_t>(length));
    StringWriter sink(out);
    REPRISE_TRY(spool_->CopyTo(offset, length, sink));
    return out;
  }

  Result<void> UploadInParts(const std::string& object_key) {
    s3::S3Client& client = *shared_->client;
    // S3 allows 10,000 parts: a bigger blob gets bigger parts.
    const int64_t part_size =
        std::max(shared_->options.part_size, (size_ + kMaxParts - 1) / kMaxParts);
    auto upload_id = client.CreateMultipartUpload(object_key, content_type_);
    if (!upload_id) return Fail(std::move(upload_id.error()));
    auto uploaded = [&]() -> Result<void> {
      std::vector<std::string> etags;
      for (int64_t offset = 0; offset < size_; offset += part_size) {
        auto body = Range(offset, std::min(part_size, size_ - offset));
        if (!body) return Fail(std::move(body.error()));
        auto etag =
            client.UploadPart(object_key, *upload_id, static_cast<int>(etags.size() + 1), *body);
        if (!etag) return Fail(std::move(etag.error()));
        etags.push_back(std::move(*etag));
      }
      return client.CompleteMultipartUpload(object_key, *upload_id, etags, size_);
    }();
    if (!uploaded) {
      // Parts of an abandoned upload cost storage until aborted; the first error is the
      // one to report either way.
      (void)client.AbortMultipartUpload(object_key, *upload_id);
      return Fail(std::move(uploaded.error()));
    }
    return {};
  }

  std::shared_ptr<const S3BlobStore::Shared> shared_;
  std::string memory_;
  std::unique_ptr<TempFile> spool_;
  Sha256 hash_;
  std::optional<std::string> digest_;
  int64_t size_ = 0;
  std::string content_type_;
  bool committed_ = false;
  bool failed_ = false;
};

class S3BlobReader final : public ByteReader {
 public:
  S3BlobReader(std::shared_ptr<const S3BlobStore::Shared> shared, std::string key,
               std::unique_ptr<s3::ObjectStream> stream)
      : shared_(std::move(shared)),
        key_(std::move(key)),
        stream_(std::move(stream)),
        size_(stream_->ContentLength()),
        etag_(stream_->ETag()) {}

  Result<size_t> Read(std::span<std::byte> buffer) override {
    const int max_attempts = std::max(1, shared_->options.client.retry.max_attempts);
    while (true) {
      if (position_ >= size_ || buffer.empty()) return size_t{0};
      if (!stream_) {
        auto stream = shared_->client->GetObject(shared_->ObjectKey(key_), position_, etag_);
        if (!stream) {
          if (stream.error().code == ErrorCode::kConflict) {
            return Fail(ErrorCode::kConflict, "blob " + Quoted(key_) +
                                                  " was replaced while being read (" +
                                                  stream.error().message + ")");
          }
          return Fail(std::move(stream.error()));
        }
        stream_ = std::move(*stream);
      }
      auto n = stream_->Read(buffer);
      if (n && *n > 0) {
        position_ += static_cast<int64_t>(*n);
        failures_ = 0;
        return n;
      }
      // The connection broke, or the answer ended early: resume where we are.
      stream_.reset();
      if (++failures_ >= max_attempts) {
        if (!n) return Fail(n.error().Wrap("reading blob " + Quoted(key_)));
        return Fail(ErrorCode::kUnavailable,
                    fmt::format("blob {} ended at byte {} of {}", Quoted(key_), position_, size_));
      }
    }
  }

  Result<void> Seek(int64_t offset) override {
    if (offset < 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "cannot seek to negative offset in blob " + Quoted(key_));
    }
    if (offset != position_) stream_.reset();
    position_ = offset;
    return {};
  }

  int64_t Size() const override { return size_; }
  std::string Name() const override {
    return shared_->options.client.location.Describe() + " " + key_;
  }

 private:
  std::shared_ptr<const S3BlobStore::Shared> shared_;
  std::string key_;
  std::unique_ptr<s3::ObjectStream> stream_;
  int64_t size_;
  std::string etag_;
  int64_t position_ = 0;
  int failures_ = 0;
};

// List() accepts the prefixes the directory store does: a key, a partial key, a folder.
Result<void> CheckPrefix(std::string_view prefix) {
  if (prefix.empty()) return {};
  std::string_view as_key = prefix.back() == '/' ? prefix.substr(0, prefix.size() - 1) : prefix;
  return ValidateKey(as_key);
}

}  // namespace

S3BlobStore::S3BlobStore(std::shared_ptr<const Shared> shared) : shared_(std::move(shared)) {}

S3BlobStore::~S3BlobStore() = default;

Result<std::unique_ptr<BlobStore>> S3BlobStore::Open(S3BlobStoreOptions options) {
  if (options.list_page_size < 1 || options.list_page_size > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "S3 list page size must be 1 to 1000");
  }
  if (options.part_size < kMinPartSize) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("S3 part size {} is under S3's minimum of 5 MiB", options.part_size));
  }
  if (options.client.credentials.access_key_id.empty() ||
      options.client.credentials.secret_access_key.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "S3 credentials are missing: an access key id and a secret are needed");
  }
  auto shared = std::make_shared<Shared>();
  shared->options = std::move(options);
  shared->client = std::make_unique<s3::S3Client>(shared->options.client);
  const s3::S3Location& location = shared->options.client.location;
  auto probe = shared->client->ListObjectsV2(location.prefix, "", 1);
  if (!probe) {
    return Fail(probe.error().Wrap("cannot open blob store " + location.Describe()));
  }
  return std::unique_ptr<BlobStore>(new S3BlobStore(std::move(shared)));
}

Result<std::unique_ptr<BlobStore>> S3BlobStore::OpenUrl(std::string_view url,
                                                        const s3::EnvLookup& env,
                                                        const s3::S3Settings& settings) {
  auto location = s3::ParseS3Url(url, settings);
  if (!location) return Fail(std::move(location.error()));
  auto credentials = s3::ResolveCredentials(settings, env);
  if (!credentials) return Fail(std::move(credentials.error()));
  S3BlobStoreOptions options;
  options.client.location = std::move(*location);
  options.client.credentials = std::move(*credentials);
  return Open(std::move(options));
}

std::string S3BlobStore::Describe() const { return shared_->options.client.location.Describe(); }

Result<std::unique_ptr<BlobWriter>> S3BlobStore::NewWriter() {
  return std::unique_ptr<BlobWriter>(std::make_unique<S3BlobWriter>(shared_));
}

Result<std::unique_ptr<ByteReader>> S3BlobStore::Open(std::string_view key) {
  auto object_key = shared_->CheckedObjectKey(key);
  if (!object_key) return Fail(std::move(object_key.error()));
  auto stream = shared_->client->GetObject(*object_key, 0, "");
  if (!stream) {
    if (stream.error().code == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "no blob " + Quoted(key));
    }
    return Fail(std::move(stream.error()));
  }
  if ((*stream)->ContentLength() < 0) {
    return Fail(ErrorCode::kIo,
                "S3 GetObject of " + Quoted(*object_key) + " answered without a Content-Length");
  }
  return std::unique_ptr<ByteReader>(
      std::make_unique<S3BlobReader>(shared_, std::string(key), std::move(*stream)));
}

Result<bool> S3BlobStore::Exists(std::string_view key) {
  auto object_key = shared_->CheckedObjectKey(key);
  if (!object_key) return Fail(std::move(object_key.error()));
  auto head = shared_->client->HeadObject(*object_key);
  if (!head) return Fail(std::move(head.error()));
  return head->has_value();
}

Result<int64_t> S3BlobStore::Size(std::string_view key) {
  auto object_key = shared_->CheckedObjectKey(key);
  if (!object_key) return Fail(std::move(object_key.error()));
  auto head = shared_->client->HeadObject(*object_key);
  if (!head) return Fail(std::move(head.error()));
  if (!head->has_value()) return Fail(ErrorCode::kNotFound, "no blob " + Quoted(key));
  return (*head)->size;
}

Result<void> S3BlobStore::Delete(std::string_view key) {
  auto object_key = shared_->CheckedObjectKey(key);
  if (!object_key) return Fail(std::move(object_key.error()));
  return shared_->client->DeleteObject(*object_key);
}

Result<void> S3BlobStore::List(std::string_view prefix,
                               const std::function<bool(const BlobInfo&)>& visit) {
  REPRISE_TRY(CheckPrefix(prefix));
  const std::string& store_prefix = shared_->options.client.location.prefix;
  const size_t strip = store_prefix.empty() ? 0 : store_prefix.size() + 1;
  std::string object_prefix =
      store_prefix.empty() ? std::string(prefix) : store_prefix + "/" + std::string(prefix);
  std::string token;
  do {
    auto page =
        shared_->client->ListObjectsV2(object_prefix, token, shared_->options.list_page_size);
    if (!page) return Fail(std::move(page.error()));
    for (const auto& object : page->objects) {
      if (object.key.size() <= strip) continue;
      std::string key = object.key.substr(strip);
      if (!ValidateKey(key)) continue;  // not one of ours
      if (!visit(BlobInfo{std::move(key), object.size})) return {};
    }
    token = std::move(page->next_continuation_token);
  } while (!token.empty());
  return {};
}

Result<std::optional<std::string>> S3BlobStore::PresignGet(std::string_view key, int64_t signed_at,
                                                           std::chrono::seconds expires_in) {
  auto object_key = shared_->CheckedObjectKey(key);
  if (!object_key) return Fail(std::move(object_key.error()));
  REPRISE_TRY(CheckPresignExpiry(signed_at, expires_in));
  return std::optional<std::string>(
      shared_->client->PresignGetUrl(*object_key, signed_at, expires_in));
}

Result<std::string> S3BlobStore::ContentType(std::string_view key) {
  auto object_key = shared_->CheckedObjectKey(key);
  if (!object_key) return Fail(std::move(object_key.error()));
  auto head = shared_->client->HeadObject(*object_key);
  if (!head) return Fail(std::move(head.error()));
  if (!head->has_value()) return Fail(ErrorCode::kNotFound, "no blob " + Quoted(key));
  return (*head)->content_type;
}

}  // namespace reprise::blob
