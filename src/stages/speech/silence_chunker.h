// SilenceChunker: cuts a stream of 16 kHz mono s16 audio into chunks of at most
// `max_chunk_seconds`, each cut at the quietest moment of the chunk's second half, with
// `overlap_seconds` of audio shared by the chunks on either side of a cut. Both
// transcript backends recognize chunk by chunk: PocketSphinx keeps its search bounded,
// the remote backend uploads bounded files. Audio shorter than one chunk is one chunk.
//
// The seam: a cut at time T ends the chunk before it at T + overlap/2 and starts the next
// at T - overlap/2, so a word near T is heard whole by at least one side. Each chunk
// carries its keep window [keep_from, keep_until) (the cuts around it); KeepWithin()
// keeps from a chunk's recognized segments only the words whose midpoint lies in its
// window, so a word heard by both sides is kept once and a word is only lost when both
// sides place its middle on the other's side of T (times agree to a frame or two).
// Segments without word times are kept or dropped whole by their own midpoint.
//
// Voice activity: speech rises and falls with its syllables and pauses; silence, tones,
// hum and steady noise do not. A chunk is `voiced` when its loudest 100 ms block stands
// kVoiceRangeDb or more above its quiet blocks (the 10th percentile); the transcript stage
// sends only voiced chunks to the recognizer, which keeps PocketSphinx from hearing words
// in noise and a remote backend from being paid for silence. A steady sound that starts
// or stops inside a chunk makes it voiced: the recognizer decides then.
//
// Memory: at most one chunk of samples (max_chunk_seconds * 32 KB) plus 10 ms energies
// for it, whatever the length of the input. Not thread-safe; one per run.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "core/error.h"
#include "stages/speech/recognizer.h"

namespace reprise::stages::speech {

struct ChunkerOptions {
  double max_chunk_seconds = 30;  // [kMinChunkSeconds, kMaxChunkSeconds]
  double overlap_seconds = 1;     // [0, max_chunk_seconds / 4]
};

struct Chunk {
  std::span<const int16_t> samples;  // valid only during the Emit call
  double start_seconds = 0;          // time of samples[0] in the input
  double keep_from = 0;              // the words this chunk owns: midpoint in
  double keep_until = 0;             // [keep_from, keep_until); +-infinity at the ends
  bool voiced = false;               // loudness varies as speech does (see above)
};

class SilenceChunker final {
 public:
  static constexpr double kMinChunkSeconds = 1;
  static constexpr double kMaxChunkSeconds = 600;
  static constexpr double kVoiceRangeDb = 10;

  // Receives each chunk; an error stops the chunker and is returned by Push()/Finish().
  using Emit = std::function<Result<void>(const Chunk&)>;

  // kInvalidArgument when the options lie outside their ranges. `start_seconds` is the
  // time of the first sample that will be pushed.
  [[nodiscard]] static Result<SilenceChunker> Create(ChunkerOptions options, double start_seconds);

  // Appends samples, emitting every chunk that became complete.
  [[nodiscard]] Result<void> Push(std::span<const int16_t> samples, const Emit& emit);
  // Emits what is left as the last chunk (nothing when no sample was pushed).
  [[nodiscard]] Result<void> Finish(const Emit& emit);

  int64_t samples_pushed() const { return pushed_; }

 private:
  SilenceChunker(int64_t max_samples, int64_t half_overlap, double start_seconds)
      : max_samples_(max_samples), half_overlap_(half_overlap), start_seconds_(start_seconds) {}

  double TimeAt(int64_t sample) const;
  int64_t QuietestCut() const;  // a frame boundary in the buffer's second half
  [[nodiscard]] Result<void> EmitCut(const Emit& emit);
  bool Voiced(int64_t samples) const;  // of the buffer's first `samples`

  int64_t max_samples_;
  int64_t half_overlap_;
  double start_seconds_;
  int64_t pushed_ = 0;
  int64_t buffer_start_ = 0;  // input sample index of buffer_[0]
  double keep_from_ = -std::numeric_limits<double>::infinity();
  std::vector<int16_t> buffer_;
  std::vector<double> energy_;  // per complete 10 ms frame of buffer_
};

// The segments of `segments` (one chunk's recognition) that the chunk owns: words whose
// midpoint lies in [keep_from, keep_until), their segments shrunk to the kept words and
// their text rebuilt; segments left without words are dropped.
std::vector<Segment> KeepWithin(std::vector<Segment> segments, double keep_from, double keep_until);

}  // namespace reprise::stages::speech
