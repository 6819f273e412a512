#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stages/speech/silence_chunker.h"
#include "tests/stages/speech_test_util.h"

namespace reprise::stages::speech {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

struct Seen {
  std::vector<int16_t> samples;
  double start_seconds = 0;
  double keep_from = 0;
  double keep_until = 0;
  bool voiced = false;
};

SilenceChunker::Emit Collect(std::vector<Seen>& seen) {
  return [&seen](const Chunk& chunk) -> Result<void> {
    seen.push_back({std::vector<int16_t>(chunk.samples.begin(), chunk.samples.end()),
                    chunk.start_seconds, chunk.keep_from, chunk.keep_until, chunk.voiced});
    return {};
  };
}

// Loud seeded noise, silent in the given [from, to) spans (seconds).
std::vector<int16_t> NoiseWithGaps(double seconds,
                                   const std::vector<std::pair<double, double>>& gaps) {
  std::vector<int16_t> samples(static_cast<size_t>(seconds * kSampleRate));
  uint32_t state = 12345;
  for (size_t i = 0; i < samples.size(); ++i) {
    state = state * 1664525u + 1013904223u;
    double t = static_cast<double>(i) / kSampleRate;
    bool silent = false;
    for (const auto& [from, to] : gaps) silent = silent || (t >= from && t < to);
    samples[i] = silent ? 0 : static_cast<int16_t>(static_cast<int32_t>(state >> 16) - 32768);
  }
  return samples;
}

std::vector<Seen> ChunkAll(const std::vector<int16_t>& samples, ChunkerOptions options,
                           size_t piece = 4096, double start = 0) {
  auto chunker = SilenceChunker::Create(options, start);
  EXPECT_TRUE(chunker.has_value());
  std::vector<Seen> seen;
  for (size_t at = 0; at < samples.size(); at += piece) {
    size_t count = std::min(piece, samples.size() - at);
    EXPECT_TRUE(chunker->Push(std::span(samples.data() + at, count), Collect(seen)));
  }
  EXPECT_TRUE(chunker->Finish(Collect(seen)));
  EXPECT_EQ(chunker->samples_pushed(), static_cast<int64_t>(samples.size()));
  return seen;
}

TEST(SilenceChunker, ShortAudioIsOneChunkThatOwnsEverything) {
  std::vector<int16_t> samples = NoiseWithGaps(3, {});
  std::vector<Seen> seen =
      ChunkAll(samples, {.max_chunk_seconds = 10, .overlap_seconds = 1}, 4096, 2.5);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].samples, samples);
  EXPECT_EQ(seen[0].start_seconds, 2.5);
  EXPECT_EQ(seen[0].keep_from, -kInfinity);
  EXPECT_EQ(seen[0].keep_until, kInfinity);
  EXPECT_FALSE(seen[0].voiced);  // steady noise
}

// Seeded noise at a steady level, with the level scaled by `envelope(t)`.
template <class Envelope>
std::vector<int16_t> Shaped(double seconds, Envelope envelope) {
  std::vector<int16_t> samples = NoiseWithGaps(seconds, {});
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<int16_t>(samples[i] * envelope(static_cast<double>(i) / kSampleRate));
  }
  return samples;
}

