// HlsWriter: cuts one rendition (a video and/or an audio stream of encoded packets) into
// MPEG-TS segments for HLS (RFC 8216), plus the media and master playlists.
//
// One mpegts muxer serves every segment: at a cut its buffered PES data is flushed into
// the segment being closed, the bytes that follow go to the next one, and PAT/PMT are
// re-sent so each segment stands alone. Segments are spooled (media/segment_spool.h)
// until the caller publishes them; their bytes never sit in memory.
//
// Cuts: video segments start at the first keyframe of the cut stream (the video) on or
// after each multiple of segment_seconds on the presentation timeline; they follow the
// keyframes the caller placed (forced at each multiple when transcoding; a source's own
// when remuxing, which may be longer: the target duration then says so). Audio-only
// segments end before the packet that would make them longer than segment_seconds, so
// they hold whole codec frames (93 AAC frames = 1.984 s at 48 kHz for 2 s) and
// TARGETDURATION is segment_seconds.
//
// Timestamps: packets come in their stream's time base with 0 at the presentation start
// (audio priming may start below 0, B-frame dts too). Write() takes packets of each
// stream in decode order; streams are interleaved here by dts, so packets of one stream
// may run ahead of another's (the video of an encode whose audio is still being chunked):
// they wait in memory until the other stream catches up or is ended with EndStream(),
// for at most 90 s of packets (then they are written anyway, interleaved less well, so
// an audio track that ends long before its video cannot hold the video in memory).
// In the files, timestamps are shifted by kTimestampLead so none is negative. Segment
// durations (EXTINF) are the differences of the cut packets' presentation times; the
// first starts at 0 and the last ends at the `end_seconds` given to Finish() (the
// source's real end, not the last codec frame's padded one).
//
// Errors: kInvalidArgument for bad streams or options (a stream never described), the
// spool's kIo, libavformat's errors as kInternal. One thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "media/ffmpeg.h"
#include "media/segment_spool.h"

namespace reprise::media {

struct HlsStreamSpec {
  // Fills the stream's codec parameters (an encoder's FillParameters()). Empty for a
  // stream copied from an input, whose parameters come with its first packet: Describe()
  // it before its first Write().
  std::function<Result<void>(AVCodecParameters& parameters)> describe;
  AVRational time_base{1, 1};  // of the packets given to Write()
};

struct HlsSegmentInfo {
  double start_seconds = 0;
  double duration_seconds = 0;
  int64_t bytes = 0;
};

class HlsWriter {
 public:
  static constexpr double kTimestampLead = 1.4;  // seconds added to every timestamp

  // `cut_stream` indexes `streams`: the stream whose packets start segments.
  [[nodiscard]] static Result<std::unique_ptr<HlsWriter>> Create(
      std::span<const HlsStreamSpec> streams, size_t cut_stream, double segment_seconds);
  ~HlsWriter();
  HlsWriter(const HlsWriter&) = delete;
  HlsWriter& operator=(const HlsWriter&) = delete;

  // Sets the parameters and packet time base of a stream created without `describe`
  // (copied H.264 in MP4's avcC form is converted to Annex B by the muxer); later calls
  // for the same stream do nothing. The MPEG-TS header is written with the first packet,
  // so every stream must be described by then.
  [[nodiscard]] Result<void> Describe(size_t stream, const AVCodecParameters& parameters,
                                      AVRational time_base);
  // Queues `packet` (its contents are taken) and writes what interleaving allows.
  [[nodiscard]] Result<void> Write(size_t stream, AVPacket& packet);
  // No more packets will come for `stream`.
  [[nodiscard]] Result<void> EndStream(size_t stream);
  // Writes everything queued, closes the last segment at `end_seconds`.
  [[nodiscard]] Result<void> Finish(double end_seconds);

  // Closed segments (all of them after Finish()).
  [[nodiscard]] const std::vector<HlsSegmentInfo>& segments() const { return segments_; }
  [[nodiscard]] const SegmentSpool& spool() const { return *spool_; }
  // Highest and mean bit rate over the segments, bits per second (BANDWIDTH and
  // AVERAGE-BANDWIDTH of a master playlist).
  [[nodiscard]] int64_t PeakBitRate() const;
  [[nodiscard]] int64_t AverageBitRate() const;
  // CODECS of a master playlist for this rendition: "avc1.PPCCLL" for H.264 (from its
  // avcC or the first SPS written), "mp4a.40.N" for AAC, joined by commas.
  [[nodiscard]] std::string CodecsString() const;

 private:
  HlsWriter(size_t cut_stream, double segment_seconds)
      : cut_stream_(cut_stream), segment_seconds_(segment_seconds) {}

  void Described(size_t stream, AVRational time_base);
  [[nodiscard]] Result<void> WriteHeader();
  [[nodiscard]] Result<void> Pump(bool all);
  [[nodiscard]] Result<void> Mux(size_t stream, AVPacket& packet);
  [[nodiscard]] Result<void> StartSegment(double start_seconds);
  [[nodiscard]] Result<void> CloseSegment(double end_seconds);
  [[nodiscard]] Result<void> IoResult(int rc, std::string_view what);
  static int WriteToSpool(void* opaque, uint8_t* buffer, int size);

  struct Queue {
    AVRational time_base{1, 1};
    bool video = false;
    bool described = false;
    bool ended = false;
    std::deque<PacketPtr> packets;
  };

  size_t cut_stream_;
  double segment_seconds_;
  std::deque<Queue> queues_;  // a deque: Queue cannot be copied when it grows
  std::unique_ptr<SegmentSpool> spool_;
  // Declared before muxer_ so it is destroyed after it.
  IoPtr io_;
  OutputFormatPtr muxer_;
  std::optional<Error> io_error_;
  bool header_written_ = false;
  bool wrote_packet_ = false;
  std::optional<std::array<uint8_t, 3>> codec_profile_;  // H.264 profile, flags, level
  bool finished_ = false;
  double segment_start_ = 0;
  double next_cut_ = 0;
  std::vector<HlsSegmentInfo> segments_;
};

// "seg_00000.ts": segment names, relative to their media playlist.
std::string HlsSegmentName(size_t index);

// A VOD media playlist over `segments` named by HlsSegmentName(): TARGETDURATION is the
// longest EXTINF rounded up, then PLAYLIST-TYPE:VOD and ENDLIST.
std::string HlsMediaPlaylist(std::span<const HlsSegmentInfo> segments);

struct HlsVariant {
  std::string uri;  // its media playlist, relative to the master ("720p/playlist.m3u8")
  int64_t bandwidth = 0;
  int64_t average_bandwidth = 0;
  int width = 0;  // 0 for audio-only variants
  int height = 0;
  double frame_rate = 0;
  std::string codecs;  // "avc1.64001f,mp4a.40.2"
};

std::string HlsMasterPlaylist(std::span<const HlsVariant> variants);

}  // namespace reprise::media
