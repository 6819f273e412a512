// SegmentSpool: holds the segments of a stream being cut (HLS) in one anonymous temporary
// file until they can be published, so memory stays bounded whatever the length of the
// input.
//
// Why a spool: a stage receives its OutputSink only in Finish(), after the decode pass,
// while segments are cut during it. Segments are appended to the file as they are muxed
// (BeginSegment, Write...) and copied out one by one with CopySegment() at publish time.
// The file is a core/temp_file.h TempFile in $TMPDIR (else /tmp): nothing is left behind
// by a crash.
//
// Errors: kIo naming the failed system call. One thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/io.h"
#include "core/temp_file.h"

namespace reprise::media {

class SegmentSpool final : public ByteWriter {
 public:
  [[nodiscard]] static Result<std::unique_ptr<SegmentSpool>> Create();
  SegmentSpool(const SegmentSpool&) = delete;
  SegmentSpool& operator=(const SegmentSpool&) = delete;

  // Starts the next segment: what Write() appends from now on belongs to it.
  void BeginSegment();
  // Appends to the current segment (kInternal when none was begun).
  [[nodiscard]] Result<void> Write(std::span<const std::byte> data) override;

  [[nodiscard]] size_t segment_count() const { return segments_.size(); }
  [[nodiscard]] int64_t SegmentSize(size_t index) const { return segments_[index].size; }
  // Writes segment `index` to `out`.
  [[nodiscard]] Result<void> CopySegment(size_t index, ByteWriter& out) const;

 private:
  struct Range {
    int64_t offset = 0;
    int64_t size = 0;
  };

  explicit SegmentSpool(std::unique_ptr<TempFile> file) : file_(std::move(file)) {}

  std::unique_ptr<TempFile> file_;
  int64_t end_ = 0;
  std::vector<Range> segments_;
};

}  // namespace reprise::media
