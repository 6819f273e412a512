#include "media/segment_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace reprise::media {

Result<std::unique_ptr<SegmentSpool>> SegmentSpool::Create() {
  const char* dir = std::getenv("TMPDIR");
  std::string pattern =
      std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/reprise-segments-XXXXXX";
  int fd = mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) return Fail(ErrnoError(ErrorCode::kIo, "cannot create a spool file", errno));
  // Unlinked at once: the data lives as long as the descriptor, and a crash leaves
  // nothing behind.
  unlink(pattern.c_str());
  return std::unique_ptr<SegmentSpool>(new SegmentSpool(fd));
}

SegmentSpool::~SegmentSpool() { close(fd_); }

void SegmentSpool::BeginSegment() { segments_.push_back(Range{end_, 0}); }

Result<void> SegmentSpool::Write(std::span<const std::byte> data) {
  if (segments_.empty()) return Fail(ErrorCode::kInternal, "spool write before a segment");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = pwrite(fd_, data.data() + done, data.size() - done, end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrnoError(ErrorCode::kIo, "cannot write the segment spool", errno));
    }
    done += static_cast<size_t>(n);
    end_ += n;
  }
  segments_.back().size += static_cast<int64_t>(data.size());
  return {};
}

Result<void> SegmentSpool::CopySegment(size_t index, ByteWriter& out) const {
  constexpr size_t kBuffer = 256 * 1024;
  std::vector<std::byte> buffer(kBuffer);
  const Range& range = segments_.at(index);
  int64_t done = 0;
  while (done < range.size) {
    size_t want = static_cast<size_t>(std::min<int64_t>(range.size - done, kBuffer));
    ssize_t n = pread(fd_, buffer.data(), want, range.offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Fail(ErrnoError(ErrorCode::kIo, "cannot read the segment spool", n < 0 ? errno : EIO));
    }
    REPRISE_TRY(out.Write(std::span(buffer.data(), static_cast<size_t>(n))));
    done += n;
  }
  return {};
}

}  // namespace reprise::media
