// Encodes decoded audio with any libavcodec audio encoder ("libmp3lame", "aac",
// "pcm_s16le", "libopus", ...) and hands every packet to a callback, ready for a muxer
// (media/output_container.h) or anything else that takes packets.
//
// Encode() accepts frames of any size, sample rate, sample format and channel count: they
// are converted to the encoder's format (media/audio_converter.h; a new reference when
// they already match) and re-blocked through an AVAudioFifo to the encoder's frame_size
// (any size when the encoder takes variable frames, as PCM does). Timestamps are made by
// counting samples from config.first_pts in time_base() (1/sample_rate), so input
// timestamps, gaps and jitter never reach the output; a caller that needs the source's
// timeline adds its own offset. Flush() sends the last short block and drains the
// encoder; afterwards Encode() is refused. Packets arrive in the callback with pts, dts
// and duration in time_base(); the callback may take the packet's contents
// (av_interleaved_write_frame does) and its error stops the encode and comes back from
// Encode()/Flush() unchanged.
//
// What a muxer needs is in context(): time_base, frame_size, initial_padding (encoder
// delay in samples; libmp3lame reports it and sets trailing padding on its last packet
// so the MP3 muxer can write them into the LAME tag), extradata (with
// config.global_header, for MP4 and fragmented-MP4 HLS).
//
// Errors: kInvalidArgument for an unknown encoder, a rate, format or channel count it
// does not support, or an option it does not know (each message names the encoder and
// the value); the encoder's own errors (AvError) as kInternal. Not thread-safe: one
// thread at a time may call an encoder (it may move between threads between calls).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "media/audio_converter.h"
#include "media/ffmpeg.h"

namespace reprise::media {

struct AudioEncoderConfig {
  std::string codec;    // libavcodec encoder name: "libmp3lame", "aac", "pcm_s16le"
  int sample_rate = 0;  // Hz; must be one the encoder supports (see SupportedSampleRate)
  int channels = 0;     // the default layout of this count (stereo for 2, 5.1 for 6)
  // AVSampleFormat; -1 takes the encoder's first (preferred) supported format.
  int sample_format = -1;
  int64_t bit_rate = 0;  // bits per second; 0 keeps the encoder's default
  // The encoder's private AVOptions by name ("reservoir" -> "1", "aac_coder" -> "fast").
  std::map<std::string, std::string> options{};
  // Put codec headers in extradata rather than in the stream (MP4, fMP4 HLS).
  bool global_header = false;
  int64_t first_pts = 0;  // timestamp of the first sample, in 1/sample_rate
};

class AudioEncoder {
 public:
  // Receives each encoded packet; timestamps in the encoder's time_base().
  using PacketSink = std::function<Result<void>(AVPacket& packet)>;

  [[nodiscard]] static Result<std::unique_ptr<AudioEncoder>> Open(const AudioEncoderConfig& config,
                                                                  PacketSink on_packet);
  ~AudioEncoder();
  AudioEncoder(const AudioEncoder&) = delete;
  AudioEncoder& operator=(const AudioEncoder&) = delete;

  // Queues `frame`'s samples; encodes every full block. Frames with no samples are
  // ignored.
  [[nodiscard]] Result<void> Encode(const AVFrame& frame);
  // Encodes what is left and drains the encoder. Calling it again does nothing.
  [[nodiscard]] Result<void> Flush();

  [[nodiscard]] const AVCodecContext& context() const { return *context_; }
  [[nodiscard]] AVRational time_base() const { return context_->time_base; }
  // Samples handed to the encoder so far (the length of what it will have encoded,
  // without its delay and padding).
  [[nodiscard]] int64_t samples_encoded() const { return samples_sent_; }
  // Bytes of packets handed to the callback so far.
  [[nodiscard]] int64_t bytes_out() const { return bytes_out_; }

 private:
  AudioEncoder(CodecPtr context, AudioFifoPtr fifo, PacketSink on_packet, int64_t first_pts);

  [[nodiscard]] Result<void> Queue(const AVFrame& frame);
  [[nodiscard]] Result<void> SendBlocks(bool final);
  [[nodiscard]] Result<void> Send(const AVFrame* frame);

  CodecPtr context_;
  PacketSink on_packet_;
  AudioConverter converter_;
  AudioFifoPtr fifo_;  // samples waiting for a full block
  PacketPtr packet_;
  int64_t next_pts_ = 0;
  int64_t samples_sent_ = 0;
  int64_t bytes_out_ = 0;
  bool flushed_ = false;
};

// The sample rate `codec` encodes that is closest to `wanted`: `wanted` itself when the
// encoder takes any rate or lists it, otherwise the highest listed rate under it (96 kHz
// becomes 48 kHz for libmp3lame), or the lowest listed when all are higher.
// kInvalidArgument for an unknown encoder or a rate that is not positive.
[[nodiscard]] Result<int> SupportedSampleRate(std::string_view codec, int wanted);

}  // namespace reprise::media
