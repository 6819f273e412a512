#include "stages/speech/captions.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/stages/speech_test_util.h"

namespace reprise::stages::speech {
namespace {

// `count` words of `text` every `step` seconds from `start`, each lasting `step` * 0.8.
Segment Steady(const std::string& text, int count, double start, double step) {
  std::vector<Word> words;
  for (int i = 0; i < count; ++i) {
    words.push_back({text, start + i * step, start + i * step + step * 0.8});
  }
  return testing::Spoken(std::move(words));
}

std::string Vtt(const std::vector<Cue>& cues) {
  std::string file = VttHeader();
  for (const Cue& cue : cues) file += VttCue(cue);
  return file;
}

std::string Srt(const std::vector<Cue>& cues) {
  std::string file;
  for (size_t i = 0; i < cues.size(); ++i) file += SrtCue(static_cast<int>(i + 1), cues[i]);
  return file;
}

TEST(Captions, TimestampsHaveMillisecondsAndGrowPastADay) {
  EXPECT_EQ(VttTimestamp(0), "00:00:00.000");
  EXPECT_EQ(VttTimestamp(3661.5), "01:01:01.500");
  EXPECT_EQ(VttTimestamp(59.9996), "00:01:00.000");
  EXPECT_EQ(SrtTimestamp(3661.5), "01:01:01,500");
  EXPECT_EQ(SrtTimestamp(360000.25), "100:00:00,250");
  EXPECT_EQ(SrtTimestamp(-1), "00:00:00,000");
}

TEST(Captions, TextIsEscapedForEachFormat) {
  EXPECT_EQ(EscapeVttText("a < b & c --> d"), "a &lt; b &amp; c --&gt; d");
  EXPECT_EQ(EscapeSrtText("a <i> & c --> d"), "a \u2039i\u203a & c --\u203a d");
  std::vector<Cue> cues = {{1, 2, {"x --> y", "<b> & </b>"}}};
  std::string vtt = Vtt(cues);
  EXPECT_EQ(vtt,
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nx --&gt; y\n&lt;b&gt; &amp; &lt;/b&gt;\n\n");
  auto parsed = testing::ParseVtt(vtt);
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(*parsed, cues);
  auto srt = testing::ParseSrt(Srt(cues));
  ASSERT_TRUE(srt.has_value()) << srt.error();
  EXPECT_EQ((*srt)[0].lines[0], "x --\u203a y");
}

TEST(Captions, CuesHoldAtMostTwoLinesOfTheLineLength) {
  // 30 words of 5 letters, 0.3 s apart: 7 words to a 42-character line.
  std::vector<Segment> segments = {Steady("hello", 30, 10, 0.3)};
  std::vector<Cue> cues = MakeCues(segments, {.line_length = 42});
  ASSERT_EQ(cues.size(), 3u);  // 14 + 14 + 2 words
  for (const Cue& cue : cues) {
    ASSERT_LE(cue.lines.size(), 2u);
    for (const std::string& line : cue.lines) EXPECT_LE(line.size(), 42u) << line;
  }
  EXPECT_EQ(cues[0].lines[0], "hello hello hello hello hello hello hello");
  EXPECT_DOUBLE_EQ(cues[0].start, 10);
  EXPECT_DOUBLE_EQ(cues[0].end, 10 + 13 * 0.3 + 0.24);
  EXPECT_DOUBLE_EQ(cues[1].start, 10 + 14 * 0.3);
  // The last cue holds its two words for the minimum second.
  EXPECT_DOUBLE_EQ(cues[2].end, cues[2].start + CaptionOptions::kMinCueSeconds);
}

TEST(Captions, ACueEndsAtTheMaximumDurationAPauseAndTheSegmentsEnd) {
  // Slow words: 2 s apart and 1.6 s long, so 3 fit in 7 s; then a pause; then a new
  // segment.
  Segment slow = Steady("a", 6, 0, 2.0);
  Segment after_pause = testing::Spoken({{"b", 20, 20.5}, {"c", 22.5, 23}});
  Segment next = testing::Spoken({{"d", 23.1, 23.5}});
  std::vector<Cue> cues = MakeCues(std::vector<Segment>{slow, after_pause, next}, {});
  ASSERT_EQ(cues.size(), 5u);
  EXPECT_EQ(cues[0].lines, std::vector<std::string>{"a a a"});  // a fourth would end at 7.6 s
  EXPECT_EQ(cues[1].lines, std::vector<std::string>{"a a a"});
  EXPECT_EQ(cues[2].lines, std::vector<std::string>{"b"});  // 2 s pause before "c"
  EXPECT_EQ(cues[3].lines, std::vector<std::string>{"c"});
  EXPECT_EQ(cues[4].lines, std::vector<std::string>{"d"});
  // "c" is held only until "d" starts.
  EXPECT_DOUBLE_EQ(cues[3].end, 23.1);
  for (const Cue& cue : cues) EXPECT_LE(cue.end - cue.start, CaptionOptions::kMaxCueSeconds);
}

TEST(Captions, AWordLongerThanALineGetsALineOfItsOwn) {
  std::string longest(50, 'x');
  std::vector<Cue> cues =
      MakeCues(std::vector<Segment>{testing::Spoken({{"so", 0, 0.2}, {longest, 0.3, 1}})},
               {.line_length = 20});
  ASSERT_EQ(cues.size(), 1u);
  EXPECT_EQ(cues[0].lines, (std::vector<std::string>{"so", longest}));
}

TEST(Captions, SegmentsWithoutWordTimesAreSpreadByLength) {
  Segment untimed{
      0, 10, std::string(30, 'a') + " " + std::string(30, 'b') + " " + std::string(40, 'c'), {}};
  std::vector<Cue> cues = MakeCues(std::vector<Segment>{untimed}, {.line_length = 42});
  ASSERT_EQ(cues.size(), 2u);  // a and b fill two lines, c starts a cue
  EXPECT_DOUBLE_EQ(cues[0].start, 0);
  EXPECT_DOUBLE_EQ(cues[0].end, 6);
  EXPECT_DOUBLE_EQ(cues[1].start, 6);
  EXPECT_DOUBLE_EQ(cues[1].end, 10);
}

TEST(Captions, VttAndSrtRoundTrip) {
  std::vector<Segment> segments = {Steady("word", 20, 0.5, 0.45), Steady("more", 9, 3700, 0.5)};
  std::vector<Cue> cues = MakeCues(segments, {.line_length = 32});
  auto vtt = testing::ParseVtt(Vtt(cues));
  ASSERT_TRUE(vtt.has_value()) << vtt.error();
  auto srt = testing::ParseSrt(Srt(cues));
  ASSERT_TRUE(srt.has_value()) << srt.error();
  ASSERT_EQ(vtt->size(), cues.size());
  EXPECT_EQ(*vtt, *srt);
  for (size_t i = 0; i < cues.size(); ++i) {
    EXPECT_NEAR((*vtt)[i].start, cues[i].start, 0.0005);
    EXPECT_NEAR((*vtt)[i].end, cues[i].end, 0.0005);
    EXPECT_EQ((*vtt)[i].lines, cues[i].lines);
  }
  EXPECT_EQ(Srt(cues).substr(0, 2), "1\n");
  EXPECT_NE(Srt(cues).find("\n" + std::to_string(cues.size()) + "\n01:01:"), std::string::npos);
}

TEST(WordErrors, CountsSubstitutionsDeletionsAndInsertionsOverNormalisedWords) {
  EXPECT_EQ(testing::WordErrors("the cat sat", "The cat, sat.").errors, 0u);
  EXPECT_EQ(testing::WordErrors("the cat sat", "the bat sat").errors, 1u);
  EXPECT_EQ(testing::WordErrors("the cat sat", "the sat").errors, 1u);
  EXPECT_EQ(testing::WordErrors("the cat sat", "the cat sat down").errors, 1u);
  EXPECT_EQ(testing::WordErrors("mister john", "mr john").errors, 0u);
  EXPECT_DOUBLE_EQ(testing::WordErrors("a b c d", "x b").Rate(), 0.75);
}

}  // namespace
}  // namespace reprise::stages::speech
