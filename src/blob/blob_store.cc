#include "blob/blob_store.h"

#include <span>

#include "blob/keys.h"

namespace reprise::blob {

Result<void> CheckPresignExpiry(int64_t signed_at, std::chrono::seconds expires_in) {
  if (signed_at < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "a presigned URL cannot be signed before 1970 (" + std::to_string(signed_at) + ")");
  }
  constexpr std::chrono::seconds kMax{7 * 24 * 3600};
  if (expires_in.count() < 1 || expires_in > kMax) {
    return Fail(ErrorCode::kInvalidArgument,
                "a presigned URL must expire after 1 s to 7 days, not " +
                    std::to_string(expires_in.count()) + " s");
  }
  return {};
}

Result<BlobInfo> PutBytes(BlobStore& store, std::string_view key, std::string_view data) {
  // Refuse a bad key before anything is written; Commit() would refuse it anyway.
  REPRISE_TRY(ValidateKey(key));
  auto writer = store.NewWriter();
  if (!writer) return Fail(std::move(writer.error()));
  REPRISE_TRY((*writer)->Write(std::as_bytes(std::span(data.data(), data.size()))));
  return (*writer)->Commit(key);
}

Result<std::string> GetBytes(BlobStore& store, std::string_view key) {
  auto reader = store.Open(key);
  if (!reader) return Fail(std::move(reader.error()));
  return ReadAll(**reader);
}

Result<void> CheckReadWrite(BlobStore& store, std::string_view key) {
  REPRISE_TRY(PutBytes(store, key, "ok"));
  auto got = GetBytes(store, key);
  if (!got) return Fail(std::move(got.error()));
  if (*got != "ok") return Fail(ErrorCode::kIo, "probe blob read back wrong bytes");
  return {};
}

}  // namespace reprise::blob
