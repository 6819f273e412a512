// Captions: WebVTT and SRT cues made from recognized segments.
//
// MakeCues() groups each segment's words, in order, into cues that a viewer can read:
// at most kMaxLines lines of at most `line_length` characters (a longer single word gets
// a line of its own), at most kMaxCueSeconds on screen, a new cue after a pause of
// kPauseSeconds or more, and never one cue across two segments. A cue starts at its
// first word and ends at its last, held up to kMinCueSeconds when the next cue leaves
// room. Segments without word times get times spread over the segment in proportion to
// each word's length.
//
// The Vtt*/Srt* functions format one piece of a file, so a long transcript is written cue
// by cue. WebVTT cue text escapes '&', '<' and '>' as character references (so "-->"
// becomes "--&gt;"), as the WebVTT spec requires. SRT has no escapes: '<' and '>' become
// the single angle quotes U+2039 and U+203A so that no player takes text for a tag, and
// "-->" can therefore not occur. SRT cues are numbered from 1 and its times use a comma
// before the milliseconds.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stages/speech/recognizer.h"

namespace reprise::stages::speech {

struct Cue {
  double start = 0;
  double end = 0;
  std::vector<std::string> lines;  // unescaped text

  bool operator==(const Cue&) const = default;
};

struct CaptionOptions {
  static constexpr int kMaxLines = 2;
  static constexpr double kMaxCueSeconds = 7;
  static constexpr double kMinCueSeconds = 1;
  static constexpr double kPauseSeconds = 1.5;
  int line_length = 42;
};

std::vector<Cue> MakeCues(std::span<const Segment> segments, const CaptionOptions& options);

// "hh:mm:ss.mmm" (WebVTT) and "hh:mm:ss,mmm" (SRT); hours grow past 99 as needed.
std::string VttTimestamp(double seconds);
std::string SrtTimestamp(double seconds);

// "WEBVTT\n\n", then each cue: its timing line, its lines, a blank line.
std::string VttHeader();
std::string VttCue(const Cue& cue);
// Cue `number` (from 1): the number, its timing line, its lines, a blank line.
std::string SrtCue(int number, const Cue& cue);

std::string EscapeVttText(std::string_view text);
std::string EscapeSrtText(std::string_view text);

}  // namespace reprise::stages::speech
