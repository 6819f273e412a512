#include "media/segment_spool.h"

#include <utility>

namespace reprise::media {

Result<std::unique_ptr<SegmentSpool>> SegmentSpool::Create() {
  auto file = TempFile::Create();
  if (!file) return Fail(file.error());
  return std::unique_ptr<SegmentSpool>(new SegmentSpool(std::move(*file)));
}

void SegmentSpool::BeginSegment() { segments_.push_back(Range{end_, 0}); }

Result<void> SegmentSpool::Write(std::span<const std::byte> data) {
  if (segments_.empty()) return Fail(ErrorCode::kInternal, "spool write before a segment");
  REPRISE_TRY(file_->WriteAt(end_, data));
  end_ += static_cast<int64_t>(data.size());
  segments_.back().size += static_cast<int64_t>(data.size());
  return {};
}

Result<void> SegmentSpool::CopySegment(size_t index, ByteWriter& out) const {
  const Range& range = segments_.at(index);
  return file_->CopyTo(range.offset, range.size, out);
}

}  // namespace reprise::media
