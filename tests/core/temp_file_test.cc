#include "core/temp_file.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace reprise {
namespace {

class CollectingWriter final : public ByteWriter {
 public:
  Result<void> Write(std::span<const std::byte> data) override {
    text.append(reinterpret_cast<const char*>(data.data()), data.size());
    return {};
  }
  std::string text;
};

std::span<const std::byte> Bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

TEST(TempFile, WritesAtOffsetsAndCopiesRangesBackLeavingNoName) {
  testing::TempDir dir;
  auto file = TempFile::Create(dir.path());
  ASSERT_TRUE(file) << file.error().ToString();
  ASSERT_TRUE((*file)->WriteAt(0, Bytes("hello world")));
  ASSERT_TRUE((*file)->WriteAt(6, Bytes("there")));  // overwrite in place, as a muxer seeks
  std::string big(600 * 1024, 'x');                  // more than the copy buffer
  ASSERT_TRUE((*file)->WriteAt(11, Bytes(big)));

  CollectingWriter whole;
  ASSERT_TRUE((*file)->CopyTo(0, 11 + static_cast<int64_t>(big.size()), whole));
  EXPECT_EQ(whole.text, "hello there" + big);
  CollectingWriter part;
  ASSERT_TRUE((*file)->CopyTo(6, 5, part));
  EXPECT_EQ(part.text, "there");
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "the file has no name";

  CollectingWriter past_end;
  auto short_read = (*file)->CopyTo(0, 11 + static_cast<int64_t>(big.size()) + 1, past_end);
  ASSERT_FALSE(short_read);
  EXPECT_EQ(short_read.error().code, ErrorCode::kIo);
}

TEST(TempFile, AMissingDirectoryIsAnIoErrorNamingIt) {
  auto file = TempFile::Create("/nonexistent/reprise-temp");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, ErrorCode::kIo);
  EXPECT_NE(file.error().message.find("/nonexistent/reprise-temp"), std::string::npos);
}

}  // namespace
}  // namespace reprise
