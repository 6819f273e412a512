#include "media/hls_writer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <utility>

extern "C" {
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
}

namespace reprise::media {
namespace {

// Timestamps within this of a segment boundary count as on it (keyframes forced at a
// boundary may carry a rounded pts).
constexpr double kBoundaryTolerance = 1e-3;

// How far one stream's queued packets may run ahead of a stream that has not delivered
// yet before they are written anyway (see HlsWriter::Write()).
constexpr double kMaxWaitSeconds = 90;

int64_t DecodeTime(const AVPacket& packet) {
  return HasTimestamp(packet.dts) ? packet.dts : packet.pts;
}

// profile_idc, constraint flags and level_idc of the first H.264 SPS in Annex B `data`.
std::optional<std::array<uint8_t, 3>> FindSps(std::span<const uint8_t> data) {
  for (size_t i = 0; i + 6 < data.size(); ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 && (data[i + 3] & 0x1f) == 7) {
      return std::array<uint8_t, 3>{data[i + 4], data[i + 5], data[i + 6]};
    }
  }
  return std::nullopt;
}

std::optional<std::array<uint8_t, 3>> H264Profile(const AVCodecParameters& parameters,
                                                  std::span<const uint8_t> packet) {
  std::span<const uint8_t> extradata(parameters.extradata,
                                     static_cast<size_t>(std::max(0, parameters.extradata_size)));
  if (extradata.size() >= 4 && extradata[0] == 1) {  // avcC
    return std::array<uint8_t, 3>{extradata[1], extradata[2], extradata[3]};
  }
  if (auto sps = FindSps(extradata)) return sps;
  return FindSps(packet);
}

std::string Hex(const std::array<uint8_t, 3>& bytes) {
  char text[16];
  std::snprintf(text, sizeof text, "%02x%02x%02x", bytes[0], bytes[1], bytes[2]);
  return text;
}

std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace

Result<std::unique_ptr<HlsWriter>> HlsWriter::Create(std::span<const HlsStreamSpec> streams,
                                                     size_t cut_stream, double segment_seconds) {
  if (streams.empty() || cut_stream >= streams.size() || !(segment_seconds > 0)) {
    return Fail(ErrorCode::kInvalidArgument, "HlsWriter needs streams and a segment length");
  }
  std::unique_ptr<HlsWriter> writer(new HlsWriter(cut_stream, segment_seconds));
  auto spool = SegmentSpool::Create();
  if (!spool) return Fail(spool.error());
  writer->spool_ = std::move(*spool);

  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, "mpegts", nullptr);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot create an MPEG-TS muxer"));
  writer->muxer_.reset(raw);
  for (const HlsStreamSpec& spec : streams) {
    AVStream* stream = avformat_new_stream(raw, nullptr);
    if (stream == nullptr) return Fail(ErrorCode::kInternal, "cannot add a stream to the muxer");
    writer->queues_.emplace_back();
    if (spec.describe) {
      REPRISE_TRY(spec.describe(*stream->codecpar));
      writer->Described(writer->queues_.size() - 1, spec.time_base);
    }
  }
  writer->io_ = NewIo(64 * 1024, /*writable=*/true, writer.get(), nullptr, &WriteToSpool, nullptr);
  raw->pb = writer->io_.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  // Not a write per PES packet: segments are cut by CloseSegment(), which flushes.
  raw->flush_packets = 0;
  REPRISE_TRY(writer->StartSegment(0));
  return writer;
}

void HlsWriter::Described(size_t stream, AVRational time_base) {
  AVStream& out = *muxer_->streams[stream];
  out.codecpar->codec_tag = 0;  // MP4 tags mean nothing in MPEG-TS
  out.time_base = time_base;
  Queue& queue = queues_[stream];
  queue.time_base = time_base;
  queue.video = out.codecpar->codec_type == AVMEDIA_TYPE_VIDEO;
  queue.described = true;
}

Result<void> HlsWriter::Describe(size_t stream, const AVCodecParameters& parameters,
                                 AVRational time_base) {
  if (stream >= queues_.size()) return Fail(ErrorCode::kInternal, "HlsWriter: no such stream");
  if (queues_[stream].described) return {};
  if (header_written_) {
    return Fail(ErrorCode::kInvalidArgument, "HlsWriter: a stream described after the header");
  }
  int rc = avcodec_parameters_copy(muxer_->streams[stream]->codecpar, &parameters);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot copy stream parameters"));
  Described(stream, time_base);
  return {};
}

Result<void> HlsWriter::WriteHeader() {
  for (const Queue& queue : queues_) {
    if (!queue.described) {
      return Fail(ErrorCode::kInvalidArgument, "HlsWriter: a stream without parameters");
    }
  }
  int rc = avformat_write_header(muxer_.get(), nullptr);
  REPRISE_TRY(IoResult(rc, "cannot start an MPEG-TS segment"));
  header_written_ = true;
  return {};
}

