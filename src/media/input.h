// An opened media input: libavformat reading any ByteReader (a local file, a blob, later
// an HTTP body) through a custom AVIOContext, so every source is read the same way and
// memory stays bounded by one I/O buffer plus the demuxer's own state.
//
// The format is recognised from the content only; names and extensions are never
// consulted. Open() also reads stream info (find_stream_info) and refuses inputs with no
// audio or video stream.
//
// Errors from Open(), whose messages name the input (ByteReader::Name()):
//   kIo               the reader failed (worth retrying);
//   kUnsupportedMedia with origin kNotMediaOrigin: no demuxer recognises the bytes, the
//                     input is empty, or it has no audio/video stream (ingest skips these
//                     as "not_media"; test with IsNotMedia());
//   kUnsupportedMedia with an "averror:N" origin: a recognised container that is corrupt
//                     or truncated;
//   kUnsupportedMedia without origin: a playlist or concat list (HLS, DASH, ffconcat),
//                     which names other files and is refused as such, unopened.
// An Input is used by one thread at a time and must not outlive its reader.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/io.h"
#include "media/ffmpeg.h"

namespace reprise::media {

inline constexpr std::string_view kNotMediaOrigin = "reprise:not_media";
bool IsNotMedia(const Error& error);

class Input {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Input>> Open(ByteReader& reader);

  ~Input();
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  [[nodiscard]] AVFormatContext* format() const { return format_.get(); }
  [[nodiscard]] ByteReader& reader() const { return reader_; }
  [[nodiscard]] std::string name() const { return reader_.Name(); }
  // The reader's error behind the last failed libav read, so a demux failure caused by
  // storage can be told apart from corrupt data.
  [[nodiscard]] const std::optional<Error>& io_error() const { return io_error_; }

 private:
  explicit Input(ByteReader& reader);

  static int ReadPacket(void* opaque, uint8_t* buffer, int size);
  static int64_t SeekTo(void* opaque, int64_t offset, int whence);

  ByteReader& reader_;
  int64_t position_ = 0;
  std::optional<Error> io_error_;
  // Declared before format_ so it is destroyed after it: the demuxer reads through it.
  IoPtr io_;
  InputFormatPtr format_;
};

}  // namespace reprise::media
