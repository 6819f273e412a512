// Ingest against the real parts: a SQLite catalog file, a blob directory, FFmpeg probing
// media generated at test time.
#include "ingest/ingest.h"

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "blob/keys.h"
#include "core/hash.h"
#include "core/ids.h"
#include "tests/support/library.h"
#include "tests/support/media_suite.h"

namespace reprise::ingest {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

class IngestTest : public testing::MediaSuite {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library_.Open(clock_));
    ingestor_ =
        std::make_unique<Ingestor>(library_.catalog(), library_.blobs(), clock_, MakeNullLogger());
  }

  // A folder holding copies of the given samples (under their own names).
  std::string FolderOf(const std::vector<std::string>& paths) {
    std::string dir = input_.Join("in");
    fs::create_directories(dir);
    for (const auto& path : paths) {
      fs::copy_file(path, dir + "/" + fs::path(path).filename().string(),
                    fs::copy_options::overwrite_existing);
    }
    return dir;
  }

  Options Owner(const std::string& owner) {
    Options options;
    options.owner = owner;
    return options;
  }

  TempDir input_;
  FakeClock clock_;
  testing::LocalLibrary library_;
  std::unique_ptr<Ingestor> ingestor_;
};

TEST_F(IngestTest, StoresTheOriginalUnderItsHashWithCidAndMediaSummary) {
  const std::string& path = samples_->H264AacMp4();
  std::string bytes = testing::ReadFile(path);
  Sha256Digest digest = Sha256Of(bytes);

  ItemResult item = ingestor_->IngestFile(path, Owner("alice"));
  ASSERT_EQ(item.outcome, Outcome::kAdded) << (item.error ? item.error->ToString() : "");
  ASSERT_TRUE(item.asset);
  const catalog::Asset& asset = *item.asset;
  EXPECT_EQ(asset.id, AssetIdFor("alice", digest));
  EXPECT_EQ(asset.sha256_hex, HexLower(digest));
  EXPECT_EQ(asset.cid, CidV1Raw(digest));
  EXPECT_EQ(asset.cid.size(), 59u);
  EXPECT_EQ(asset.size_bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(asset.original_key, blob::OriginalKey(digest));
  EXPECT_EQ(asset.original_name, fs::path(path).filename().string());
  EXPECT_EQ(asset.media.kind, catalog::AssetKind::kVideo);
  EXPECT_EQ(asset.status, catalog::AssetStatus::kPending);

  auto stored = blob::GetBytes(library_.blobs(), asset.original_key);
  ASSERT_TRUE(stored);
  EXPECT_TRUE(*stored == bytes) << "the blob is a byte-exact copy";

  auto fetched = library_.catalog().GetAsset(asset.id, {});
  ASSERT_TRUE(fetched);
  EXPECT_EQ(fetched->sha256_hex, asset.sha256_hex);
}

TEST_F(IngestTest, SameContentAgainIsANoOpAndOtherOwnersShareTheBlob) {
  const std::string& path = samples_->Mp3();
  ASSERT_EQ(ingestor_->IngestFile(path, Owner("alice")).outcome, Outcome::kAdded);
  ItemResult again = ingestor_->IngestFile(path, Owner("alice"));
  EXPECT_EQ(again.outcome, Outcome::kExisted);

  // A copy under another name is the same content: still a no-op.
  std::string copy = input_.Join("renamed.bin");
  fs::copy_file(path, copy);
  EXPECT_EQ(ingestor_->IngestFile(copy, Owner("alice")).outcome, Outcome::kExisted);

  ItemResult bob = ingestor_->IngestFile(path, Owner("bob"));
  ASSERT_EQ(bob.outcome, Outcome::kAdded);
  EXPECT_NE(bob.asset->id, again.asset->id);
  EXPECT_EQ(bob.asset->original_key, again.asset->original_key);

  auto count = library_.catalog().CountAssets({});
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 2);
  EXPECT_EQ(library_.CountBlobs("originals/"), 1);
}

TEST_F(IngestTest, MediaIsRecognisedByContentNotByName) {
  std::string disguised = input_.Join("song.txt");
  fs::copy_file(samples_->Wav(), disguised);
  ItemResult wav = ingestor_->IngestFile(disguised, Owner("o"));
  EXPECT_EQ(wav.outcome, Outcome::kAdded);
  ASSERT_TRUE(wav.asset);
  EXPECT_EQ(wav.asset->media.kind, catalog::AssetKind::kAudio);

  ItemResult fake = ingestor_->IngestFile(samples_->RandomBytesMp4(), Owner("o"));
  EXPECT_EQ(fake.outcome, Outcome::kSkipped);
  EXPECT_EQ(fake.skip_reason, "not_media");
  EXPECT_EQ(ingestor_->IngestFile(samples_->ZeroBytes(), Owner("o")).skip_reason, "not_media");
}

