// Ingest from a byte stream, read once (an upload as it arrives): against the real parts,
// a SQLite catalog file, a blob directory and FFmpeg probing the stored copy.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <vector>

#include <gtest/gtest.h>

#include "blob/keys.h"
#include "core/hash.h"
#include "core/ids.h"
#include "ingest/ingest.h"
#include "tests/support/generated_wav.h"
#include "tests/support/library.h"
#include "tests/support/media_suite.h"
#include "tests/support/resident_memory.h"

namespace reprise::ingest {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Hands out `data` at most `chunk` bytes per Read, as a network body arrives; it cannot
// seek, so a second pass over it would fail the test. After `fail_after` bytes (when
// set) it fails as a dropped connection does.
class ChunkedSource final : public ByteSource {
 public:
  ChunkedSource(std::string data, size_t chunk, std::optional<size_t> fail_after = {})
      : data_(std::move(data)), chunk_(chunk), fail_after_(fail_after) {}

  Result<size_t> Read(std::span<std::byte> buffer) override {
    if (fail_after_ && offset_ >= *fail_after_) {
      return Fail(ErrorCode::kUnavailable, "upload: connection reset by peer");
    }
    size_t end = data_.size();
    if (fail_after_) end = std::min(end, *fail_after_);
    size_t n = std::min({chunk_, buffer.size(), end - offset_});
    std::memcpy(buffer.data(), data_.data() + offset_, n);
    offset_ += n;
    return n;
  }
  std::string Name() const override { return "chunked upload"; }

 private:
  std::string data_;
  size_t chunk_;
  std::optional<size_t> fail_after_;
  size_t offset_ = 0;
};

class IngestStreamTest : public testing::MediaSuite {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library_.Open(clock_));
    ingestor_ =
        std::make_unique<Ingestor>(library_.catalog(), library_.blobs(), clock_, MakeNullLogger());
  }

  static Options Owner(const std::string& owner) {
    Options options;
    options.owner = owner;
    options.source = catalog::AssetSource::kUpload;
    return options;
  }

  static StreamInfo Upload(const std::string& original_name, int64_t max_bytes = 0) {
    StreamInfo info;
    info.name = "upload " + original_name;
    info.original_name = original_name;
    info.source_uri = "upload:" + original_name;
    info.max_bytes = max_bytes;
    return info;
  }

  ItemResult Stream(const std::string& bytes, size_t chunk, const Options& options,
                    const StreamInfo& info = Upload("clip.mp4")) {
    ChunkedSource source(bytes, chunk);
    return ingestor_->IngestStream(source, info, options);
  }

  // Every blob, committed or temporary: nothing may be left behind by a stream that was
  // refused or failed.
  int CountAllBlobs() const { return library_.CountBlobs(""); }
  int CountTemporaries() const {
    int count = 0;
    for ([[maybe_unused]] const auto& entry :
         fs::directory_iterator(library_.dir().Join("blobs/.tmp"))) {
      ++count;
    }
    return count;
  }
  int64_t CountAssets() const {
    auto count = library_.catalog().CountAssets({});
    EXPECT_TRUE(count) << count.error().ToString();
    return count.value_or(-1);
  }

  FakeClock clock_;
  testing::LocalLibrary library_;
  std::unique_ptr<Ingestor> ingestor_;
};

std::string Describe(const ItemResult& item) {
  return item.error ? item.error->ToString() : item.skip_reason;
}

