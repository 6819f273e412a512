#include "media/output_container.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <span>
#include <utility>
#include <vector>

extern "C" {
#include <libavutil/opt.h>
}

#include "core/temp_file.h"

namespace reprise::media {
namespace {

constexpr int kIoBufferSize = 256 * 1024;

}  // namespace

// The seekable file the muxer writes into: a TempFile read back once by Finish(). Keeps
// its own position so seeks are arithmetic and writes are positioned.
class OutputContainer::Spool {
 public:
  static Result<std::unique_ptr<Spool>> Create(const std::string& dir) {
    auto file = TempFile::Create(dir);
    if (!file) return Fail(file.error());
    return std::unique_ptr<Spool>(new Spool(std::move(*file)));
  }

  int64_t size() const { return size_; }
  // The first write or seek failure, which libavformat only sees as an AVERROR.
  const std::optional<Error>& error() const { return error_; }

  static int Write(void* opaque, uint8_t* data, int size) {
    auto& spool = *static_cast<Spool*>(opaque);
    auto written = spool.file_->WriteAt(spool.position_,
                                        std::as_bytes(std::span(data, static_cast<size_t>(size))));
    if (!written) {
      spool.error_ = written.error();
      return AVERROR(EIO);
    }
    spool.position_ += size;
    spool.size_ = std::max(spool.size_, spool.position_);
    return size;
  }

  static int64_t Seek(void* opaque, int64_t offset, int whence) {
    auto& spool = *static_cast<Spool*>(opaque);
    int64_t target = 0;
    switch (whence & ~AVSEEK_FORCE) {
      case AVSEEK_SIZE:
        return spool.size_;
      case SEEK_SET:
        target = offset;
        break;
      case SEEK_CUR:
        target = spool.position_ + offset;
        break;
      case SEEK_END:
        target = spool.size_ + offset;
        break;
      default:
        return AVERROR(EINVAL);
    }
    if (target < 0) return AVERROR(EINVAL);
    spool.position_ = target;
    return target;
  }

  Result<void> CopyTo(ByteWriter& out) const { return file_->CopyTo(0, size_, out); }

 private:
  explicit Spool(std::unique_ptr<TempFile> file) : file_(std::move(file)) {}

  std::unique_ptr<TempFile> file_;
  int64_t position_ = 0;
  int64_t size_ = 0;
  std::optional<Error> error_;
};

OutputContainer::OutputContainer(std::unique_ptr<Spool> spool, IoPtr io, OutputFormatPtr format)
    : spool_(std::move(spool)), io_(std::move(io)), format_(std::move(format)) {}

OutputContainer::~OutputContainer() = default;

Result<std::unique_ptr<OutputContainer>> OutputContainer::Open(
    std::string_view format_name, const OutputContainerOptions& options) {
  std::string name(format_name);
  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, name.c_str(), nullptr);
  OutputFormatPtr format(raw);
  if (rc < 0 || !format) {
    return Fail(AvError(rc < 0 ? rc : AVERROR_MUXER_NOT_FOUND, ErrorCode::kInvalidArgument,
                        "libavformat has no muxer named \"" + name + "\""));
  }
  for (const auto& [key, value] : options.muxer_options) {
    rc = av_opt_set(format.get(), key.c_str(), value.c_str(), AV_OPT_SEARCH_CHILDREN);
    if (rc < 0) {
      return Fail(AvError(rc, ErrorCode::kInvalidArgument,
                          "muxer " + name + " refuses option " + key + "=" + value));
    }
  }
  auto spool = Spool::Create(options.spool_dir);
  if (!spool) return Fail(spool.error());
  IoPtr io =
      NewIo(kIoBufferSize, /*writable=*/true, spool->get(), nullptr, &Spool::Write, &Spool::Seek);
  format->pb = io.get();
  format->flags |= AVFMT_FLAG_CUSTOM_IO;
  // libavformat flushes its I/O after every packet unless told not to: one write per
  // 4 KiB WAV packet or 576-byte MP3 frame. The spool is seekable; whole buffers suffice.
  format->flush_packets = 0;
  return std::unique_ptr<OutputContainer>(
      new OutputContainer(std::move(*spool), std::move(io), std::move(format)));
}

std::string OutputContainer::Name() const { return format_->oformat->name; }

Result<int> OutputContainer::AddStream(const AVCodecContext& encoder) {
  if (header_written_) {
    return Fail(ErrorCode::kInvalidArgument, Name() + ": stream added after the header");
  }
  AVStream* stream = avformat_new_stream(format_.get(), nullptr);
  if (stream == nullptr) return Fail(ErrorCode::kInternal, Name() + ": cannot add a stream");
  int rc = avcodec_parameters_from_context(stream->codecpar, &encoder);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, Name() + ": cannot add a stream"));
  stream->time_base = encoder.time_base;
  return stream->index;
}

Result<void> OutputContainer::WriteHeader() {
  if (header_written_ || finished_) {
    return Fail(ErrorCode::kInvalidArgument, Name() + ": header written twice");
  }
  int rc = avformat_write_header(format_.get(), nullptr);
  if (rc < 0) {
    if (spool_->error()) return Fail(*spool_->error());
    return Fail(
        AvError(rc, ErrorCode::kInvalidArgument, "muxer " + Name() + " refuses its streams"));
  }
  header_written_ = true;
  return {};
}

Result<void> OutputContainer::WritePacket(AVPacket& packet, int stream, AVRational time_base) {
  if (!header_written_ || finished_) {
    return Fail(ErrorCode::kInvalidArgument, Name() + ": packet outside header and trailer");
  }
  if (stream < 0 || stream >= static_cast<int>(format_->nb_streams)) {
    return Fail(ErrorCode::kInvalidArgument, Name() + ": no stream " + std::to_string(stream));
  }
  packet.stream_index = stream;
  av_packet_rescale_ts(&packet, time_base, format_->streams[stream]->time_base);
  int rc = av_interleaved_write_frame(format_.get(), &packet);
  if (rc < 0) {
    if (spool_->error()) return Fail(*spool_->error());
    return Fail(AvError(rc, InputDataCode(rc), "muxer " + Name() + " refuses a packet"));
  }
  return {};
}

Result<int64_t> OutputContainer::Finish() {
  if (!header_written_ || finished_) {
    return Fail(ErrorCode::kInvalidArgument, Name() + ": finished without a header or twice");
  }
  finished_ = true;
  int rc = av_write_trailer(format_.get());
  if (rc >= 0) avio_flush(io_.get());
  if (spool_->error()) return Fail(*spool_->error());
  if (rc < 0) return Fail(AvError(rc, InputDataCode(rc), "muxer " + Name() + " cannot finish"));
  trailer_written_ = true;
  return spool_->size();
}

Result<void> OutputContainer::CopyTo(ByteWriter& out) const {
  if (!trailer_written_) {
    return Fail(ErrorCode::kInvalidArgument, Name() + ": copied before it was finished");
  }
  return spool_->CopyTo(out);
}

}  // namespace reprise::media
