#include "media/input.h"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <span>
#include <string_view>

extern "C" {
#include <libavutil/mem.h>
}

namespace reprise::media {
namespace {

// Big enough that demuxing a local file costs few reader calls, small enough that many
// concurrent jobs stay cheap.
constexpr int kIoBufferSize = 64 * 1024;

// Demuxers whose input is a list of other files or URLs: never opened (see Open()).
bool ReferencesOtherFiles(const AVInputFormat& format) {
  for (std::string_view name : {"hls", "applehttp", "concat", "dash"}) {
    if (format.name == name) return true;
  }
  return false;
}

int RefuseNestedOpen(AVFormatContext* /*format*/, AVIOContext** /*io*/, const char* /*url*/,
                     int /*flags*/, AVDictionary** /*options*/) {
  return AVERROR(EPERM);
}

}  // namespace

Input::Input(ByteReader& reader) : reader_(reader) {}

Input::~Input() {
  // Close the demuxer while the I/O context it reads through still exists.
  format_.reset();
  io_.reset();
}

int Input::ReadPacket(void* opaque, uint8_t* buffer, int size) {
  auto* self = static_cast<Input*>(opaque);
  auto n = self->reader_.Read(
      std::span<std::byte>(reinterpret_cast<std::byte*>(buffer), static_cast<size_t>(size)));
  if (!n) {
    self->io_error_ = n.error();
    return AVERROR(EIO);
  }
  if (*n == 0) return AVERROR_EOF;
  self->position_ += static_cast<int64_t>(*n);
  return static_cast<int>(*n);
}

int64_t Input::SeekTo(void* opaque, int64_t offset, int whence) {
  auto* self = static_cast<Input*>(opaque);
  int64_t size = self->reader_.Size();
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) return size >= 0 ? size : AVERROR(ENOSYS);
  int64_t target = 0;
  switch (whence) {
    case SEEK_SET:
      target = offset;
      break;
    case SEEK_CUR:
      target = self->position_ + offset;
      break;
    case SEEK_END:
      if (size < 0) return AVERROR(ENOSYS);
      target = size + offset;
      break;
    default:
      return AVERROR(EINVAL);
  }
  if (target < 0) return AVERROR(EINVAL);
  auto sought = self->reader_.Seek(target);
  if (!sought) {
    self->io_error_ = sought.error();
    return AVERROR(EIO);
  }
  self->position_ = target;
  return target;
}

bool IsNotMedia(const Error& error) {
  return error.code == ErrorCode::kUnsupportedMedia && error.origin == kNotMediaOrigin;
}

Result<std::unique_ptr<Input>> Input::Open(ByteReader& reader) {
  std::unique_ptr<Input> input(new Input(reader));
  const std::string name = reader.Name();
  auto not_media = [&](std::string why) {
    return Fail(ErrorCode::kUnsupportedMedia, name + " is not media: " + why,
                std::string(kNotMediaOrigin));
  };

  input->io_ = NewIo(kIoBufferSize, /*writable=*/false, input.get(), &Input::ReadPacket, nullptr,
                     &Input::SeekTo);
  AVIOContext* io = input->io_.get();
  io->seekable = reader.Size() >= 0 ? AVIO_SEEKABLE_NORMAL : 0;

  // Probe first, apart from opening, so "no demuxer knows these bytes" (not media) can
  // be told from "a known container that is broken" (corrupt media). An empty URL keeps
  // the file name's extension out of the vote.
  const AVInputFormat* detected = nullptr;
  int rc = av_probe_input_buffer2(io, &detected, "", nullptr, 0, 0);
  if (rc < 0 || detected == nullptr) {
    if (input->io_error_) return Fail(input->io_error_->Wrap("cannot read " + name));
    if (reader.Size() == 0) return not_media("the file is empty");
    return not_media("no demuxer recognises the content");
  }

  // Refused by name: opening one would fail anyway (nothing nested may be opened, see
  // below), but with libav's own error for the first reference, e.g. ENOMEM.
  if (ReferencesOtherFiles(*detected)) {
    return Fail(ErrorCode::kUnsupportedMedia,
                name + " is a playlist (" + detected->name +
                    "): playlist/concat files that reference other files are not ingested; "
                    "ingest the files it names instead");
  }

  AVFormatContext* format = avformat_alloc_context();
  if (format == nullptr) return Fail(ErrorCode::kInternal, "out of memory opening " + name);
  format->pb = io;
  format->flags |= AVFMT_FLAG_CUSTOM_IO;
  // Every byte must come through `reader`. Playlists and references (HLS, DASH, ffconcat,
  // QuickTime data references) name other files or URLs that libav would otherwise open
  // itself, so an upload could make us read local files or fetch internal URLs. io_open
  // serves the demuxers that open through the context; an empty protocol whitelist, which
  // nested contexts (concat) inherit, stops the ones that open their own.
  format->io_open = &RefuseNestedOpen;
  format->protocol_whitelist = av_strdup("");
  if (format->protocol_whitelist == nullptr) std::abort();  // out of memory, as in NewIo()
  rc = avformat_open_input(&format, "", detected, nullptr);
  if (rc < 0) {  // avformat_open_input freed the context on failure
    if (input->io_error_) return Fail(input->io_error_->Wrap("cannot read " + name));
    return Fail(AvError(rc, ErrorCode::kUnsupportedMedia,
                        "corrupt " + std::string(detected->name) + " input " + name));
  }
  input->format_.reset(format);

  rc = avformat_find_stream_info(format, nullptr);
  if (rc < 0) {
    if (input->io_error_) return Fail(input->io_error_->Wrap("cannot read " + name));
    return Fail(AvError(rc, ErrorCode::kUnsupportedMedia, "cannot read the streams of " + name));
  }

  bool has_media = false;
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    const AVCodecParameters* par = format->streams[i]->codecpar;
    bool video = par->codec_type == AVMEDIA_TYPE_VIDEO && par->width > 0 && par->height > 0;
    bool audio = par->codec_type == AVMEDIA_TYPE_AUDIO && par->sample_rate > 0 &&
                 par->ch_layout.nb_channels > 0;
    if ((video || audio) && par->codec_id != AV_CODEC_ID_NONE) has_media = true;
  }
  if (!has_media) return not_media("it has no audio or video stream");
  return input;
}

}  // namespace reprise::media