TEST_F(IngestStreamTest, AStreamBecomesTheSameAssetAsTheFileWithTheSameBytes) {
  const std::string& path = samples_->H264AacMp4();
  std::string bytes = testing::ReadFile(path);
  Sha256Digest digest = Sha256Of(bytes);

  std::vector<int64_t> progress;
  ChunkedSource source(bytes, 64 * 1024);
  ItemResult item = ingestor_->IngestStream(source, Upload("clip.mp4"), Owner("alice"),
                                            [&](int64_t n) { progress.push_back(n); });
  ASSERT_EQ(item.outcome, Outcome::kAdded) << Describe(item);
  ASSERT_TRUE(item.asset);
  const catalog::Asset& asset = *item.asset;
  EXPECT_EQ(item.path, "upload clip.mp4");
  EXPECT_EQ(item.bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(asset.id, AssetIdFor("alice", digest));
  EXPECT_EQ(asset.sha256_hex, HexLower(digest));
  EXPECT_EQ(asset.cid, CidV1Raw(digest));
  EXPECT_EQ(asset.size_bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(asset.original_key, blob::OriginalKey(digest));
  EXPECT_EQ(asset.original_name, "clip.mp4");
  EXPECT_EQ(asset.source_uri, "upload:clip.mp4");
  EXPECT_EQ(asset.source, catalog::AssetSource::kUpload);
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_EQ(progress.back(), static_cast<int64_t>(bytes.size()));

  auto stored = blob::GetBytes(library_.blobs(), asset.original_key);
  ASSERT_TRUE(stored) << stored.error().ToString();
  EXPECT_TRUE(*stored == bytes) << "the blob is a byte-exact copy";

  // The file path finds the very same asset, and probes the same media from the file.
  ItemResult file = ingestor_->IngestFile(path, Owner("alice"));
  ASSERT_EQ(file.outcome, Outcome::kExisted) << Describe(file);
  EXPECT_EQ(file.asset->id, asset.id);
  ItemResult other = ingestor_->IngestFile(path, Owner("bob"));
  ASSERT_EQ(other.outcome, Outcome::kAdded) << Describe(other);
  EXPECT_EQ(other.asset->sha256_hex, asset.sha256_hex);
  EXPECT_EQ(other.asset->cid, asset.cid);
  EXPECT_EQ(other.asset->media.kind, catalog::AssetKind::kVideo);
  EXPECT_EQ(asset.media.kind, other.asset->media.kind);
  EXPECT_EQ(asset.media.container, other.asset->media.container);
  EXPECT_EQ(asset.media.duration_seconds, other.asset->media.duration_seconds);
  EXPECT_EQ(library_.CountBlobs("originals/"), 1);
  EXPECT_EQ(CountTemporaries(), 0);
}

TEST_F(IngestStreamTest, OddChunkSizesGiveTheSameAsset) {
  std::string bytes = testing::ReadFile(samples_->Mp3());
  Sha256Digest digest = Sha256Of(bytes);
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{64 * 1024}}) {
    SCOPED_TRACE(chunk);
    std::string owner = "chunks-" + std::to_string(chunk);
    ItemResult item = Stream(bytes, chunk, Owner(owner), Upload("song.mp3"));
    ASSERT_EQ(item.outcome, Outcome::kAdded) << Describe(item);
    EXPECT_EQ(item.asset->id, AssetIdFor(owner, digest));
    EXPECT_EQ(item.asset->sha256_hex, HexLower(digest));
    EXPECT_EQ(item.asset->cid, CidV1Raw(digest));
    EXPECT_EQ(item.asset->size_bytes, static_cast<int64_t>(bytes.size()));
    EXPECT_EQ(item.asset->media.kind, catalog::AssetKind::kAudio);
  }
  EXPECT_EQ(library_.CountBlobs("originals/"), 1);
  EXPECT_EQ(CountTemporaries(), 0);
}

TEST_F(IngestStreamTest, TheSameStreamAgainExistsAndLeavesNoCopy) {
  std::string bytes = testing::ReadFile(samples_->Wav());
  ItemResult first = Stream(bytes, 4096, Owner("o"));
  ASSERT_EQ(first.outcome, Outcome::kAdded) << Describe(first);
  ItemResult again = Stream(bytes, 1000, Owner("o"), Upload("renamed.wav"));
  ASSERT_EQ(again.outcome, Outcome::kExisted) << Describe(again);
  EXPECT_EQ(again.asset->id, first.asset->id);
  EXPECT_EQ(again.asset->original_name, first.asset->original_name) << "the first record stays";
  EXPECT_EQ(CountAssets(), 1);
  EXPECT_EQ(CountAllBlobs(), 1);
  EXPECT_EQ(CountTemporaries(), 0);
}

TEST_F(IngestStreamTest, AStreamOverTheLimitIsSkippedAndStoresNothing) {
  std::string bytes = testing::ReadFile(samples_->Mp3());
  auto size = static_cast<int64_t>(bytes.size());

  // The per-call limit, then the configured one; the tighter applies.
  ItemResult per_call = Stream(bytes, 7000, Owner("o"), Upload("big.mp3", size - 1));
  EXPECT_EQ(per_call.outcome, Outcome::kSkipped);
  EXPECT_EQ(per_call.skip_reason, "too_large");
  Options configured = Owner("o");
  configured.max_file_bytes = size - 1;
  ItemResult by_config = Stream(bytes, 7000, configured, Upload("big.mp3", size + 100));
  EXPECT_EQ(by_config.skip_reason, "too_large");
  EXPECT_EQ(CountAllBlobs(), 0);
  EXPECT_EQ(CountTemporaries(), 0);
  EXPECT_EQ(CountAssets(), 0);

  // Exactly at the limit is allowed.
  configured.max_file_bytes = size;
  ItemResult at_limit = Stream(bytes, 7000, configured, Upload("big.mp3", size + 100));
  EXPECT_EQ(at_limit.outcome, Outcome::kAdded) << Describe(at_limit);
}

