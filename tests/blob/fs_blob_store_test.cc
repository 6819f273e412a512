// FsBlobStore: what only a local directory has (its layout on disk, crash leftovers,
// symlinks, folder pruning); the shared contract runs on it from blob_store_contract_test.cc.
#include "blob/fs/fs_blob_store.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "blob/keys.h"
#include "core/clock.h"
#include "tests/blob/blob_store_contract.h"
#include "tests/support/test_support.h"

namespace reprise::blob {
namespace {

namespace fs = std::filesystem;
using reprise::testing::ReadFile;
using reprise::testing::TempDir;
using reprise::testing::WriteFile;

std::span<const std::byte> Bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

std::vector<std::string> DirEntries(const std::string& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> ListKeys(BlobStore& store, std::string_view prefix = "") {
  std::vector<std::string> keys;
  auto listed = store.List(prefix, [&](const BlobInfo& info) {
    keys.push_back(info.key);
    return true;
  });
  EXPECT_TRUE(IsOk(listed));
  return keys;
}

// Moves a file's modification time `seconds` into the past, as if written that long ago.
void Age(const std::string& path, int seconds) {
  struct timeval times[2]{};
  ::gettimeofday(&times[0], nullptr);
  times[0].tv_sec -= seconds;
  times[1] = times[0];
  ASSERT_EQ(::utimes(path.c_str(), times), 0) << path;
}

// A store rooted at <temp>/blobs with an `outside` sibling that no key may reach.
class FsBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.Join("blobs");
    outside_ = dir_.Join("outside");
    fs::create_directories(outside_);
    WriteFile(outside_ + "/secret", "top secret");
    auto opened = FsBlobStore::Open(root_);
    ASSERT_TRUE(IsOk(opened));
    store_ = std::move(*opened);
  }
  BlobStore& store() { return *store_; }
  std::string TempDirPath() const { return root_ + "/.tmp"; }