HlsWriter::~HlsWriter() = default;

int HlsWriter::WriteToSpool(void* opaque, uint8_t* buffer, int size) {
  auto* self = static_cast<HlsWriter*>(opaque);
  auto written = self->spool_->Write(
      std::span(reinterpret_cast<const std::byte*>(buffer), static_cast<size_t>(size)));
  if (!written) {
    self->io_error_ = written.error();
    return AVERROR(EIO);
  }
  return size;
}

Result<void> HlsWriter::IoResult(int rc, std::string_view what) {
  if (io_error_) return Fail(*io_error_);
  if (rc < 0) return Fail(AvError(rc, InputDataCode(rc), what));
  return {};
}

Result<void> HlsWriter::Write(size_t stream, AVPacket& packet) {
  if (finished_ || stream >= queues_.size() || queues_[stream].ended) {
    return Fail(ErrorCode::kInternal, "HlsWriter::Write on a finished stream");
  }
  if (!queues_[stream].described) {
    return Fail(ErrorCode::kInvalidArgument, "HlsWriter::Write before Describe");
  }
  PacketPtr queued = NewPacket();
  av_packet_move_ref(queued.get(), &packet);
  queues_[stream].packets.push_back(std::move(queued));
  return Pump(/*all=*/false);
}

Result<void> HlsWriter::EndStream(size_t stream) {
  if (stream >= queues_.size()) return Fail(ErrorCode::kInternal, "HlsWriter: no such stream");
  queues_[stream].ended = true;
  return Pump(/*all=*/false);
}

Result<void> HlsWriter::Pump(bool all) {
  while (true) {
    std::optional<size_t> next;
    bool waiting = false;
    for (size_t i = 0; i < queues_.size(); ++i) {
      const Queue& queue = queues_[i];
      if (queue.packets.empty()) {
        // This stream's next packet could come before any queued one: wait for it.
        waiting = waiting || (!queue.ended && !all);
        continue;
      }
      if (!next || av_compare_ts(DecodeTime(*queue.packets.front()), queue.time_base,
                                 DecodeTime(*queues_[*next].packets.front()),
                                 queues_[*next].time_base) < 0) {
        next = i;
      }
    }
    if (!next) return {};
    if (waiting) {
      // Unless a stream has run so far ahead that waiting would hold minutes of it in
      // memory (an audio track that stopped long before the video).
      const Queue& ahead = queues_[*next];
      double span = TimestampSeconds(
          DecodeTime(*ahead.packets.back()) - DecodeTime(*ahead.packets.front()), ahead.time_base);
      if (span < kMaxWaitSeconds) return {};
    }
    PacketPtr packet = std::move(queues_[*next].packets.front());
    queues_[*next].packets.pop_front();
    REPRISE_TRY(Mux(*next, *packet));
  }
}

Result<void> HlsWriter::Mux(size_t stream, AVPacket& packet) {
  if (!header_written_) REPRISE_TRY(WriteHeader());
  Queue& queue = queues_[stream];
  if (stream == cut_stream_ && HasTimestamp(packet.pts)) {
    double at = TimestampSeconds(packet.pts, queue.time_base);
    // Video cuts at the first keyframe on or after the boundary; audio before the first
    // packet that would make the segment longer than segment_seconds.
    bool cut = queue.video
                   ? (packet.flags & AV_PKT_FLAG_KEY) != 0 && at >= next_cut_ - kBoundaryTolerance
                   : at + TimestampSeconds(packet.duration, queue.time_base) >
                         segment_start_ + segment_seconds_ + kBoundaryTolerance;
    if (cut) {
      REPRISE_TRY(CloseSegment(at));
      REPRISE_TRY(StartSegment(at));
    }
  }
  if (queue.video && !codec_profile_) {
    codec_profile_ =
        H264Profile(*muxer_->streams[stream]->codecpar,
                    std::span<const uint8_t>(packet.data, static_cast<size_t>(packet.size)));
  }
  AVStream& out = *muxer_->streams[stream];
  av_packet_rescale_ts(&packet, queue.time_base, out.time_base);
  const int64_t lead = av_rescale_q(std::llround(kTimestampLead * AV_TIME_BASE),
                                    AVRational{1, AV_TIME_BASE}, out.time_base);
  if (HasTimestamp(packet.pts)) packet.pts += lead;
  if (HasTimestamp(packet.dts)) packet.dts += lead;
  packet.stream_index = static_cast<int>(stream);
  wrote_packet_ = true;
  int rc = av_write_frame(muxer_.get(), &packet);
  return IoResult(rc, "cannot write an MPEG-TS packet");
}

