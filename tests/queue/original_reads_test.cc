// One job reads its asset's original once, whatever the number of stages (issue 13, §3):
// every built-in stage of a video and of a sound runs from one Open() of the original
// through a BlobStoreWrapper that counts what reaches the real store, on the directory and
// on S3 (radosgw). On S3, Open() is one GET and every Seek() that moves is one ranged GET
// (blob/s3/s3_blob_store.h); the demuxer seeks while probing (an MP4's index sits at its
// end), so the ranged GETs are counted and printed, and the bytes they carry are checked to
// be one pass over the file plus what probing re-read, never a second pass. Each derivative is also
// stored with its media type where the store keeps types (S3).
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <gtest/gtest.h>

#include "blob/blob_store_wrapper.h"
#include "queue/executor.h"
#include "tests/support/library.h"
#include "tests/support/media_suite.h"
#include "tests/support/stage_registry.h"

namespace reprise::queue {
namespace {

// What the readers of one key did.
struct ReadCounts {
  int opens = 0;
  int moving_seeks = 0;  // seeks to another position: ranged GETs on S3
  int64_t bytes = 0;
};

// Counts, per key, the Open() calls, the seeks that move and the bytes read.
class CountingReads final : public blob::BlobStoreWrapper {
 public:
  using BlobStoreWrapper::BlobStoreWrapper;

  Result<std::unique_ptr<ByteReader>> Open(std::string_view key) override {
    auto reader = BlobStoreWrapper::Open(key);
    if (!reader) return reader;
    std::lock_guard lock(mutex_);
    ++counts_[std::string(key)].opens;
    return std::unique_ptr<ByteReader>(
        std::make_unique<Reader>(std::move(*reader), std::string(key), *this));
  }

  ReadCounts Of(const std::string& key) {
    std::lock_guard lock(mutex_);
    return counts_[key];
  }

 private:
  class Reader final : public ByteReader {
   public:
    Reader(std::unique_ptr<ByteReader> inner, std::string key, CountingReads& owner)
        : inner_(std::move(inner)), key_(std::move(key)), owner_(owner) {}
    Result<size_t> Read(std::span<std::byte> buffer) override {
      auto n = inner_->Read(buffer);
      if (n) {
        position_ += static_cast<int64_t>(*n);
        std::lock_guard lock(owner_.mutex_);
        owner_.counts_[key_].bytes += static_cast<int64_t>(*n);
      }
      return n;
    }
    Result<void> Seek(int64_t offset) override {
      if (offset != position_) {
        std::lock_guard lock(owner_.mutex_);
        ++owner_.counts_[key_].moving_seeks;
      }
      auto sought = inner_->Seek(offset);
      if (sought) position_ = offset;
      return sought;
    }
    int64_t Size() const override { return inner_->Size(); }
    std::string Name() const override { return inner_->Name(); }

   private:
    std::unique_ptr<ByteReader> inner_;
    std::string key_;
    CountingReads& owner_;
    int64_t position_ = 0;
  };

  std::mutex mutex_;
  std::map<std::string, ReadCounts> counts_;
};

class OriginalReadsTest : public testing::MediaSuite,
                          public ::testing::WithParamInterface<blob::BlobStoreBackend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library_.Open(clock_, catalog::CatalogBackends().front(), GetParam()));
    ASSERT_TRUE(testing::SealBuiltinStages(registry_));
    counting_ = std::make_unique<CountingReads>(library_.blobs());
    executor_ = std::make_unique<Executor>(library_.catalog(), *counting_, registry_, clock_,
                                           MakeNullLogger());
  }

  // Runs every built-in stage on the file at `path` as one job; checks every stage ran or
  // was skipped, and that the original was opened once and read in one pass.
  void RunEveryStage(const std::string& path) {
    catalog::Asset asset = library_.Ingest(path);
    ASSERT_FALSE(asset.id.empty());
    const auto stages = registry_.All();
    ASSERT_GE(stages.size(), 5u) << "a job of several stages";
    auto report = executor_->RunAsset(asset, stages);
    ASSERT_TRUE(report) << report.error().ToString();
    int done = 0;
    for (const auto& stage : report->stages) {
      EXPECT_NE(stage.state, catalog::DerivativeState::kFailed)
          << stage.stage << ": " << (stage.error ? stage.error->ToString() : "");
      done += stage.state == catalog::DerivativeState::kDone ? 1 : 0;
    }
    EXPECT_GE(done, 3) << "stages that wrote results";

    ReadCounts reads = counting_->Of(asset.original_key);
    EXPECT_EQ(reads.opens, 1) << "one read of the original for " << stages.size() << " stages";
    // Probing seeks to an MP4's index at its end and back, which drops what the input had
    // buffered (read again after the seek); a second pass over the media would read the
    // whole file twice.
    EXPECT_GE(reads.bytes, asset.size_bytes) << "the decode pass read the media";
    EXPECT_LT(reads.bytes, asset.size_bytes * 2) << "no second pass over the original";
    std::cout << "[ reads    ] " << GetParam().name << " " << path.substr(path.rfind('/') + 1)
              << ": " << stages.size() << " stages, " << reads.opens << " open, "
              << reads.moving_seeks << " moving seeks (ranged GETs on S3), " << reads.bytes
              << " bytes read of " << asset.size_bytes << "\n";

    // Every derivative file carries its media type where the store keeps types.
    auto derivatives = library_.catalog().ListDerivatives(asset.id);
    ASSERT_TRUE(derivatives) << derivatives.error().ToString();
    int typed = 0;
    for (const auto& derivative : *derivatives) {
      for (const auto& blob : derivative.blobs) {
        auto type = library_.blobs().ContentType(blob.key);
        ASSERT_TRUE(type) << type.error().ToString();
        EXPECT_FALSE(blob.content_type.empty()) << blob.key;
        if (!type->empty()) {
          EXPECT_EQ(*type, blob.content_type) << blob.key;
          ++typed;
        }
      }
    }
    auto original_type = library_.blobs().ContentType(asset.original_key);
    ASSERT_TRUE(original_type) << original_type.error().ToString();
    if (GetParam().name == "s3") {
      EXPECT_GT(typed, 0);
      EXPECT_NE(*original_type, "application/octet-stream") << "the original's type";
    }
  }

  FakeClock clock_;
  testing::LocalLibrary library_;
  stages::Registry registry_;
  std::unique_ptr<CountingReads> counting_;
  std::unique_ptr<Executor> executor_;
};

INSTANTIATE_TEST_SUITE_P(Backends, OriginalReadsTest,
                         ::testing::ValuesIn(blob::BlobStoreBackends()),
                         blob::BlobStoreBackendName);

TEST_P(OriginalReadsTest, AVideoJobOfEveryStageOpensItsOriginalOnce) {
  RunEveryStage(samples_->H264AacMp4());
}

TEST_P(OriginalReadsTest, ASoundJobOfEveryStageOpensItsOriginalOnce) {
  RunEveryStage(samples_->Mp3());
}

}  // namespace
}  // namespace reprise::queue