TEST(SilenceChunker, AChunkIsVoicedWhenItsLoudnessRisesAndFallsAsSpeechDoes) {
  const ChunkerOptions one_chunk{.max_chunk_seconds = 30, .overlap_seconds = 1};
  auto voiced = [&](const std::vector<int16_t>& samples) {
    std::vector<Seen> seen = ChunkAll(samples, one_chunk);
    EXPECT_EQ(seen.size(), 1u);
    return !seen.empty() && seen[0].voiced;
  };
  std::vector<int16_t> tone(20 * kSampleRate);
  for (size_t i = 0; i < tone.size(); ++i) {
    tone[i] = static_cast<int16_t>(8000 *
                                   std::sin(2 * M_PI * 440 * static_cast<double>(i) / kSampleRate));
  }
  EXPECT_FALSE(voiced(std::vector<int16_t>(20 * kSampleRate, 0)));
  EXPECT_FALSE(voiced(NoiseWithGaps(20, {})));
  EXPECT_FALSE(voiced(Shaped(20, [](double) { return 0.01; })));  // quiet steady noise
  EXPECT_FALSE(voiced(tone));
  // A level that rises and falls 4 times a second by 12 dB, like syllables.
  EXPECT_TRUE(
      voiced(Shaped(20, [](double t) { return 0.25 + 0.75 * (std::sin(2 * M_PI * 4 * t) > 0); })));
  // One loud second in 20 of silence.
  EXPECT_TRUE(voiced(NoiseWithGaps(20, {{0, 9}, {10, 20}})));
}

TEST(SilenceChunker, NoSamplesNoChunk) { EXPECT_TRUE(ChunkAll({}, {}).empty()); }

TEST(SilenceChunker, CutsLongAudioInItsPausesWithTheOverlapOnBothSides) {
  // 10 s chunks look for their cut in [5, 9.5]: the pauses at 6.2 s and 13.4 s (each
  // 0.4 s) are where they must cut; there is none in the third chunk's range.
  std::vector<int16_t> samples = NoiseWithGaps(31, {{6.2, 6.6}, {13.4, 13.8}, {3.0, 4.0}});
  const ChunkerOptions options{.max_chunk_seconds = 10, .overlap_seconds = 1};
  std::vector<Seen> seen = ChunkAll(samples, options, 997);
  ASSERT_GE(seen.size(), 4u);
  EXPECT_NEAR(seen[0].keep_until, 6.4, 0.11);
  EXPECT_NEAR(seen[1].keep_until, 13.6, 0.11);
  double covered = -kInfinity;
  for (size_t i = 0; i < seen.size(); ++i) {
    const Seen& chunk = seen[i];
    SCOPED_TRACE("chunk " + std::to_string(i));
    EXPECT_LE(chunk.samples.size(), static_cast<size_t>(10 * kSampleRate));
    EXPECT_EQ(chunk.keep_from, covered);  // the windows tile the timeline
    covered = chunk.keep_until;
    // The chunk is the input's samples from its start.
    auto first = static_cast<size_t>(std::llround(chunk.start_seconds * kSampleRate));
    ASSERT_LE(first + chunk.samples.size(), samples.size());
    EXPECT_TRUE(std::equal(chunk.samples.begin(), chunk.samples.end(),
                           samples.begin() + static_cast<ptrdiff_t>(first)));
    if (i > 0) {
      // Half the overlap before the cut...
      EXPECT_NEAR(chunk.start_seconds, chunk.keep_from - 0.5, 1e-9);
    }
    if (i + 1 < seen.size()) {
      // ...and half after it.
      EXPECT_NEAR(chunk.start_seconds + static_cast<double>(chunk.samples.size()) / kSampleRate,
                  chunk.keep_until + 0.5, 1e-9);
    }
  }
  EXPECT_EQ(covered, kInfinity);
  // The last chunk reaches the end of the input.
  const Seen& last = seen.back();
  EXPECT_NEAR(last.start_seconds + static_cast<double>(last.samples.size()) / kSampleRate, 31,
              1e-9);
}

TEST(SilenceChunker, AmongEquallyQuietCutsTheLatestWins) {
  std::vector<int16_t> silence(static_cast<size_t>(25 * kSampleRate), 0);
  std::vector<Seen> seen = ChunkAll(silence, {.max_chunk_seconds = 10, .overlap_seconds = 1});
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_DOUBLE_EQ(seen[0].keep_until, 9.5);
  EXPECT_EQ(seen[0].samples.size(), static_cast<size_t>(10 * kSampleRate));
  EXPECT_DOUBLE_EQ(seen[1].keep_until, 18.5);
}