Result<void> HlsWriter::StartSegment(double start_seconds) {
  spool_->BeginSegment();
  segment_start_ = start_seconds;
  if (segments_.empty()) {
    next_cut_ = segment_seconds_;
  } else {
    do {
      next_cut_ += segment_seconds_;
    } while (next_cut_ <= start_seconds + kBoundaryTolerance);
  }
  // Every segment opens with PAT and PMT, so a player can start with any of them.
  int rc = av_opt_set(muxer_->priv_data, "mpegts_flags", "resend_headers", 0);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot set mpegts_flags"));
  return {};
}

Result<void> HlsWriter::CloseSegment(double end_seconds) {
  if (!finished_) {
    // Writes the PES data the muxer still holds into the segment being closed (the
    // trailer did that for the last one).
    int rc = av_write_frame(muxer_.get(), nullptr);
    REPRISE_TRY(IoResult(rc, "cannot flush an MPEG-TS segment"));
  }
  avio_flush(io_.get());
  REPRISE_TRY(IoResult(0, ""));
  segments_.push_back(HlsSegmentInfo{segment_start_, end_seconds - segment_start_,
                                     spool_->SegmentSize(spool_->segment_count() - 1)});
  return {};
}

Result<void> HlsWriter::Finish(double end_seconds) {
  if (finished_) return Fail(ErrorCode::kInternal, "HlsWriter::Finish called twice");
  finished_ = true;
  REPRISE_TRY(Pump(/*all=*/true));
  if (!wrote_packet_) return Fail(ErrorCode::kUnsupportedMedia, "no packets to segment");
  int rc = av_write_trailer(muxer_.get());
  REPRISE_TRY(IoResult(rc, "cannot finish an MPEG-TS segment"));
  return CloseSegment(std::max(end_seconds, segment_start_));
}

int64_t HlsWriter::PeakBitRate() const {
  double peak = 0;
  for (const HlsSegmentInfo& segment : segments_) {
    // A short last segment is mostly headers: it would overstate the peak.
    if (segment.duration_seconds < segment_seconds_ / 2 && segments_.size() > 1) continue;
    if (segment.duration_seconds > 0) {
      peak = std::max(peak, static_cast<double>(segment.bytes) * 8 / segment.duration_seconds);
    }
  }
  return std::llround(peak);
}

int64_t HlsWriter::AverageBitRate() const {
  double bytes = 0;
  double seconds = 0;
  for (const HlsSegmentInfo& segment : segments_) {
    bytes += static_cast<double>(segment.bytes);
    seconds += segment.duration_seconds;
  }
  return seconds > 0 ? std::llround(bytes * 8 / seconds) : 0;
}

std::string HlsWriter::CodecsString() const {
  std::string codecs;
  for (unsigned i = 0; i < muxer_->nb_streams; ++i) {
    const AVCodecParameters& parameters = *muxer_->streams[i]->codecpar;
    std::string name;
    if (parameters.codec_id == AV_CODEC_ID_H264) {
      name = "avc1." + (codec_profile_ ? Hex(*codec_profile_) : std::string("640028"));
    } else if (parameters.codec_id == AV_CODEC_ID_AAC) {
      // mp4a.40.<audio object type>: profile is the object type minus one.
      name = "mp4a.40." + std::to_string(parameters.profile >= 0 ? parameters.profile + 1 : 2);
    }
    if (name.empty()) continue;
    codecs += (codecs.empty() ? "" : ",") + name;
  }
  return codecs;
}

std::string HlsSegmentName(size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "seg_%05zu.ts", index);
  return name;
}

std::string HlsMediaPlaylist(std::span<const HlsSegmentInfo> segments) {
  double longest = 0;
  for (const HlsSegmentInfo& segment : segments) {
    longest = std::max(longest, segment.duration_seconds);
  }
  // EXTINF is printed to the microsecond: round it first so the target covers it.
  auto target = static_cast<int64_t>(std::ceil(std::round(longest * 1e6) / 1e6));
  std::string text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:" +
                     std::to_string(std::max<int64_t>(1, target)) +
                     "\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                     "#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (size_t i = 0; i < segments.size(); ++i) {
    text += "#EXTINF:" + Fixed(segments[i].duration_seconds, 6) + ",\n" + HlsSegmentName(i) + "\n";
  }
  text += "#EXT-X-ENDLIST\n";
  return text;
}

std::string HlsMasterPlaylist(std::span<const HlsVariant> variants) {
  std::string text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (const HlsVariant& variant : variants) {
    text += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(variant.bandwidth) +
            ",AVERAGE-BANDWIDTH=" + std::to_string(variant.average_bandwidth);
    if (variant.width > 0 && variant.height > 0) {
      text += ",RESOLUTION=" + std::to_string(variant.width) + "x" + std::to_string(variant.height);
    }
    if (variant.frame_rate > 0) text += ",FRAME-RATE=" + Fixed(variant.frame_rate, 3);
    if (!variant.codecs.empty()) text += ",CODECS=\"" + variant.codecs + "\"";
    text += "\n" + variant.uri + "\n";
  }
  return text;
}

}  // namespace reprise::media
