// BlobStoreWrapper: a BlobStore that forwards every call to another BlobStore, in the
// way leveldb's EnvWrapper forwards to an Env. A subclass overrides the one method it
// wants to change, so tests inject faults (a write failing once, a commit refused as by
// a store answering 503) in front of a real backend without a mock.
//
// The wrapper owns nothing: `target` must outlive it; thread-safety is the target's. A
// method added to BlobStore must be forwarded here too: until it is, BlobStoreWrapper
// stays abstract and every test that makes one fails to compile.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "blob/blob_store.h"

namespace reprise::blob {

class BlobStoreWrapper : public BlobStore {
 public:
  explicit BlobStoreWrapper(BlobStore& target) : target_(target) {}

  // The store calls are forwarded to.
  BlobStore& target() const { return target_; }

  [[nodiscard]] std::string Describe() const override { return target_.Describe(); }
  [[nodiscard]] Result<std::unique_ptr<BlobWriter>> NewWriter() override {
    return target_.NewWriter();
  }
  [[nodiscard]] Result<std::unique_ptr<ByteReader>> Open(std::string_view key) override {
    return target_.Open(key);
  }
  [[nodiscard]] Result<bool> Exists(std::string_view key) override { return target_.Exists(key); }
  [[nodiscard]] Result<int64_t> Size(std::string_view key) override { return target_.Size(key); }
  [[nodiscard]] Result<void> Delete(std::string_view key) override { return target_.Delete(key); }
  [[nodiscard]] Result<void> List(std::string_view prefix,
                                  const std::function<bool(const BlobInfo&)>& visit) override {
    return target_.List(prefix, visit);
  }
  [[nodiscard]] Result<std::optional<std::string>> PresignGet(
      std::string_view key, int64_t signed_at, std::chrono::seconds expires_in) override {
    return target_.PresignGet(key, signed_at, expires_in);
  }
  [[nodiscard]] Result<std::string> ContentType(std::string_view key) override {
    return target_.ContentType(key);
  }

 private:
  BlobStore& target_;
};

}  // namespace reprise::blob
