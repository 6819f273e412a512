// The in-memory reader behaves like a file: chunked reads, seeks (also past the end),
// and a size known up front.
#include "core/io.h"

#include <gtest/gtest.h>

namespace reprise {
namespace {

std::string ReadUpTo(ByteReader& reader, size_t count) {
  std::string out(count, '\0');
  auto n = reader.Read(std::as_writable_bytes(std::span(out)));
  EXPECT_TRUE(n) << n.error().ToString();
  out.resize(n ? *n : 0);
  return out;
}

TEST(MemoryReader, ReadsInChunksThenReportsEnd) {
  auto reader = OpenMemoryReader("abcdefg", "mem");
  EXPECT_EQ(reader->Size(), 7);
  EXPECT_EQ(reader->Name(), "mem");
  EXPECT_EQ(ReadUpTo(*reader, 3), "abc");
  EXPECT_EQ(ReadUpTo(*reader, 3), "def");
  EXPECT_EQ(ReadUpTo(*reader, 3), "g");
  EXPECT_EQ(ReadUpTo(*reader, 3), "");
}

TEST(MemoryReader, SeeksAnywhereAndReadsNothingPastTheEnd) {
  auto reader = OpenMemoryReader("abcdefg");
  ASSERT_TRUE(reader->Seek(4));
  EXPECT_EQ(ReadUpTo(*reader, 10), "efg");
  ASSERT_TRUE(reader->Seek(0));
  EXPECT_EQ(ReadUpTo(*reader, 2), "ab");
  ASSERT_TRUE(reader->Seek(100));
  EXPECT_EQ(ReadUpTo(*reader, 10), "");
  auto negative = reader->Seek(-1);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().code, ErrorCode::kIo);
}

TEST(MemoryReader, EmptyInputIsAtEndAndReadAllReturnsEverything) {
  auto empty = OpenMemoryReader("");
  EXPECT_EQ(empty->Size(), 0);
  EXPECT_EQ(ReadUpTo(*empty, 4), "");

  std::string big(200 * 1024, 'x');
  big[123457] = 'y';
  auto reader = OpenMemoryReader(big);
  auto all = ReadAll(*reader);
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(*all, big);
}

}  // namespace
}  // namespace reprise