  TempDir dir_;
  std::string root_;
  std::string outside_;
  std::unique_ptr<BlobStore> store_;
};

TEST(FsBlobStore, KeepsNoContentTypeAndOffersNoPresignedUrl) {
  TempDir dir;
  auto store = FsBlobStore::Open(dir.Join("blobs"));
  ASSERT_TRUE(store) << store.error().ToString();
  auto writer = (*store)->NewWriter();
  ASSERT_TRUE(writer);
  (*writer)->SetContentType("video/mp4");
  ASSERT_TRUE((*writer)->Write(Bytes("clip")));
  ASSERT_TRUE((*writer)->Commit("clip.mp4"));
  auto type = (*store)->ContentType("clip.mp4");
  ASSERT_TRUE(type) << type.error().ToString();
  EXPECT_EQ(*type, "");
  EXPECT_EQ(DirEntries(dir.Join("blobs")), (std::vector<std::string>{".tmp", "clip.mp4"}))
      << "no sidecar file";
  auto url = (*store)->PresignGet("clip.mp4", 1'800'000'000, kDefaultPresignExpiry);
  ASSERT_TRUE(url) << url.error().ToString();
  EXPECT_FALSE(url->has_value()) << "the HTTP layer signs its own /blobs URLs";
}

TEST(FsBlobStore, OpenCreatesRootWithParentsAndDescribesIt) {
  TempDir dir;
  std::string root = dir.Join("deep/er/blobs");
  auto store = FsBlobStore::Open(root);
  ASSERT_TRUE(IsOk(store));
  EXPECT_TRUE(fs::is_directory(root));
  EXPECT_TRUE(fs::is_directory(root + "/.tmp"));
  EXPECT_EQ((*store)->Describe(), "fs:" + root);
  // Opening an existing store again is fine (also through the const char* overload).
  EXPECT_TRUE(IsOk(FsBlobStore::Open(root.c_str())));
}

TEST(FsBlobStore, OpenRefusesEmptyRoot) {
  EXPECT_TRUE(FailsWith(FsBlobStore::Open(std::string()), ErrorCode::kInvalidArgument));
}

TEST(FsBlobStore, OpenFailsWithErrnoWhenRootIsAFile) {
  TempDir dir;
  WriteFile(dir.Join("file"), "not a folder");
  auto store = FsBlobStore::Open(dir.Join("file"));
  ASSERT_TRUE(FailsWith(store, ErrorCode::kIo));
  EXPECT_EQ(store.error().origin.rfind("errno:", 0), 0u) << store.error().ToString();
}

TEST_F(FsBlobStoreTest, StoresBlobAsPlainFileUnderItsKey) {
  Sha256Digest digest = Sha256Of("original bytes");
  std::string key = OriginalKey(digest);
  ASSERT_TRUE(IsOk(PutBytes(store(), key, "original bytes")));
  // Operators can back the store up with rsync or inspect it with ls.
  EXPECT_EQ(ReadFile(root_ + "/" + key), "original bytes");
  EXPECT_EQ(DirEntries(root_ + "/originals"), std::vector<std::string>{key.substr(10, 2)});
}

TEST_F(FsBlobStoreTest, CommitLeavesNoTemporaryBehind) {
  ASSERT_TRUE(IsOk(PutBytes(store(), "a/b", "x")));
  EXPECT_TRUE(DirEntries(TempDirPath()).empty());
}

TEST_F(FsBlobStoreTest, WriterDestroyedWithoutCommitRemovesItsTemporary) {
  {
    auto writer = store().NewWriter();
    ASSERT_TRUE(IsOk(writer));
    ASSERT_TRUE(IsOk((*writer)->Write(Bytes("abandoned"))));
    EXPECT_EQ(DirEntries(TempDirPath()).size(), 1u) << "the write goes to a temporary";
  }
  EXPECT_TRUE(DirEntries(TempDirPath()).empty());
  EXPECT_EQ(DirEntries(root_), std::vector<std::string>{".tmp"});
}

TEST_F(FsBlobStoreTest, WriterOutlivesTheStoreThatMadeIt) {
  auto writer = store().NewWriter();
  ASSERT_TRUE(IsOk(writer));
  store_.reset();
  ASSERT_TRUE(IsOk((*writer)->Write(Bytes("late"))));
  ASSERT_TRUE(IsOk((*writer)->Commit("late/commit")));
  EXPECT_EQ(ReadFile(root_ + "/late/commit"), "late");
}

// The promise: a crash between the temporary write and the rename never leaves a
// visible blob, and the leftover is swept once it is old enough to be nobody's.
TEST_F(FsBlobStoreTest, CrashBeforeCommitLeavesNoVisibleBlob) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only _exit paths here: the child must not run the parent's gtest machinery.
    auto opened = FsBlobStore::Open(root_);
    if (!opened) ::_exit(10);
    if (!PutBytes(**opened, "done/before/crash", "complete")) ::_exit(11);
    auto writer = (*opened)->NewWriter();
    if (!writer) ::_exit(12);
    std::string chunk(64 * 1024, 'h');
    for (int i = 0; i < 16; ++i) {
      if (!(*writer)->Write(Bytes(chunk))) ::_exit(13);
    }
    ::kill(::getpid(), SIGKILL);  // dies like a crash: no destructors, no Commit
    ::_exit(14);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child exited with " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);

  EXPECT_EQ(ListKeys(store()), std::vector<std::string>{"done/before/crash"});
  auto half = store().Exists("half/written");
  ASSERT_TRUE(IsOk(half));
  EXPECT_FALSE(*half);
  auto done = GetBytes(store(), "done/before/crash");
  ASSERT_TRUE(IsOk(done));
  EXPECT_EQ(*done, "complete");

  std::vector<std::string> temps = DirEntries(TempDirPath());
  ASSERT_EQ(temps.size(), 1u) << "the crashed writer's temporary is still there";
  EXPECT_EQ(fs::file_size(TempDirPath() + "/" + temps[0]), 16u * 64 * 1024);

  // A young temporary may belong to a live writer in another process: kept.
  ASSERT_TRUE(IsOk(FsBlobStore::Open(root_)));
  EXPECT_EQ(DirEntries(TempDirPath()).size(), 1u);

  // Older than an hour: a crash leftover, swept by the next Open().
  Age(TempDirPath() + "/" + temps[0], 2 * 3600);
  ASSERT_TRUE(IsOk(FsBlobStore::Open(root_)));
  EXPECT_TRUE(DirEntries(TempDirPath()).empty());
  EXPECT_EQ(ListKeys(store()), std::vector<std::string>{"done/before/crash"});
}

TEST_F(FsBlobStoreTest, SweepUsesInjectedClockAndAge) {
  WriteFile(TempDirPath() + "/leftover", "partial");
  FakeClock clock(SystemClock().NowMicros());
  FsBlobStoreOptions options;
  options.clock = &clock;
  options.stale_temp_age_micros = int64_t{600} * 1'000'000;

  clock.Advance(int64_t{300} * 1'000'000);
  ASSERT_TRUE(IsOk(FsBlobStore::Open(root_, options)));
  EXPECT_EQ(DirEntries(TempDirPath()), std::vector<std::string>{"leftover"});

  clock.Advance(int64_t{600} * 1'000'000);
  ASSERT_TRUE(IsOk(FsBlobStore::Open(root_, options)));
  EXPECT_TRUE(DirEntries(TempDirPath()).empty());
}

TEST_F(FsBlobStoreTest, ReaderKeepsTheVersionItOpened) {
  ASSERT_TRUE(IsOk(PutBytes(store(), "v", "version one")));
  auto reader = store().Open("v");
  ASSERT_TRUE(IsOk(reader));
  ASSERT_TRUE(IsOk(PutBytes(store(), "v", "version two, longer")));
  auto first = ReadAll(**reader);
  ASSERT_TRUE(IsOk(first));
  EXPECT_EQ(*first, "version one");

  auto second = store().Open("v");
  ASSERT_TRUE(IsOk(second));
  ASSERT_TRUE(IsOk(store().Delete("v")));
  auto after_delete = ReadAll(**second);
  ASSERT_TRUE(IsOk(after_delete));
  EXPECT_EQ(*after_delete, "version two, longer");
}

TEST_F(FsBlobStoreTest, DeletePrunesFoldersItEmpties) {
  ASSERT_TRUE(IsOk(PutBytes(store(), "assets/a1/thumbnail/r1/thumb.jpg", "j")));
  ASSERT_TRUE(IsOk(PutBytes(store(), "assets/a1/probe/r1/probe.json", "{}")));
  ASSERT_TRUE(IsOk(store().Delete("assets/a1/thumbnail/r1/thumb.jpg")));
  EXPECT_EQ(DirEntries(root_ + "/assets/a1"), std::vector<std::string>{"probe"});
  ASSERT_TRUE(IsOk(store().Delete("assets/a1/probe/r1/probe.json")));
  EXPECT_EQ(DirEntries(root_), std::vector<std::string>{".tmp"}) << "root and .tmp stay";
}

TEST_F(FsBlobStoreTest, TemporaryFolderIsUnreachableByKeys) {
  EXPECT_TRUE(FailsWith(PutBytes(store(), ".tmp/x", "x"), ErrorCode::kInvalidArgument));
  EXPECT_TRUE(FailsWith(store().Open(".tmp/x"), ErrorCode::kInvalidArgument));
  EXPECT_TRUE(FailsWith(store().Delete(".tmp"), ErrorCode::kInvalidArgument));
  EXPECT_TRUE(FailsWith(PutBytes(store(), "a/.tmp", "x"), ErrorCode::kInvalidArgument));
  auto writer = store().NewWriter();
  ASSERT_TRUE(writer);
  EXPECT_TRUE(IsOk((*writer)->Write(std::as_bytes(std::span("pending", 7)))));
  ASSERT_TRUE(IsOk(PutBytes(store(), "a/b", "x")));
  // A writer's temporary is in .tmp, yet listing everything shows only real keys.
  EXPECT_EQ(ListKeys(store()), (std::vector<std::string>{"a/b"}));
}

TEST_F(FsBlobStoreTest, RefusesSegmentLongerThanFileNameLimit) {
  std::string key = "a/" + std::string(256, 'n');
  EXPECT_TRUE(FailsWith(PutBytes(store(), key, "x"), ErrorCode::kInvalidArgument));
  EXPECT_TRUE(FailsWith(store().Exists(key), ErrorCode::kInvalidArgument));
  EXPECT_TRUE(IsOk(PutBytes(store(), "a/" + std::string(255, 'n'), "x")));
}

TEST_F(FsBlobStoreTest, KeyCannotBeBothBlobAndFolder) {
  ASSERT_TRUE(IsOk(PutBytes(store(), "pair/child", "c")));
  EXPECT_TRUE(FailsWith(PutBytes(store(), "pair", "p"), ErrorCode::kConflict));
  ASSERT_TRUE(IsOk(PutBytes(store(), "leaf", "l")));
  EXPECT_TRUE(FailsWith(PutBytes(store(), "leaf/under", "u"), ErrorCode::kConflict));
  EXPECT_EQ(ListKeys(store()), (std::vector<std::string>{"leaf", "pair/child"}));
  EXPECT_TRUE(DirEntries(TempDirPath()).empty()) << "failed commits clean up";
}

TEST_F(FsBlobStoreTest, SymlinkedFolderInsideRootIsNeverFollowed) {
  fs::create_directory_symlink(outside_, root_ + "/evil");

  EXPECT_TRUE(FailsWith(store().Open("evil/secret"), ErrorCode::kIo));
  EXPECT_TRUE(FailsWith(store().Exists("evil/secret"), ErrorCode::kIo));
  EXPECT_TRUE(FailsWith(store().Size("evil/secret"), ErrorCode::kIo));
  EXPECT_TRUE(FailsWith(PutBytes(store(), "evil/planted", "x"), ErrorCode::kIo));
  EXPECT_TRUE(FailsWith(PutBytes(store(), "evil/deeper/planted", "x"), ErrorCode::kIo));
  EXPECT_TRUE(FailsWith(store().Delete("evil/secret"), ErrorCode::kIo));
  EXPECT_TRUE(ListKeys(store()).empty());
  EXPECT_TRUE(ListKeys(store(), "evil/").empty());

  EXPECT_EQ(DirEntries(outside_), std::vector<std::string>{"secret"});
  EXPECT_EQ(ReadFile(outside_ + "/secret"), "top secret");
}

TEST_F(FsBlobStoreTest, SymlinkedBlobInsideRootIsNeverFollowed) {
  fs::create_symlink(outside_ + "/secret", root_ + "/link");
  auto opened = store().Open("link");
  EXPECT_TRUE(FailsWith(opened, ErrorCode::kIo));
  EXPECT_NE(opened.error().message.find("symbolic link"), std::string::npos);
  EXPECT_TRUE(FailsWith(store().Exists("link"), ErrorCode::kIo));
  EXPECT_TRUE(ListKeys(store()).empty());

  // Deleting the key removes the link, not what it points to.
  ASSERT_TRUE(IsOk(store().Delete("link")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(root_ + "/link")));
  EXPECT_EQ(ReadFile(outside_ + "/secret"), "top secret");

  // Committing over a link replaces the link itself.
  fs::create_symlink(outside_ + "/secret", root_ + "/link");
  ASSERT_TRUE(IsOk(PutBytes(store(), "link", "ours")));
  EXPECT_FALSE(fs::is_symlink(root_ + "/link"));
  EXPECT_EQ(ReadFile(outside_ + "/secret"), "top secret");
}

TEST(FsBlobStore, OpenRefusesSymlinkedTemporaryFolder) {
  TempDir dir;
  fs::create_directories(dir.Join("blobs"));
  fs::create_directories(dir.Join("outside"));
  fs::create_directory_symlink(dir.Join("outside"), dir.Join("blobs/.tmp"));
  EXPECT_TRUE(FailsWith(FsBlobStore::Open(dir.Join("blobs")), ErrorCode::kIo));
  EXPECT_TRUE(DirEntries(dir.Join("outside")).empty());
}

TEST_F(FsBlobStoreTest, SpecialFileUnderKeyIsNotABlobAndDoesNotHang) {
  ASSERT_EQ(::mkfifo((root_ + "/fifo").c_str(), 0600), 0);
  auto exists = store().Exists("fifo");
  ASSERT_TRUE(IsOk(exists));
  EXPECT_FALSE(*exists);
  EXPECT_TRUE(FailsWith(store().Open("fifo"), ErrorCode::kNotFound));
  EXPECT_TRUE(ListKeys(store()).empty());
}

TEST_F(FsBlobStoreTest, ListsFilesPlacedByHandInKeyOrder) {
  // A store restored from a backup or copied with cp: plain files are blobs.
  fs::create_directories(root_ + "/x/y");
  WriteFile(root_ + "/x/y/z", "1");
  WriteFile(root_ + "/x-", "22");
  std::vector<BlobInfo> seen;
  ASSERT_TRUE(IsOk(store().List("", [&](const BlobInfo& info) {
    seen.push_back(info);
    return true;
  })));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].key, "x-");
  EXPECT_EQ(seen[0].size, 2);
  EXPECT_EQ(seen[1].key, "x/y/z");
  EXPECT_EQ(seen[1].size, 1);
}

}  // namespace
}  // namespace reprise::blob
