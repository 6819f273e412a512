#include "core/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace reprise {
namespace {

class FileReader final : public ByteReader {
 public:
  FileReader(int fd, int64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FileReader() override { ::close(fd_); }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  Result<size_t> Read(std::span<std::byte> buffer) override {
    while (true) {
      ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      return Fail(ErrnoError(ErrorCode::kIo, "cannot read " + path_, errno));
    }
  }

  Result<void> Seek(int64_t offset) override {
    if (::lseek(fd_, offset, SEEK_SET) < 0) {
      return Fail(ErrnoError(ErrorCode::kIo, "cannot seek in " + path_, errno));
    }
    return {};
  }

  int64_t Size() const override { return size_; }
  std::string Name() const override { return path_; }

 private:
  int fd_;
  int64_t size_;
  std::string path_;
};

class MemoryReader final : public ByteReader {
 public:
  MemoryReader(std::string data, std::string name)
      : data_(std::move(data)), name_(std::move(name)) {}

  Result<size_t> Read(std::span<std::byte> buffer) override {
    if (position_ >= data_.size() || buffer.empty()) return size_t{0};
    size_t n = std::min<uint64_t>(buffer.size(), data_.size() - position_);
    std::memcpy(buffer.data(), data_.data() + position_, n);
    position_ += n;
    return n;
  }

  Result<void> Seek(int64_t offset) override {
    if (offset < 0) {
      return Fail(ErrorCode::kIo, "cannot seek to " + std::to_string(offset) + " in " + name_);
    }
    position_ = static_cast<uint64_t>(offset);
    return {};
  }

  int64_t Size() const override { return static_cast<int64_t>(data_.size()); }
  std::string Name() const override { return name_; }

 private:
  std::string data_;
  std::string name_;
  uint64_t position_ = 0;  // may lie past the end
};

}  // namespace

std::unique_ptr<ByteReader> OpenMemoryReader(std::string data, std::string name) {
  return std::make_unique<MemoryReader>(std::move(data), std::move(name));
}

Result<std::unique_ptr<ByteReader>> OpenFileReader(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Fail(ErrnoError(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                           "cannot open " + path, err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Fail(ErrnoError(ErrorCode::kIo, "cannot stat " + path, err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Fail(ErrorCode::kInvalidArgument, path + " is a directory");
  }
  return std::make_unique<FileReader>(fd, static_cast<int64_t>(st.st_size), path);
}

Result<std::string> ReadAll(ByteReader& reader) {
  std::string out;
  if (reader.Size() > 0) out.reserve(static_cast<size_t>(reader.Size()));
  std::byte buffer[64 * 1024];
  while (true) {
    auto n = reader.Read(buffer);
    if (!n) return Fail(n.error());
    if (*n == 0) break;
    out.append(reinterpret_cast<const char*>(buffer), *n);
  }
  return out;
}

}  // namespace reprise
