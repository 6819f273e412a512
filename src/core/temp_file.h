// TempFile: an anonymous temporary file for spooling output bigger than memory should
// hold (muxed files that need seeking, segments cut before they can be published).
//
// Created with O_TMPFILE in `dir` (empty: $TMPDIR, else /tmp); on a file system without
// O_TMPFILE, a named file unlinked at once. Either way nothing is left behind by a crash:
// the data lives as long as the descriptor, which closes on destruction.
//
// Errors: kIo naming the failed system call and the directory. One thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/error.h"
#include "core/io.h"

namespace reprise {

class TempFile {
 public:
  [[nodiscard]] static Result<std::unique_ptr<TempFile>> Create(const std::string& dir = "");
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  // Writes all of `data` at `offset` (pwrite, so no shared file position).
  [[nodiscard]] Result<void> WriteAt(int64_t offset, std::span<const std::byte> data);
  // Copies `size` bytes from `offset` to `out` through one fixed-size buffer.
  [[nodiscard]] Result<void> CopyTo(int64_t offset, int64_t size, ByteWriter& out) const;

 private:
  explicit TempFile(int fd) : fd_(fd) {}

  int fd_;
};

}  // namespace reprise