TEST_F(IngestTest, BrokenFilesAreErrorsNamingTheFileAndTheRestGoOn) {
  std::string dir =
      FolderOf({samples_->TruncatedMp4(), samples_->H264AacMp4(), samples_->RandomBytesMp4(),
                samples_->PngImage(), samples_->ZeroBytes(), samples_->Mp3WithCover()});
  testing::WriteFile(dir + "/notes.txt", "hello, not media\n");
  fs::create_directories(dir + "/nested/deeper");
  fs::copy_file(samples_->Wav(), dir + "/nested/deeper/take.wav");

  std::vector<Progress> seen;
  Summary summary = ingestor_->IngestPaths({dir, input_.Join("missing.mp4")}, Owner("o"),
                                           [&](const Progress& p) { seen.push_back(p); });
  EXPECT_EQ(summary.added, 4);  // mp4, png, mp3, wav (nested)
  EXPECT_EQ(summary.existed, 0);
  EXPECT_EQ(summary.skipped["not_media"], 3);  // random .mp4, zero bytes, notes.txt
  EXPECT_EQ(summary.errors, 2);                // truncated mp4, missing path
  ASSERT_EQ(summary.items.size(), 9u);

  int errors_named = 0;
  for (const auto& item : summary.items) {
    if (item.outcome != Outcome::kError) continue;
    ASSERT_TRUE(item.error);
    EXPECT_NE(item.error->message.find(item.path), std::string::npos) << item.error->message;
    if (item.path.find("missing.mp4") != std::string::npos) {
      EXPECT_EQ(item.error->code, ErrorCode::kNotFound);
    } else {
      EXPECT_EQ(item.error->code, ErrorCode::kUnsupportedMedia) << item.error->ToString();
    }
    ++errors_named;
  }
  EXPECT_EQ(errors_named, 2);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().files_done, 9);
  EXPECT_EQ(seen.back().files_total, 9);
  EXPECT_EQ(seen.back().bytes_done, seen.back().bytes_total);

  // Nothing half-stored: exactly the four added originals exist.
  EXPECT_EQ(library_.CountBlobs("originals/"), 4);

  Summary again = ingestor_->IngestPaths({dir}, Owner("o"));
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.existed, 4);
}

// A stop asked for (ingest --process on SIGINT) ends the ingest before the next file; the
// files already done stay done and are reported, the rest are counted as not started.
TEST_F(IngestTest, AStopRequestEndsTheIngestBeforeTheNextFile) {
  std::string dir = FolderOf({samples_->H264AacMp4(), samples_->Mp3(), samples_->Wav()});
  Options options = Owner("o");
  int items = 0;
  options.on_item = [&](const ItemResult&) { ++items; };
  options.stop_requested = [&] { return items >= 1; };
  Summary summary = ingestor_->IngestPaths({dir}, options);
  EXPECT_EQ(summary.added, 1);
  EXPECT_EQ(summary.items.size(), 1u);
  EXPECT_EQ(summary.not_started, 2);
  EXPECT_EQ(library_.CountBlobs("originals/"), 1);
}

TEST_F(IngestTest, ProgressIsReportedWhileALargeFileIsCopied) {
  std::string wav = input_.Join("long.wav");  // 30 s of 48 kHz stereo s16: 5.76 MB
  ASSERT_TRUE(testing::Ffmpeg({"-f", "lavfi", "-i", "anoisesrc=d=30:r=48000:seed=5", "-ac", "2",
                               "-c:a", "pcm_s16le", wav}));
  int64_t size = static_cast<int64_t>(fs::file_size(wav));
  std::vector<int64_t> bytes_seen;
  Summary summary = ingestor_->IngestPaths(
      {wav}, Owner("o"), [&](const Progress& p) { bytes_seen.push_back(p.bytes_done); });
  ASSERT_EQ(summary.added, 1);
  int intermediate = 0;
  for (int64_t b : bytes_seen) intermediate += (b > 0 && b < size) ? 1 : 0;
  EXPECT_GE(intermediate, 3) << "one report per copied chunk";
  EXPECT_TRUE(std::is_sorted(bytes_seen.begin(), bytes_seen.end()));
  EXPECT_EQ(bytes_seen.back(), size);
}

TEST_F(IngestTest, FilesOverTheSizeLimitAreSkipped) {
  Options options = Owner("o");
  options.max_file_bytes = 1000;
  ItemResult item = ingestor_->IngestFile(samples_->H264AacMp4(), options);
  EXPECT_EQ(item.outcome, Outcome::kSkipped);
  EXPECT_EQ(item.skip_reason, "too_large");
}

}  // namespace
}  // namespace reprise::ingest
