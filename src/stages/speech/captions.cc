#include "stages/speech/captions.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace reprise::stages::speech {
namespace {

// Cue lines grow by whole words; a word longer than a line is a line by itself.
std::vector<std::string> Wrap(std::span<const Word> words, size_t line_length) {
  std::vector<std::string> lines;
  for (const Word& word : words) {
    if (!lines.empty() && lines.back().size() + 1 + word.text.size() <= line_length) {
      lines.back() += " " + word.text;
    } else {
      lines.push_back(word.text);
    }
  }
  return lines;
}

// Word times for a segment that has none, spread over the segment by word length.
std::vector<Word> SpreadWords(const Segment& segment) {
  std::vector<std::string> texts;
  size_t letters = 0;
  for (size_t at = 0; at < segment.text.size();) {
    size_t end = segment.text.find_first_of(" \t\n", at);
    if (end == std::string::npos) end = segment.text.size();
    if (end > at) {
      texts.push_back(segment.text.substr(at, end - at));
      letters += end - at;
    }
    at = end + 1;
  }
  std::vector<Word> words;
  double per_letter =
      letters > 0 ? (segment.end - segment.start) / static_cast<double>(letters) : 0;
  double at = segment.start;
  for (std::string& text : texts) {
    double end = at + per_letter * static_cast<double>(text.size());
    words.push_back(Word{std::move(text), at, end});
    at = end;
  }
  return words;
}

std::string Timestamp(double seconds, char separator) {
  auto millis = std::llround(std::max(0.0, seconds) * 1000);
  char text[32];
  std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld%c%03lld", millis / 3'600'000,
                millis / 60'000 % 60, millis / 1000 % 60, separator, millis % 1000);
  return text;
}

std::string ReplaceAll(std::string_view text,
                       std::initializer_list<std::pair<char, std::string_view>> table) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto it =
        std::find_if(table.begin(), table.end(), [c](const auto& row) { return row.first == c; });
    if (it == table.end()) {
      out += c;
    } else {
      out += it->second;
    }
  }
  return out;
}

std::string CueBody(const Cue& cue, char separator, std::string (*escape)(std::string_view)) {
  std::string body =
      Timestamp(cue.start, separator) + " --> " + Timestamp(cue.end, separator) + "\n";
  for (const std::string& line : cue.lines) body += escape(line) + "\n";
  return body + "\n";
}

}  // namespace

std::vector<Cue> MakeCues(std::span<const Segment> segments, const CaptionOptions& options) {
  const size_t line_length = static_cast<size_t>(std::max(1, options.line_length));
  std::vector<Cue> cues;
  for (const Segment& segment : segments) {
    std::vector<Word> spread;
    std::span<const Word> words = segment.words;
    if (words.empty()) {
      spread = SpreadWords(segment);
      words = spread;
    }
    size_t first = 0;
    while (first < words.size()) {
      size_t last = first + 1;  // one past the cue's last word
      while (last < words.size() &&
             words[last].start - words[last - 1].end < CaptionOptions::kPauseSeconds &&
             words[last].end - words[first].start <= CaptionOptions::kMaxCueSeconds &&
             Wrap(words.subspan(first, last + 1 - first), line_length).size() <=
                 static_cast<size_t>(CaptionOptions::kMaxLines)) {
        ++last;
      }
      std::span<const Word> taken = words.subspan(first, last - first);
      cues.push_back(Cue{taken.front().start, taken.back().end, Wrap(taken, line_length)});
      first = last;
    }
  }
  // Hold short cues up to the minimum where the next leaves room; never let a cue end
  // before it starts (a cue of zero length is invalid WebVTT for some readers).
  for (size_t i = 0; i < cues.size(); ++i) {
    double limit = i + 1 < cues.size() ? cues[i + 1].start : INFINITY;
    double held = std::min(cues[i].start + CaptionOptions::kMinCueSeconds, limit);
    cues[i].end = std::max({cues[i].end, held, cues[i].start + 0.001});
  }
  return cues;
}

std::string VttTimestamp(double seconds) { return Timestamp(seconds, '.'); }
std::string SrtTimestamp(double seconds) { return Timestamp(seconds, ','); }

std::string VttHeader() { return "WEBVTT\n\n"; }

std::string VttCue(const Cue& cue) { return CueBody(cue, '.', &EscapeVttText); }

std::string SrtCue(int number, const Cue& cue) {
  return std::to_string(number) + "\n" + CueBody(cue, ',', &EscapeSrtText);
}

std::string EscapeVttText(std::string_view text) {
  return ReplaceAll(text, {{'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}});
}

std::string EscapeSrtText(std::string_view text) {
  return ReplaceAll(text, {{'<', "\u2039"}, {'>', "\u203a"}});
}

}  // namespace reprise::stages::speech
