#include "stages/speech/silence_chunker.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

namespace reprise::stages::speech {
namespace {

constexpr int64_t kFrame = kSampleRate / 100;  // 10 ms
// The loudness of a candidate cut is the energy of the 200 ms around it: long enough to
// span the gap between two words, short enough to fit in a pause between phrases.
constexpr int64_t kWindowFrames = 20;

constexpr size_t kBlockFrames = 10;  // 100 ms: finer than a syllable, coarser than noise

int64_t Frames(double seconds) { return std::llround(seconds * 100); }

// Mean power of a block in dB relative to full scale, -100 for digital silence.
double BlockDb(std::span<const double> frames) {
  double energy = 0;
  for (double frame : frames) energy += frame;
  double power = energy / (static_cast<double>(frames.size() * kFrame) * 32768.0 * 32768.0);
  return 10 * std::log10(power + 1e-10);
}

}  // namespace

Result<SilenceChunker> SilenceChunker::Create(ChunkerOptions options, double start_seconds) {
  if (!(options.max_chunk_seconds >= kMinChunkSeconds &&
        options.max_chunk_seconds <= kMaxChunkSeconds)) {
    return Fail(ErrorCode::kInvalidArgument, "max chunk seconds must lie in [1, 600], got " +
                                                 std::to_string(options.max_chunk_seconds));
  }
  if (!(options.overlap_seconds >= 0 && options.overlap_seconds <= options.max_chunk_seconds / 4)) {
    return Fail(ErrorCode::kInvalidArgument,
                "overlap seconds must lie in [0, max chunk seconds / 4], got " +
                    std::to_string(options.overlap_seconds));
  }
  // Whole frames, so that every cut and every buffer start falls on a frame boundary.
  int64_t max_samples = Frames(options.max_chunk_seconds) * kFrame;
  int64_t half_overlap = Frames(options.overlap_seconds / 2) * kFrame;
  return SilenceChunker(max_samples, half_overlap, start_seconds);
}

double SilenceChunker::TimeAt(int64_t sample) const {
  return start_seconds_ + static_cast<double>(sample) / kSampleRate;
}

Result<void> SilenceChunker::Push(std::span<const int16_t> samples, const Emit& emit) {
  while (!samples.empty()) {
    size_t take = std::min(samples.size(), static_cast<size_t>(max_samples_) - buffer_.size());
    size_t before = buffer_.size();
    buffer_.insert(buffer_.end(), samples.begin(), samples.begin() + static_cast<ptrdiff_t>(take));
    samples = samples.subspan(take);
    pushed_ += static_cast<int64_t>(take);
    for (size_t frame = before / kFrame; (frame + 1) * kFrame <= buffer_.size(); ++frame) {
      if (frame < energy_.size()) continue;
      double energy = 0;
      for (size_t i = frame * kFrame; i < (frame + 1) * kFrame; ++i) {
        energy += static_cast<double>(buffer_[i]) * buffer_[i];
      }
      energy_.push_back(energy);
    }
    if (static_cast<int64_t>(buffer_.size()) == max_samples_) REPRISE_TRY(EmitCut(emit));
  }
  return {};
}

int64_t SilenceChunker::QuietestCut() const {
  // Candidates: frame boundaries from the middle of the buffer to where the chunk, with
  // its half overlap after the cut, still fits in max_samples_.
  int64_t first = (max_samples_ / 2) / kFrame;
  int64_t last = (max_samples_ - half_overlap_) / kFrame;
  std::vector<double> prefix(energy_.size() + 1, 0);
  for (size_t i = 0; i < energy_.size(); ++i) prefix[i + 1] = prefix[i] + energy_[i];
  auto frames = static_cast<int64_t>(energy_.size());
  int64_t best = last;
  double best_energy = INFINITY;
  // From the end backwards, so that among equally quiet cuts the latest (the longest
  // chunk) wins.
  for (int64_t cut = last; cut >= first; --cut) {
    int64_t from = std::max<int64_t>(0, cut - kWindowFrames / 2);
    int64_t to = std::min<int64_t>(frames, cut + kWindowFrames / 2);
    double energy = (prefix[static_cast<size_t>(to)] - prefix[static_cast<size_t>(from)]) /
                    static_cast<double>(std::max<int64_t>(1, to - from));
    if (energy < best_energy) {
      best_energy = energy;
      best = cut;
    }
  }
  return best * kFrame;
}

bool SilenceChunker::Voiced(int64_t samples) const {
  size_t frames = std::min(energy_.size(), static_cast<size_t>(samples / kFrame));
  std::vector<double> blocks;
  for (size_t at = 0; at + kBlockFrames <= frames; at += kBlockFrames) {
    blocks.push_back(BlockDb(std::span(energy_).subspan(at, kBlockFrames)));
  }
  if (frames % kBlockFrames != 0) {
    blocks.push_back(BlockDb(std::span(energy_).subspan(frames - frames % kBlockFrames)));
  }
  if (blocks.empty()) return false;
  double loudest = *std::max_element(blocks.begin(), blocks.end());
  auto quiet = blocks.begin() + static_cast<ptrdiff_t>(blocks.size() / 10);
  std::nth_element(blocks.begin(), quiet, blocks.end());
  return loudest - *quiet >= kVoiceRangeDb;
}

Result<void> SilenceChunker::EmitCut(const Emit& emit) {
  int64_t cut = QuietestCut();
  double cut_time = TimeAt(buffer_start_ + cut);
  Chunk chunk{std::span<const int16_t>(buffer_.data(), static_cast<size_t>(cut + half_overlap_)),
              TimeAt(buffer_start_), keep_from_, cut_time, Voiced(cut + half_overlap_)};
  REPRISE_TRY(emit(chunk));
  int64_t drop = cut - half_overlap_;
  buffer_.erase(buffer_.begin(), buffer_.begin() + drop);
  energy_.erase(energy_.begin(), energy_.begin() + drop / kFrame);
  buffer_start_ += drop;
  keep_from_ = cut_time;
  return {};
}

Result<void> SilenceChunker::Finish(const Emit& emit) {
  if (buffer_.empty()) return {};
  Chunk chunk{buffer_, TimeAt(buffer_start_), keep_from_, INFINITY,
              Voiced(static_cast<int64_t>(buffer_.size()))};
  REPRISE_TRY(emit(chunk));
  buffer_start_ += static_cast<int64_t>(buffer_.size());
  buffer_.clear();
  energy_.clear();
  return {};
}

std::vector<Segment> KeepWithin(std::vector<Segment> segments, double keep_from,
                                double keep_until) {
  auto owned = [&](double start, double end) {
    double middle = (start + end) / 2;
    return middle >= keep_from && middle < keep_until;
  };
  std::vector<Segment> kept;
  for (Segment& segment : segments) {
    if (segment.words.empty()) {
      if (owned(segment.start, segment.end)) kept.push_back(std::move(segment));
      continue;
    }
    size_t total = segment.words.size();
    bool first_kept = owned(segment.words.front().start, segment.words.front().end);
    bool last_kept = owned(segment.words.back().start, segment.words.back().end);
    std::erase_if(segment.words, [&](const Word& word) { return !owned(word.start, word.end); });
    if (segment.words.empty()) continue;
    if (segment.words.size() != total) {
      if (!first_kept) segment.start = segment.words.front().start;
      if (!last_kept) segment.end = segment.words.back().end;
      segment.text.clear();
      for (const Word& word : segment.words) {
        segment.text += (segment.text.empty() ? "" : " ") + word.text;
      }
    }
    kept.push_back(std::move(segment));
  }
  return kept;
}

}  // namespace reprise::stages::speech
