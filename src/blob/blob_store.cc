#include "blob/blob_store.h"

#include <span>

#include "blob/keys.h"

namespace reprise::blob {

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