TEST(SilenceChunker, PieceSizesDoNotChangeTheChunks) {
  std::vector<int16_t> samples = NoiseWithGaps(24, {{7.0, 7.3}, {15.1, 15.5}});
  const ChunkerOptions options{.max_chunk_seconds = 9, .overlap_seconds = 0.6};
  std::vector<Seen> whole = ChunkAll(samples, options, samples.size());
  std::vector<Seen> pieces = ChunkAll(samples, options, 333);
  ASSERT_EQ(whole.size(), pieces.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(whole[i].samples, pieces[i].samples);
    EXPECT_EQ(whole[i].keep_until, pieces[i].keep_until);
  }
}

TEST(SilenceChunker, AnEmitErrorStopsThePush) {
  auto chunker = SilenceChunker::Create({.max_chunk_seconds = 2, .overlap_seconds = 0}, 0);
  ASSERT_TRUE(chunker.has_value());
  std::vector<int16_t> samples(static_cast<size_t>(5 * kSampleRate), 100);
  int calls = 0;
  auto result = chunker->Push(samples, [&calls](const Chunk&) -> Result<void> {
    ++calls;
    return Fail(ErrorCode::kUnavailable, "server down");
  });
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "server down");
  EXPECT_EQ(calls, 1);
}

TEST(SilenceChunker, OptionsOutsideTheirRangesAreRefused) {
  for (ChunkerOptions bad :
       {ChunkerOptions{0.5, 0}, ChunkerOptions{601, 1}, ChunkerOptions{10, -0.1},
        ChunkerOptions{10, 2.6}, ChunkerOptions{NAN, 1}}) {
    auto chunker = SilenceChunker::Create(bad, 0);
    ASSERT_FALSE(chunker.has_value()) << bad.max_chunk_seconds << " " << bad.overlap_seconds;
    EXPECT_EQ(chunker.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(SilenceChunker::Create({10, 2.5}, 0).has_value());
}

TEST(KeepWithin, AWordHeardOnBothSidesOfASeamIsKeptOnce) {
  // The cut is at 10 s; both chunks heard "seam" (midpoint 10.05) a frame apart, and
  // "before" (9.7) and "after" (10.4) whole.
  std::vector<Segment> left = {
      testing::Spoken({{"one", 8.0, 8.4}, {"before", 9.5, 9.9}, {"seam", 9.9, 10.2}})};
  std::vector<Segment> right = {
      testing::Spoken({{"before", 9.51, 9.9}, {"seam", 9.91, 10.2}, {"after", 10.3, 10.5}})};
  std::vector<Segment> kept_left = KeepWithin(left, -kInfinity, 10);
  std::vector<Segment> kept_right = KeepWithin(right, 10, kInfinity);
  ASSERT_EQ(kept_left.size(), 1u);
  ASSERT_EQ(kept_right.size(), 1u);
  EXPECT_EQ(kept_left[0].text, "one before");
  EXPECT_EQ(kept_left[0].start, 8.0);  // its own start: the first word was kept
  EXPECT_EQ(kept_left[0].end, 9.9);    // shrunk to the last word kept
  EXPECT_EQ(kept_right[0].text, "seam after");
  EXPECT_EQ(kept_right[0].start, 9.91);
  EXPECT_EQ(kept_right[0].end, 10.5);
}

TEST(KeepWithin, SegmentsOutsideTheWindowGoAndUntouchedOnesStayAsTheyWere) {
  Segment outside = testing::Spoken({{"gone", 1.0, 1.5}});
  Segment inside = testing::Spoken({{"kept", 3.0, 3.5}});
  inside.start = 2.9;  // a segment may start before its first word
  Segment untimed{4.0, 6.0, "no word times", {}};
  Segment untimed_outside{5.5, 8.0, "past the cut", {}};
  std::vector<Segment> kept = KeepWithin({outside, inside, untimed, untimed_outside}, 2, 6.5);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0], inside);
  EXPECT_EQ(kept[1], untimed);
}

}  // namespace
}  // namespace reprise::stages::speech
