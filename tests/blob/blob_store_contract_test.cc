// The BlobStore contract (blob/blob_store.h), run against every backend that instantiates
// BlobStoreContract (see blob_store_contract.h).
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "blob/blob_store.h"
#include "core/hash.h"
#include "tests/blob/blob_store_contract.h"

namespace reprise::blob {
namespace {

// Every test below, once per backend.
INSTANTIATE_TEST_SUITE_P(Backends, BlobStoreContract, ::testing::ValuesIn(BlobStoreBackends()),
                         BlobStoreBackendName);

std::vector<BlobInfo> ListAll(BlobStore& store, std::string_view prefix) {
  std::vector<BlobInfo> seen;
  auto listed = store.List(prefix, [&](const BlobInfo& info) {
    seen.push_back(info);
    return true;
  });
  EXPECT_TRUE(IsOk(listed)) << "prefix " << prefix;
  return seen;
}

std::vector<std::string> ListKeys(BlobStore& store, std::string_view prefix) {
  std::vector<std::string> keys;
  for (const auto& info : ListAll(store, prefix)) keys.push_back(info.key);
  return keys;
}

std::span<const std::byte> Bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// Deterministic bytes: a fixed seed keeps failures reproducible.
std::string PseudoRandomBytes(size_t size, uint32_t seed) {
  std::mt19937 generator(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(generator() & 0xff);
  return out;
}

TEST_P(BlobStoreContract, PutThenGetRoundTrips) {
  auto put = PutBytes(store(), "assets/a1/probe/r1/probe.json", "{\"duration\":1.5}");
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->key, "assets/a1/probe/r1/probe.json");
  EXPECT_EQ(put->size, 16);

  auto got = GetBytes(store(), "assets/a1/probe/r1/probe.json");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, "{\"duration\":1.5}");
  auto exists = store().Exists("assets/a1/probe/r1/probe.json");
  ASSERT_TRUE(IsOk(exists));
  EXPECT_TRUE(*exists);
  auto size = store().Size("assets/a1/probe/r1/probe.json");
  ASSERT_TRUE(IsOk(size));
  EXPECT_EQ(*size, 16);
}

TEST_P(BlobStoreContract, RoundTripsEveryByteValue) {
  std::string all_bytes;
  for (int round = 0; round < 3; ++round) {
    for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  }
  ASSERT_TRUE(IsOk(PutBytes(store(), "bytes", all_bytes)));
  auto got = GetBytes(store(), "bytes");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, all_bytes);
}

TEST_P(BlobStoreContract, EmptyBlobRoundTrips) {
  auto put = PutBytes(store(), "empty", "");
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->size, 0);
  auto got = GetBytes(store(), "empty");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, "");
  auto exists = store().Exists("empty");
  ASSERT_TRUE(IsOk(exists));
  EXPECT_TRUE(*exists);
}

TEST_P(BlobStoreContract, StreamsMultiMegabyteWriteInOddChunks) {
  const std::string data = PseudoRandomBytes(5 * 1024 * 1024 + 17, 42);
  auto writer = store().NewWriter();
  ASSERT_TRUE(IsOk(writer));
  const size_t chunk_sizes[] = {1, 3, 4096, 65537, 7, 1 << 20, 333};
  size_t offset = 0;
  for (size_t i = 0; offset < data.size(); ++i) {
    size_t n = std::min(chunk_sizes[i % std::size(chunk_sizes)], data.size() - offset);
    ASSERT_TRUE(IsOk((*writer)->Write(Bytes(std::string_view(data).substr(offset, n)))));
    offset += n;
    ASSERT_EQ((*writer)->BytesWritten(), static_cast<int64_t>(offset));
  }
  auto committed = (*writer)->Commit("originals/5m/big.bin");
  ASSERT_TRUE(IsOk(committed));
  EXPECT_EQ(committed->size, static_cast<int64_t>(data.size()));

  auto reader = store().Open("originals/5m/big.bin");
  ASSERT_TRUE(IsOk(reader));
  EXPECT_EQ((*reader)->Size(), static_cast<int64_t>(data.size()));
  // Read back in odd sizes too, hashing as we go: no assumption that a read fills a buffer.
  Sha256 hash;
  std::string back;
  std::vector<std::byte> buffer(100'003);
  for (size_t i = 0;; ++i) {
    size_t want = (i % 3 == 0) ? 1 : buffer.size() - (i % 7);
    auto n = (*reader)->Read(std::span(buffer.data(), want));
    ASSERT_TRUE(IsOk(n));
    if (*n == 0) break;
    hash.Update(std::span<const std::byte>(buffer.data(), *n));
    back.append(reinterpret_cast<const char*>(buffer.data()), *n);
  }
  EXPECT_EQ(hash.Finish(), Sha256Of(data));
  EXPECT_TRUE(back == data) << "content differs";
}

TEST_P(BlobStoreContract, ReaderSeeksAndReportsSizeAndName) {
  ASSERT_TRUE(IsOk(PutBytes(store(), "seek/me", "0123456789")));
  auto reader = store().Open("seek/me");
  ASSERT_TRUE(IsOk(reader));
  EXPECT_EQ((*reader)->Size(), 10);
  EXPECT_NE((*reader)->Name().find("seek/me"), std::string::npos) << (*reader)->Name();

  ASSERT_TRUE(IsOk((*reader)->Seek(6)));
  std::byte buffer[16];
  auto n = (*reader)->Read(buffer);
  ASSERT_TRUE(IsOk(n));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer), *n), "6789");
  n = (*reader)->Read(buffer);
  ASSERT_TRUE(IsOk(n));
  EXPECT_EQ(*n, 0u) << "reads at the end return 0";

  ASSERT_TRUE(IsOk((*reader)->Seek(0)));
  auto all = ReadAll(**reader);
  ASSERT_TRUE(IsOk(all));
  EXPECT_EQ(*all, "0123456789");
  EXPECT_FALSE((*reader)->Seek(-1)) << "a negative offset is refused";
}

