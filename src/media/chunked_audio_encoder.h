// ChunkedAudioEncoder: one audio encode (AAC for HLS) spread over a few threads inside one asset,
// with the result a continuous encode would give: the same packet timestamps, the same decoded
// length to the sample, no seam at the joins.
//
// How: the input is cut into chunks of `chunk_seconds` whose boundaries fall on
// multiples of the encoder's frame size, counted from the first sample. When the length
// is known in advance (`expected_samples`, the probe's duration), the chunks shrink in
// the last round: what remains is shared out among the threads, again and again, never
// in chunks under two seconds, so the workers finish together instead of one encoding a
// whole last chunk alone.
//
// Chunk i covers samples [S, E) and is encoded by a fresh encoder fed
// [S - pre_roll, E + post_roll): the pre-roll primes the codec's overlap (an AAC frame's
// window reaches one frame back) and lets its psychoacoustic and rate state settle; the
// post-roll gives the last kept frames their look-ahead. Input timestamps are absolute
// sample indices, so a packet's pts is what the continuous encode gives it (input pts
// minus the encoder delay); a chunk keeps exactly the packets with pts in
// [S - delay, E - delay) and drops the rest. Only the first chunk keeps the encoder's
// priming packets and only the last is flushed to the end, so encoder delay and end
// padding appear once, as in a continuous encode.
//
// Priority: the workers run at a lower CPU priority than the rest of the process (nice
// +`worker_nice`, Linux per-thread nice). An asset's other encodes are sequential (MP3
// on its own thread, the decode loop) and bound its time; the chunks are the work that
// can go anywhere, so they take the CPU those leave and never slow them. On a 60 s file
// this shortens the whole job by about a seventh (docs/PERFORMANCE.md).
//
// Threads and memory: Add() and Finish() run on the caller's thread (the decode loop)
// and only copy samples and hand full chunks to a pool of `threads` workers; they block
// only while `threads + 2` chunks are in flight (queued, encoding, or encoded but not
// yet delivered): two chunks of slack let the decode loop run ahead and keep feeding the
// other stages that share it while the workers are busy. Memory is therefore bounded by
// a few chunks of PCM (3.8 MB per 10 s of 48 kHz stereo), never by the input's length. With threads
// == 1 there is no pool and no chunking: one encoder runs on the caller's thread (the reference the
// chunked encode is measured against).
//
// Codecs: any media/audio_encoder.h encoder whose packets decode without bytes of
// earlier packets and whose packet pts is input pts minus its delay, as FFmpeg's `aac`.
// Not MP3: its bit reservoir lets a frame's data start inside earlier frames, so a
// join would reference dropped bytes. The input must be planar float at the configured
// rate and channel count (the encoder converts from there to what it takes).
//
// Packets reach `on_packet` on the caller's thread, inside Add() or Finish(), in
// presentation order, with pts/dts/duration in time_base() (1/sample_rate). An error
// from on_packet or an encoder stops the encode and is returned by the call that saw it;
// the encoder is then unusable. Destroying an encoder without Finish() stops its
// workers (they notice between codec frames) and joins them. Not thread-safe: one
// caller thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "media/audio_encoder.h"
#include "media/ffmpeg.h"

namespace reprise::media {

struct ChunkingOptions {
  // Encoder threads; 0 means std::thread::hardware_concurrency(). 1 encodes
  // continuously on the caller's thread.
  int threads = 0;
  // Length of one chunk, rounded to whole codec frames (at least one).
  double chunk_seconds = 10;
  // Codec frames encoded before a chunk's start (beyond the encoder delay) and dropped.
  int pre_roll_frames = 8;
  // The input's expected length in samples (0: unknown): lets the last chunks shrink.
  // Only a hint: a longer or shorter input is encoded all the same.
  int64_t expected_samples = 0;
  // Added to the workers' nice value (0..19; 0 leaves them at the caller's priority).
  int worker_nice = 10;
};

class ChunkedAudioEncoder {
 public:
  using PacketFn = std::function<Result<void>(AVPacket& packet)>;

