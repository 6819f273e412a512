// Muxes encoded streams into one file with libavformat ("wav", "mp3", "adts", "mp4",
// "mpegts", ...) and delivers the finished file to a ByteWriter, usually a
// blob::BlobWriter from a stage's OutputSink.
//
// Many muxers go back to the start when they finish: WAV writes its chunk sizes, MP3
// its Xing/LAME frame (frame count, seek table, encoder delay and padding, so players
// cut the priming samples and the duration is exact), MP4 its sizes. A BlobWriter only
// appends, so the muxer writes through a seekable custom AVIOContext into an anonymous
// spool file (a core/temp_file.h TempFile in `spool_dir`: it has no name and disappears on
// a crash), and Finish() writes the trailer, then copies the file into the writer in
// fixed-size chunks. Memory stays bounded by the I/O and copy buffers whatever the
// length; the spool takes one output's size on disk. Muxers that reopen their output by
// name (MP4 faststart, HLS playlists) are not supported here.
//
// Use: Open(), AddStream() for each encoder, WriteHeader(), WritePacket() for every
// packet, Finish(), CopyTo(). Finishing and copying are apart so a caller making several
// files can finish all of them before publishing any. Destroying a container discards
// everything it wrote.
//
// Errors: kInvalidArgument for an unknown muxer, an option it does not take, a stream it
// refuses or calls out of order; kIo when the spool cannot be created or written
// (errno text) and for the writer's errors (passed on unchanged); other libavformat
// errors as kInternal. Not thread-safe: one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/io.h"
#include "media/ffmpeg.h"

namespace reprise::media {

struct OutputContainerOptions {
  // Where the spool file lives; empty uses std::filesystem::temp_directory_path().
  std::string spool_dir{};
  // The muxer's AVOptions by name ("id3v2_version" -> "3", "write_xing" -> "0").
  std::map<std::string, std::string> muxer_options{};
};

class OutputContainer {
 public:
  // `format`: a libavformat muxer short name.
  [[nodiscard]] static Result<std::unique_ptr<OutputContainer>> Open(
      std::string_view format, const OutputContainerOptions& options = {});
  ~OutputContainer();
  OutputContainer(const OutputContainer&) = delete;
  OutputContainer& operator=(const OutputContainer&) = delete;

  // Adds a stream carrying what `encoder` (opened) makes; returns its index. Before
  // WriteHeader() only.
  [[nodiscard]] Result<int> AddStream(const AVCodecContext& encoder);
  [[nodiscard]] Result<void> WriteHeader();
  // `packet`'s timestamps are in `time_base` (the encoder's); the muxer takes its
  // contents (the packet is left blank).
  [[nodiscard]] Result<void> WritePacket(AVPacket& packet, int stream, AVRational time_base);
  // Writes the trailer; returns the file's size in bytes. Nothing can be written after.
  [[nodiscard]] Result<int64_t> Finish();
  // Copies the finished file to `out` (any number of times).
  [[nodiscard]] Result<void> CopyTo(ByteWriter& out) const;

 private:
  class Spool;
  OutputContainer(std::unique_ptr<Spool> spool, IoPtr io, OutputFormatPtr format);

  std::string Name() const;

  // Destroyed in reverse order: the muxer before its I/O, the I/O before the file.
  std::unique_ptr<Spool> spool_;
  IoPtr io_;
  OutputFormatPtr format_;
  bool header_written_ = false;
  bool finished_ = false;         // Finish() was called
  bool trailer_written_ = false;  // and succeeded
};

}  // namespace reprise::media
