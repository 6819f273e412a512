// BytePipe: a bounded buffer between a thread that pushes bytes (a download's sink) and
// one that pulls them through the ByteSource interface (ingest), so a download streams
// into the blob store without ever holding more than `capacity` bytes.
//
// Write() blocks while the buffer is full and returns false once the reader has gone
// (CloseReader), so the writer stops early. The writer ends the stream with Finish():
// with no error the reader sees end of stream once the buffer is drained; with an error
// the reader's next Read() returns it (so a failed download is never taken for a short
// file). Read() blocks until bytes, the end or the error arrive.
//
// Thread-safety: one writer thread and one reader thread at a time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "core/error.h"
#include "core/io.h"

namespace reprise {

class BytePipe final : public ByteSource {
 public:
  BytePipe(size_t capacity, std::string name) : capacity_(capacity), name_(std::move(name)) {}

  // Writer side.
  [[nodiscard]] bool Write(std::span<const std::byte> data);
  void Finish(std::optional<Error> error = std::nullopt);

  // Reader side.
  [[nodiscard]] Result<size_t> Read(std::span<std::byte> buffer) override;
  [[nodiscard]] std::string Name() const override { return name_; }
  void CloseReader();

  // The most bytes ever held at once (tests check the bound).
  [[nodiscard]] size_t peak() const;

 private:
  const size_t capacity_;
  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::byte> buffer_;
  bool finished_ = false;
  bool reader_closed_ = false;
  std::optional<Error> error_;
  size_t peak_ = 0;
};

}  // namespace reprise