TEST_P(BlobStoreContract, OverwriteReplacesWholeContent) {
  ASSERT_TRUE(IsOk(PutBytes(store(), "k", std::string(100'000, 'a'))));
  ASSERT_TRUE(IsOk(PutBytes(store(), "k", "short")));
  auto got = GetBytes(store(), "k");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, "short") << "no tail of the longer old version survives";
  auto size = store().Size("k");
  ASSERT_TRUE(IsOk(size));
  EXPECT_EQ(*size, 5);
  EXPECT_EQ(ListKeys(store(), ""), std::vector<std::string>{"k"});
}

TEST_P(BlobStoreContract, ConcurrentReadersSeeOldOrNewVersionNeverAMix) {
  const std::string old_version(200'000, 'o');
  const std::string new_version(150'000, 'n');
  ASSERT_TRUE(IsOk(PutBytes(store(), "hot/key", old_version)));
  std::atomic<bool> stop{false};
  std::atomic<int> write_failures{0};
  std::thread writer([&] {
    for (int i = 0; i < 60; ++i) {
      if (!PutBytes(store(), "hot/key", i % 2 == 0 ? new_version : old_version)) ++write_failures;
    }
    stop = true;
  });
  int reads = 0;
  int torn = 0;
  while (!stop || reads < 10) {
    auto got = GetBytes(store(), "hot/key");
    ASSERT_TRUE(IsOk(got));
    if (*got != old_version && *got != new_version) ++torn;
    ++reads;
  }
  writer.join();
  EXPECT_EQ(write_failures.load(), 0);
  EXPECT_EQ(torn, 0) << "of " << reads << " reads";
}

TEST_P(BlobStoreContract, MissingKeyIsAbsentNotAnError) {
  auto exists = store().Exists("nothing/here");
  ASSERT_TRUE(IsOk(exists));
  EXPECT_FALSE(*exists);
  EXPECT_TRUE(FailsWith(store().Size("nothing/here"), ErrorCode::kNotFound));
  EXPECT_TRUE(FailsWith(store().Open("nothing/here"), ErrorCode::kNotFound));
  EXPECT_TRUE(FailsWith(GetBytes(store(), "nothing/here"), ErrorCode::kNotFound));
}

TEST_P(BlobStoreContract, DeleteRemovesBlobAndIsIdempotent) {
  ASSERT_TRUE(IsOk(PutBytes(store(), "del/me", "x")));
  ASSERT_TRUE(IsOk(store().Delete("del/me")));
  auto exists = store().Exists("del/me");
  ASSERT_TRUE(IsOk(exists));
  EXPECT_FALSE(*exists);
  EXPECT_TRUE(FailsWith(store().Open("del/me"), ErrorCode::kNotFound));
  EXPECT_TRUE(IsOk(store().Delete("del/me"))) << "deleting again";
  EXPECT_TRUE(IsOk(store().Delete("never/was/there"))) << "deleting a key never written";
  EXPECT_TRUE(ListKeys(store(), "").empty());
}

TEST_P(BlobStoreContract, DeleteKeepsSiblingsAndAllowsRewriting) {
  ASSERT_TRUE(IsOk(PutBytes(store(), "a/b/c", "1")));
  ASSERT_TRUE(IsOk(PutBytes(store(), "a/b/d", "2")));
  ASSERT_TRUE(IsOk(store().Delete("a/b/c")));
  EXPECT_EQ(ListKeys(store(), ""), std::vector<std::string>{"a/b/d"});
  ASSERT_TRUE(IsOk(store().Delete("a/b/d")));
  EXPECT_TRUE(ListKeys(store(), "").empty());
  ASSERT_TRUE(IsOk(PutBytes(store(), "a/b/e", "3"))) << "writing where folders were emptied";
  EXPECT_EQ(ListKeys(store(), ""), std::vector<std::string>{"a/b/e"});
}

TEST_P(BlobStoreContract, FolderOfBlobsIsNotItselfABlob) {
  ASSERT_TRUE(IsOk(PutBytes(store(), "dir/child", "x")));
  auto exists = store().Exists("dir");
  ASSERT_TRUE(IsOk(exists));
  EXPECT_FALSE(*exists);
  EXPECT_TRUE(FailsWith(store().Size("dir"), ErrorCode::kNotFound));
  EXPECT_TRUE(FailsWith(store().Open("dir"), ErrorCode::kNotFound));
  EXPECT_TRUE(IsOk(store().Delete("dir")));
  EXPECT_EQ(ListKeys(store(), ""), std::vector<std::string>{"dir/child"});
}

TEST_P(BlobStoreContract, KeyBelowABlobDoesNotExist) {
  ASSERT_TRUE(IsOk(PutBytes(store(), "file", "x")));
  auto exists = store().Exists("file/below");
  ASSERT_TRUE(IsOk(exists));
  EXPECT_FALSE(*exists);
  EXPECT_TRUE(FailsWith(store().Open("file/below"), ErrorCode::kNotFound));
  EXPECT_TRUE(IsOk(store().Delete("file/below")));
  EXPECT_EQ(ListKeys(store(), "file/"), std::vector<std::string>{});
}

// Keys chosen so that walking folders in name order would get the order wrong: '-' and
// '0' sort around '/', so "a-c" < "a/b" < "a0" although the folder "a" sorts before "a-c".
const std::vector<std::string> kOrderingKeys = {"b",
                                                "a/c0",
                                                "aa/x",
                                                "a0",
                                                "a/c/d",
                                                "a-c",
                                                "a/b",
                                                "originals/ab/ab02",
                                                "originals/ac/ac01",
                                                "originals/ab/ab01",
                                                "a.c",
                                                "A"};

void PutAll(BlobStore& store, const std::vector<std::string>& keys) {
  for (const auto& key : keys) ASSERT_TRUE(IsOk(PutBytes(store, key, "data of " + key)));
}

std::vector<std::string> SortedWithPrefix(std::vector<std::string> keys, std::string_view prefix) {
  std::erase_if(keys, [&](const std::string& key) { return !key.starts_with(prefix); });
  std::sort(keys.begin(), keys.end());
  return keys;
}

TEST_P(BlobStoreContract, ListReturnsEveryKeyInLexicographicOrderWithSizes) {
  PutAll(store(), kOrderingKeys);
  auto listed = ListAll(store(), "");
  std::vector<std::string> keys;
  for (const auto& info : listed) {
    keys.push_back(info.key);
    EXPECT_EQ(info.size, static_cast<int64_t>(("data of " + info.key).size())) << info.key;
  }
  EXPECT_EQ(keys, SortedWithPrefix(kOrderingKeys, ""));
}

TEST_P(BlobStoreContract, ListFiltersByAnyPrefix) {
  PutAll(store(), kOrderingKeys);
  for (std::string_view prefix :
       {"a", "a/", "a/c", "a/c/", "a/c/d", "a-", "aa/", "originals/", "originals/a",
        "originals/ab/", "originals/ab/ab01", "b", "A", "nothing", "nothing/", "originals/zz/"}) {
    EXPECT_EQ(ListKeys(store(), prefix), SortedWithPrefix(kOrderingKeys, prefix))
        << "prefix " << prefix;
  }
}

TEST_P(BlobStoreContract, ListStopsWhenVisitorSaysSo) {
  PutAll(store(), kOrderingKeys);
  std::vector<std::string> seen;
  auto listed = store().List("", [&](const BlobInfo& info) {
    seen.push_back(info.key);
    return seen.size() < 3;
  });
  ASSERT_TRUE(IsOk(listed));
  auto expected = SortedWithPrefix(kOrderingKeys, "");
  expected.resize(3);
  EXPECT_EQ(seen, expected);
}

TEST_P(BlobStoreContract, UncommittedWriteIsInvisible) {
  auto writer = store().NewWriter();
  ASSERT_TRUE(IsOk(writer));
  ASSERT_TRUE(IsOk((*writer)->Write(Bytes("pending bytes"))));
  EXPECT_TRUE(ListKeys(store(), "").empty());
  ASSERT_TRUE(IsOk((*writer)->Commit("now/visible")));
  EXPECT_EQ(ListKeys(store(), ""), std::vector<std::string>{"now/visible"});
}

TEST_P(BlobStoreContract, WriterDestroyedWithoutCommitLeavesNothing) {
  {
    auto writer = store().NewWriter();
    ASSERT_TRUE(IsOk(writer));
    ASSERT_TRUE(IsOk((*writer)->Write(Bytes(std::string(70'000, 'z')))));
  }
  EXPECT_TRUE(ListKeys(store(), "").empty());
}

TEST_P(BlobStoreContract, WriterCannotBeUsedAfterCommit) {
  auto writer = store().NewWriter();
  ASSERT_TRUE(IsOk(writer));
  ASSERT_TRUE(IsOk((*writer)->Write(Bytes("first"))));
  ASSERT_TRUE(IsOk((*writer)->Commit("once")));
  EXPECT_FALSE((*writer)->Write(Bytes("more")));
  EXPECT_FALSE((*writer)->Commit("twice"));
  writer->reset();
  auto got = GetBytes(store(), "once");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, "first");
  EXPECT_EQ(ListKeys(store(), ""), std::vector<std::string>{"once"});
}

TEST_P(BlobStoreContract, FailedCommitWithBadKeyLeavesWriterUsable) {
  auto writer = store().NewWriter();
  ASSERT_TRUE(IsOk(writer));
  ASSERT_TRUE(IsOk((*writer)->Write(Bytes("payload"))));
  EXPECT_TRUE(FailsWith((*writer)->Commit("../escape"), ErrorCode::kInvalidArgument));
  ASSERT_TRUE(IsOk((*writer)->Commit("good/key")));
  auto got = GetBytes(store(), "good/key");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, "payload");
}

std::vector<std::string> BadKeys() {
  return {"",
          ".",
          "..",
          "../x",
          "a/../b",
          "a/./b",
          "a/..",
          "/abs",
          "/",
          "a//b",
          "a/",
          "a\\b",
          "\\",
          std::string("a\0b", 3),
          std::string("\0", 1),
          "a\nb",
          "tab\there",
          "del\x7f",
          "caf\xc3\xa9",
          std::string(1025, 'k')};
}

TEST_P(BlobStoreContract, RefusesEveryBadKeyInEveryMethod) {
  for (const auto& key : BadKeys()) {
    SCOPED_TRACE(::testing::PrintToString(key));
    auto writer = store().NewWriter();
    ASSERT_TRUE(IsOk(writer));
    ASSERT_TRUE(IsOk((*writer)->Write(Bytes("x"))));
    EXPECT_TRUE(FailsWith((*writer)->Commit(key), ErrorCode::kInvalidArgument));
    EXPECT_TRUE(FailsWith(PutBytes(store(), key, "x"), ErrorCode::kInvalidArgument));
    EXPECT_TRUE(FailsWith(store().Open(key), ErrorCode::kInvalidArgument));
    EXPECT_TRUE(FailsWith(GetBytes(store(), key), ErrorCode::kInvalidArgument));
    EXPECT_TRUE(FailsWith(store().Exists(key), ErrorCode::kInvalidArgument));
    EXPECT_TRUE(FailsWith(store().Size(key), ErrorCode::kInvalidArgument));
    EXPECT_TRUE(FailsWith(store().Delete(key), ErrorCode::kInvalidArgument));
    // An empty prefix lists everything and "a/" names a folder: both fine for List().
    if (key != "" && key != "a/") {
      EXPECT_TRUE(FailsWith(store().List(key, [](const BlobInfo&) { return true; }),
                            ErrorCode::kInvalidArgument));
    }
  }
  EXPECT_TRUE(ListKeys(store(), "").empty());
}

TEST_P(BlobStoreContract, AcceptsKeyOfExactlyMaximumLength) {
  std::string key;
  while (key.size() + 101 <= 1024) key += std::string(100, 's') + "/";
  key += std::string(1024 - key.size(), 'e');
  ASSERT_EQ(key.size(), 1024u);
  ASSERT_TRUE(IsOk(PutBytes(store(), key, "long")));
  auto got = GetBytes(store(), key);
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, "long");
  EXPECT_EQ(ListKeys(store(), ""), std::vector<std::string>{key});
}

TEST_P(BlobStoreContract, ConcurrentWritersAndDeletersInOneFolderNeverFail) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        std::string key = "shared/folder/t" + std::to_string(t) + "-" + std::to_string(i);
        // Each delete may empty the folder another thread is about to commit into.
        if (!PutBytes(store(), key, key)) ++failures;
        if (!store().Delete(key)) ++failures;
      }
      if (!PutBytes(store(), "shared/folder/last" + std::to_string(t), "x")) ++failures;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ListKeys(store(), ""),
            (std::vector<std::string>{"shared/folder/last0", "shared/folder/last1",
                                      "shared/folder/last2", "shared/folder/last3"}));
}

TEST_P(BlobStoreContract, DescribesItself) { EXPECT_FALSE(store().Describe().empty()); }

}  // namespace
}  // namespace reprise::blob