  // Opens the encoder once to learn its frame size, delay and stream parameters;
  // config.first_pts is ignored (timestamps count samples from 0). AudioEncoder::Open()'s
  // errors; kInvalidArgument for bad options.
  [[nodiscard]] static Result<std::unique_ptr<ChunkedAudioEncoder>> Create(
      const AudioEncoderConfig& config, const ChunkingOptions& options, PacketFn on_packet);

  ~ChunkedAudioEncoder();
  ChunkedAudioEncoder(const ChunkedAudioEncoder&) = delete;
  ChunkedAudioEncoder& operator=(const ChunkedAudioEncoder&) = delete;

  // Appends planar float samples at the configured rate and channel count.
  // kInvalidArgument when the frame is in another format.
  [[nodiscard]] Result<void> Add(const AVFrame& frame);
  // Encodes what is left, waits for the workers and delivers every remaining packet.
  [[nodiscard]] Result<void> Finish();

  // Fills what a muxer needs to declare the stream (codec, extradata, rate, layout, bit
  // rate, frame size, initial padding).
  [[nodiscard]] Result<void> FillParameters(AVCodecParameters& parameters) const;
  [[nodiscard]] AVRational time_base() const { return AVRational{1, config_.sample_rate}; }
  [[nodiscard]] int frame_size() const { return frame_size_; }
  // Encoder delay in samples: the first packet's pts is -initial_padding().
  [[nodiscard]] int initial_padding() const { return initial_padding_; }
  [[nodiscard]] int threads() const { return threads_; }
  // The longest chunk, in samples.
  [[nodiscard]] int64_t chunk_samples() const { return chunk_samples_; }
  // Samples given to Add() so far.
  [[nodiscard]] int64_t samples() const { return samples_in_; }
  // Chunks handed to the workers so far.
  [[nodiscard]] int64_t chunks() const { return chunks_; }

  struct Chunk;  // one chunk's samples and, once encoded, its kept packets

 private:
  ChunkedAudioEncoder(AudioEncoderConfig config, PacketFn on_packet);

  [[nodiscard]] Result<void> EncodeChunk(Chunk& chunk);
  void StartWorkers();
  void WorkerLoop();
  // Length of the chunk starting at sample `start`: chunk_samples_, less near the
  // expected end.
  [[nodiscard]] int64_t ChunkLength(int64_t start) const;
  // Hands the buffered samples up to the current chunk's end (plus post-roll) to the
  // pool and keeps the next chunk's pre-roll.
  [[nodiscard]] Result<void> Submit(bool last);
  // Delivers encoded chunks in order; waits for the oldest while `bound` or more are in
  // flight (bound 0: until none is).
  [[nodiscard]] Result<void> Deliver(size_t bound);

  AudioEncoderConfig config_;
  PacketFn on_packet_;
  std::unique_ptr<AudioEncoder> prototype_;  // opened for its parameters; never fed
  int frame_size_ = 0;
  int initial_padding_ = 0;
  int threads_ = 1;
  int64_t chunk_samples_ = 0;
  int64_t min_chunk_samples_ = 0;  // the shortest a shrunk chunk gets
  int64_t expected_samples_ = 0;
  int worker_nice_ = 0;
  int64_t pre_roll_ = 0;   // samples before a chunk's start, a multiple of frame_size_
  int64_t post_roll_ = 0;  // samples after its end
  int64_t samples_in_ = 0;
  std::optional<Error> failed_;
  bool finished_ = false;

  // threads_ == 1
  std::unique_ptr<AudioEncoder> continuous_;

  // threads_ > 1: samples not yet handed out, per channel, starting at buffer_start_.
  std::vector<std::vector<float>> buffer_;
  int64_t buffer_start_ = 0;
  int64_t chunks_ = 0;
  int64_t chunk_start_ = 0;  // of the chunk being filled
  int64_t chunk_end_ = 0;

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable chunk_done_;
  std::deque<std::shared_ptr<Chunk>> queue_;    // waiting for a worker
  std::deque<std::shared_ptr<Chunk>> pending_;  // submitted, not delivered, in order
  std::atomic<bool> stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace reprise::media
