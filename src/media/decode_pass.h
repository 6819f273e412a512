// The one demux/decode pass over an opened input that feeds many consumers at once.
//
// Each Subscription says what its consumer wants: decoded video converted per a
// VideoRequest, decoded audio converted per an AudioRequest, and/or every demuxed
// packet. The pass reads the input once, decodes only the streams some consumer still
// wants (the main video stream, the main audio stream), converts each decoded frame once
// per distinct request however many consumers share it, and stops reading as soon as no
// consumer wants more: a consumer that needs one frame does not cost a whole file.
// Streams nobody wants are discarded in the demuxer.
//
// Video consumers of an input without a main video stream but with cover art (an MP3
// with an embedded picture) get the decoded cover once, marked from_cover.
//
// Deliveries to one consumer come in presentation order per stream, interleaved across
// streams in file order. A consumer is fed until it answers Feed::kDone, the input ends,
// or the pass aborts it; the report says which, per subscription. Feed::kDoneWithThis
// stops one kind of delivery (a remuxer that finds it needs no decoded video stops the
// video decode after one frame) and keeps the others coming. Delivered packets carry
// their stream's parameters, time base and start offset (PacketView) for remuxing. Consumers must
// not throw (adapt them, as stages/runner does). Memory stays bounded by the demuxer's and
// decoders' buffers, never by the input's length.
//
// Errors never stop the pass as a whole: a read failure of the underlying reader (kIo)
// or an error from the progress callback (cancellation) aborts every consumer still
// being fed; a decoder that cannot be opened or a conversion that fails aborts the
// consumers that depend on it. Packets a decoder rejects as corrupt are counted and
// skipped; a demuxer error other than a read failure ends the input early, as players do.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/io.h"
#include "media/ffmpeg.h"
#include "media/input.h"
#include "media/media_info.h"

namespace reprise::media {

class FrameConsumer {
 public:
  virtual ~FrameConsumer() = default;
  virtual Feed OnVideoFrame(const VideoFrame& /*frame*/) { return Feed::kDone; }
  virtual Feed OnAudio(const AudioBuffer& /*audio*/) { return Feed::kDone; }
  virtual Feed OnPacket(const PacketView& /*packet*/) { return Feed::kDone; }
};

struct Subscription {
  FrameConsumer* consumer = nullptr;
  std::optional<VideoRequest> video;
  std::optional<AudioRequest> audio;
  bool packets = false;
};

enum class SubscriptionEnd {
  kDone,        // the consumer answered Feed::kDone
  kInputEnded,  // the input had nothing more of what it wanted
  kAborted,     // stopped by an error (SubscriptionResult::error)
};

struct SubscriptionResult {
  SubscriptionEnd end = SubscriptionEnd::kInputEnded;
  std::optional<Error> error;
};

struct PassStats {
  int64_t packets_read = 0;
  int64_t video_frames_decoded = 0;  // including a decoded cover picture
  int64_t audio_frames_decoded = 0;
  int64_t corrupt_packets = 0;  // packets or frames a decoder rejected
  bool input_ended = false;     // the demuxer reached the end (or an unreadable part)
};

struct PassProgress {
  const PassStats& stats;
  double position_seconds = 0;  // timestamp of the last packet read
  std::optional<double> duration_seconds;
};

struct PassOptions {
  // Decoder threads per stream; 0 lets libavcodec pick from the CPU count. One is the
  // default: workers get parallelism from running jobs side by side, and frame threading
  // holds frames back, so a job that wants one frame would read ahead for nothing.
  int decoder_threads = 1;
  // Called after every packet read (keep it cheap; throttle inside). Returning an error
  // stops the pass and aborts every consumer still being fed with that error: the hook
  // for cancellation and for renewing a job's lease from decode progress.
  std::function<Result<void>(const PassProgress&)> on_progress;
};

struct PassReport {
  PassStats stats;
  std::vector<SubscriptionResult> results;  // one per subscription, same order
  // The demuxer error that ended the input early, if any (for logs; consumers saw
  // kInputEnded).
  std::optional<Error> demux_error;
};

// `info` must be Probe(input). Subscriptions without any want end as kInputEnded at
// once.
PassReport RunDecodePass(Input& input, const MediaInfo& info,
                         std::span<const Subscription> subscriptions,
                         const PassOptions& options = {});

// The first video frame of `reader` (or its cover picture) converted per `request`.
// kUnsupportedMedia when there is none; Input::Open()'s errors otherwise.
Result<FramePtr> DecodeFirstVideoFrame(ByteReader& reader, const VideoRequest& request);

}  // namespace reprise::media
