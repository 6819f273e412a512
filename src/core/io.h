// Byte-stream contracts shared by every layer: a forward-only source (an upload as it
// arrives, a download), a seekable reader (a local file, a blob in the store) and a
// writer. Media decoding reads through ByteReader so nothing above the blob layer needs
// a file path; ingest takes any ByteSource, so a stream is read exactly once.
//
// Read() returns the number of bytes read; 0 means end of stream. Errors are kIo for
// files and blobs; a source over a network may say kUnavailable or kCancelled.
// Implementations are not thread-safe; use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/error.h"

namespace reprise {

// Read-once: no seeking, size unknown until the end.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  [[nodiscard]] virtual Result<size_t> Read(std::span<std::byte> buffer) = 0;
  // Human-readable name for error messages (a path, a blob key, an upload).
  [[nodiscard]] virtual std::string Name() const = 0;
};

// A source that can also seek and usually knows its size.
class ByteReader : public ByteSource {
 public:
  // Moves the read position to `offset` bytes from the start.
  [[nodiscard]] virtual Result<void> Seek(int64_t offset) = 0;
  // Total size in bytes, or -1 when unknown (a stream).
  [[nodiscard]] virtual int64_t Size() const = 0;
};

class ByteWriter {
 public:
  virtual ~ByteWriter() = default;
  [[nodiscard]] virtual Result<void> Write(std::span<const std::byte> data) = 0;
};

// Opens a local file for reading. Errors: kNotFound when it does not exist, kIo otherwise.
Result<std::unique_ptr<ByteReader>> OpenFileReader(const std::string& path);

// A reader over bytes held in memory (an upload already buffered, an encoded thumbnail,
// fuzz input). It owns `data`. Seeking past the end is allowed, as with a file: reads
// there return 0. Never fails except on a negative seek (kIo).
std::unique_ptr<ByteReader> OpenMemoryReader(std::string data, std::string name = "<memory>");

// Reads the whole stream into memory. For small things only (thumbnails, JSON).
Result<std::string> ReadAll(ByteReader& reader);

}  // namespace reprise
