#include "core/temp_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <vector>

namespace reprise {

Result<std::unique_ptr<TempFile>> TempFile::Create(const std::string& dir) {
  std::string where = dir;
  if (where.empty()) {
    const char* env = std::getenv("TMPDIR");
    where = env != nullptr && *env != '\0' ? env : "/tmp";
  }
  int fd = ::open(where.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string path = where + "/reprise-spool-XXXXXX";
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(path.c_str());
  }
  if (fd < 0) {
    return Fail(ErrnoError(ErrorCode::kIo, "cannot create a temporary file in " + where, errno));
  }
  return std::unique_ptr<TempFile>(new TempFile(fd));
}

TempFile::~TempFile() { ::close(fd_); }

Result<void> TempFile::WriteAt(int64_t offset, std::span<const std::byte> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done,
                         static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Fail(ErrnoError(ErrorCode::kIo, "cannot write a temporary file", n < 0 ? errno : EIO));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<void> TempFile::CopyTo(int64_t offset, int64_t size, ByteWriter& out) const {
  constexpr int64_t kChunk = 256 * 1024;
  std::vector<std::byte> buffer(static_cast<size_t>(std::min(size, kChunk)));
  for (int64_t done = 0; done < size;) {
    auto want = static_cast<size_t>(std::min(size - done, kChunk));
    ssize_t n = ::pread(fd_, buffer.data(), want, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Fail(
          ErrnoError(ErrorCode::kIo, "cannot read a temporary file back", n < 0 ? errno : EIO));
    }
    REPRISE_TRY(out.Write(std::span<const std::byte>(buffer.data(), static_cast<size_t>(n))));
    done += n;
  }
  return {};
}

}  // namespace reprise