TEST_F(IngestStreamTest, ASourceFailingMidwayLeavesNoBlobAndNoAsset) {
  std::string bytes = testing::ReadFile(samples_->H264AacMp4());
  Options options = Owner("o");
  options.job.stages = {"probe"};
  ChunkedSource source(bytes, 5000, bytes.size() / 2);
  ItemResult item = ingestor_->IngestStream(source, Upload("clip.mp4"), options);
  ASSERT_EQ(item.outcome, Outcome::kError);
  ASSERT_TRUE(item.error);
  EXPECT_EQ(item.error->code, ErrorCode::kUnavailable) << "the source's own error";
  EXPECT_NE(item.error->message.find("connection reset"), std::string::npos);
  EXPECT_FALSE(item.asset);
  EXPECT_EQ(CountAllBlobs(), 0);
  EXPECT_EQ(CountTemporaries(), 0);
  EXPECT_EQ(CountAssets(), 0);
}

TEST_F(IngestStreamTest, NotMediaIsSkippedAndItsStoredCopyDeleted) {
  for (const std::string& bytes : {testing::ReadFile(samples_->RandomBytesMp4()),
                                   std::string("hello, not media\n"), std::string()}) {
    ItemResult item = Stream(bytes, 4096, Owner("o"), Upload("fake.mp4"));
    EXPECT_EQ(item.outcome, Outcome::kSkipped) << Describe(item);
    EXPECT_EQ(item.skip_reason, "not_media");
  }
  EXPECT_EQ(CountAllBlobs(), 0);
  EXPECT_EQ(CountTemporaries(), 0);
  EXPECT_EQ(CountAssets(), 0);

  // Content this call did not store is never deleted, whatever it turns out to be.
  std::string text = "stored before, by someone else\n";
  std::string key = blob::OriginalKey(Sha256Of(text));
  ASSERT_TRUE(blob::PutBytes(library_.blobs(), key, text));
  EXPECT_EQ(Stream(text, 4096, Owner("o")).skip_reason, "not_media");
  auto still = library_.blobs().Exists(key);
  ASSERT_TRUE(still);
  EXPECT_TRUE(*still);
}

TEST_F(IngestStreamTest, BrokenMediaIsAnErrorNamingTheStreamAndStoresNothing) {
  ItemResult item =
      Stream(testing::ReadFile(samples_->TruncatedMp4()), 4096, Owner("o"), Upload("cut.mp4"));
  ASSERT_EQ(item.outcome, Outcome::kError);
  ASSERT_TRUE(item.error);
  EXPECT_EQ(item.error->code, ErrorCode::kUnsupportedMedia) << item.error->ToString();
  EXPECT_NE(item.error->message.find("upload cut.mp4"), std::string::npos) << item.error->message;
  EXPECT_EQ(CountAllBlobs(), 0);
  EXPECT_EQ(CountTemporaries(), 0);
  EXPECT_EQ(CountAssets(), 0);
}

TEST_F(IngestStreamTest, ANewStreamQueuesItsJobWithTheAsset) {
  Options options = Owner("o");
  options.job.stages = {"probe", "thumbnail"};
  ItemResult item = Stream(testing::ReadFile(samples_->PngImage()), 999, options);
  ASSERT_EQ(item.outcome, Outcome::kAdded) << Describe(item);
  auto jobs = library_.catalog().ListJobs({}, {});
  ASSERT_TRUE(jobs) << jobs.error().ToString();
  ASSERT_EQ(jobs->items.size(), 1u);
  EXPECT_EQ(jobs->items[0].asset_id, item.asset->id);
}

// 200 MB arrive and are stored while the process's resident memory grows by about one
// copy buffer: nothing holds the stream, and nothing reads it twice.
TEST_F(IngestStreamTest, ALargeStreamIsStoredInBoundedMemory) {
  constexpr int64_t kSize = 200'000'000;
  testing::GeneratedWav source(kSize);
  int64_t resident_before = testing::ResidentKib();
  testing::ResidentPeak peak;
  ItemResult item = ingestor_->IngestStream(source, Upload("long.wav"), Owner("o"));
  int64_t grown_kib = peak.Stop() - resident_before;
  ASSERT_EQ(item.outcome, Outcome::kAdded) << Describe(item);
  EXPECT_EQ(item.asset->size_bytes, kSize);
  EXPECT_EQ(item.asset->media.kind, catalog::AssetKind::kAudio);

  // The hash covers every byte: a second, independent pass over the same generator.
  testing::GeneratedWav again(kSize);
  Sha256 hash;
  std::vector<std::byte> buffer(1 << 16);
  while (true) {
    auto n = again.Read(buffer);
    ASSERT_TRUE(n);
    if (*n == 0) break;
    hash.Update(std::span<const std::byte>(buffer.data(), *n));
  }
  EXPECT_EQ(item.asset->sha256_hex, HexLower(hash.Finish()));
  auto size = library_.blobs().Size(item.asset->original_key);
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, kSize);

  std::cout << "200 MB stream: resident memory grew by at most " << grown_kib << " KiB\n";
  if (testing::kFreedMemoryIsQuarantined) GTEST_SKIP() << "not measured under ASan";
  // One 1 MiB copy buffer, FFmpeg's probe buffers, SQLite's page cache: well under 16 MiB.
  EXPECT_LT(grown_kib, 16 * 1024);
}

// Pushed in small pieces, as an HTTP server hands a body over: the same asset as pulled.
TEST_F(IngestStreamTest, APushedSessionGivesTheSameAssetAsAPulledStream) {
  std::string bytes = testing::ReadFile(samples_->H264AacMp4());
  StreamSession session = ingestor_->BeginStream(Upload("clip.mp4"), Owner("alice"));
  for (size_t at = 0; at < bytes.size(); at += 4093) {
    std::string_view piece = std::string_view(bytes).substr(at, 4093);
    auto written = session.Write(std::as_bytes(std::span(piece.data(), piece.size())));
    ASSERT_TRUE(written) << written.error().ToString();
    ASSERT_TRUE(*written);
  }
  EXPECT_EQ(session.bytes(), static_cast<int64_t>(bytes.size()));
  ItemResult pushed = session.Finish();
  ASSERT_EQ(pushed.outcome, Outcome::kAdded) << Describe(pushed);
  ItemResult pulled = Stream(bytes, 70000, Owner("alice"));
  ASSERT_EQ(pulled.outcome, Outcome::kExisted) << Describe(pulled);
  EXPECT_EQ(pulled.asset->id, pushed.asset->id);
  EXPECT_EQ(pushed.asset->sha256_hex, HexLower(Sha256Of(bytes)));
  EXPECT_EQ(CountAllBlobs(), 1);
}

// The limit cuts the stream off at the write that passes it: the temporary is gone at
// once, before the caller stops sending.
TEST_F(IngestStreamTest, APushedSessionIsCutOffAtTheWriteThatPassesTheLimit) {
  Options options = Owner("o");
  options.max_file_bytes = 10000;
  StreamSession session = ingestor_->BeginStream(Upload("big.wav"), options);
  std::string piece(6000, 'x');
  auto bytes = std::as_bytes(std::span(piece.data(), piece.size()));
  auto first = session.Write(bytes);
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  auto second = session.Write(bytes);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  EXPECT_TRUE(session.too_large());
  EXPECT_EQ(CountTemporaries(), 0);
  ItemResult item = session.Finish();
  EXPECT_EQ(item.skip_reason, "too_large");
  EXPECT_EQ(CountAllBlobs(), 0);
  EXPECT_EQ(CountAssets(), 0);
}

// A completer that refuses the record (a parent the caller cannot see) leaves nothing.
TEST_F(IngestStreamTest, ACompleterThatRefusesLeavesNoBlobAndNoAsset) {
  std::string bytes = testing::ReadFile(samples_->Mp3());
  StreamSession session = ingestor_->BeginStream(Upload("a.mp3"), Owner("o"));
  ASSERT_TRUE(session.Write(std::as_bytes(std::span(bytes.data(), bytes.size()))));
  catalog::AssetKind seen = catalog::AssetKind::kUnknown;
  ItemResult item = session.Finish([&](catalog::NewAsset& asset) -> Result<void> {
    seen = asset.media.kind;
    return Fail(ErrorCode::kNotFound, "parent asset p1 not found");
  });
  EXPECT_EQ(seen, catalog::AssetKind::kAudio) << "the completer sees the probed record";
  ASSERT_EQ(item.outcome, Outcome::kError);
  EXPECT_EQ(item.error->code, ErrorCode::kNotFound);
  EXPECT_EQ(CountAllBlobs(), 0);
  EXPECT_EQ(CountAssets(), 0);
}

}  // namespace
}  // namespace reprise::ingest
