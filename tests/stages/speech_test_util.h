// Test helpers for the transcript stage: segments from words, the word error rate, and small strict
// readers of WebVTT and SRT cue files that check what the writers promise (timing lines, numbering,
// no raw markup or "-->" in text) and give the cues back with their text unescaped.
// Header-only: the stages test binary has no support library.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "stages/speech/captions.h"

namespace reprise::stages::speech::testing {

// A segment of `words` (at least one), its text their words joined.
inline Segment Spoken(std::vector<Word> words) {
  Segment segment{words.front().start, words.back().end, "", std::move(words)};
  for (const Word& word : segment.words) {
    segment.text += (segment.text.empty() ? "" : " ") + word.text;
  }
  return segment;
}

// Lower-case words of letters, digits and apostrophes; anything else separates words.
// "mr" and "mrs" are spelled out, as the references do.
inline std::vector<std::string> NormalisedWords(std::string_view text) {
  std::vector<std::string> words(1);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '\'') {
      words.back() += static_cast<char>(std::tolower(u));
    } else if (!words.back().empty()) {
      words.emplace_back();
    }
  }
  if (words.back().empty()) words.pop_back();
  // Spellings that differ only in abbreviation are the same word.
  for (std::string& word : words) {
    if (word == "mr") word = "mister";
    if (word == "mrs") word = "missus";
  }
  return words;
}

struct ErrorCount {
  size_t errors = 0;  // substitutions + deletions + insertions
  size_t reference_words = 0;
  double Rate() const {
    return reference_words == 0
               ? 0
               : static_cast<double>(errors) / static_cast<double>(reference_words);
  }
};

// Word-level Levenshtein distance between the normalised texts.
inline ErrorCount WordErrors(std::string_view reference, std::string_view hypothesis) {
  std::vector<std::string> ref = NormalisedWords(reference);
  std::vector<std::string> hyp = NormalisedWords(hypothesis);
  std::vector<size_t> row(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= ref.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= hyp.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (ref[i - 1] == hyp[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return {row[hyp.size()], ref.size()};
}

inline std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// "hh:mm:ss<separator>mmm" in seconds, or a negative number.
inline double ParseTime(std::string_view text, char separator) {
  int h = 0, m = 0, s = 0, ms = 0;
  char sep = 0;
  int used = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%d:%2d:%2d%c%3d%n", &h, &m, &s, &sep, &ms, &used) != 5 ||
      sep != separator || static_cast<size_t>(used) != copy.size() || m > 59 || s > 59 ||
      copy.size() < 12) {
    return -1;
  }
  return h * 3600.0 + m * 60.0 + s + ms / 1000.0;
}

// "start --> end" into the cue, or an error.
inline std::string ParseTiming(const std::string& line, char separator, Cue& cue) {
  size_t arrow = line.find(" --> ");
  if (arrow == std::string::npos) return "not a timing line: " + line;
  cue.start = ParseTime(line.substr(0, arrow), separator);
  cue.end = ParseTime(line.substr(arrow + 5), separator);
  if (cue.start < 0 || cue.end < 0) return "bad time in: " + line;
  if (!(cue.end > cue.start)) return "cue ends before it starts: " + line;
  return "";
}

inline std::string UnescapeVtt(const std::string& text, std::string& error) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<') error = "raw '<' (a tag) in: " + text;
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    size_t semi = text.find(';', i);
    std::string entity = semi == std::string::npos ? "" : text.substr(i, semi - i + 1);
    if (entity == "&amp;") {
      out += '&';
    } else if (entity == "&lt;") {
      out += '<';
    } else if (entity == "&gt;") {
      out += '>';
    } else {
      error = "raw '&' in: " + text;
      return out;
    }
    i = semi;
  }
  return out;
}

// Reads the cue at lines[i]: its timing line, its text lines (each through `text`, which
// sets its error argument for text the format forbids) and the blank line after them,
// leaving i past that line. An error message, or empty.
template <class Text>
std::string ParseCue(const std::vector<std::string>& lines, size_t& i, char separator, Text text,
                     Cue& cue) {
  if (std::string error = ParseTiming(lines[i], separator, cue); !error.empty()) return error;
  for (++i; i < lines.size() && !lines[i].empty(); ++i) {
    if (lines[i].find("-->") != std::string::npos) return "--> in text: " + lines[i];
    std::string error;
    cue.lines.push_back(text(lines[i], error));
    if (!error.empty()) return error;
  }
  if (cue.lines.empty()) return "a cue without text";
  if (i == lines.size()) return "the last cue has no blank line";
  ++i;
  return "";
}

inline tl::expected<std::vector<Cue>, std::string> ParseVtt(std::string_view file) {
  std::vector<std::string> lines = Lines(file);
  if (lines.size() < 2 || lines[0] != "WEBVTT" || !lines[1].empty()) {
    return tl::unexpected<std::string>("no WEBVTT header and blank line");
  }
  std::vector<Cue> cues;
  for (size_t i = 2; i < lines.size();) {
    Cue cue;
    if (std::string error = ParseCue(lines, i, '.', &UnescapeVtt, cue); !error.empty()) {
      return tl::unexpected(error);
    }
    if (!cues.empty() && cue.start < cues.back().start) {
      return tl::unexpected<std::string>("cues out of order");
    }
    cues.push_back(std::move(cue));
  }
  return cues;
}

// SRT text lines come back as written (‹ and › stay: SRT has no escapes to undo).
inline tl::expected<std::vector<Cue>, std::string> ParseSrt(std::string_view file) {
  std::vector<std::string> lines = Lines(file);
  std::vector<Cue> cues;
  auto text = [](const std::string& line, std::string& error) {
    if (line.find('<') != std::string::npos) error = "'<' in text: " + line;
    return line;
  };
  for (size_t i = 0; i < lines.size();) {
    if (lines[i] != std::to_string(cues.size() + 1)) {
      return tl::unexpected("expected cue number " + std::to_string(cues.size() + 1) + ", got " +
                            lines[i]);
    }
    if (++i == lines.size()) return tl::unexpected<std::string>("a number without a cue");
    Cue cue;
    if (std::string error = ParseCue(lines, i, ',', text, cue); !error.empty()) {
      return tl::unexpected(error);
    }
    cues.push_back(std::move(cue));
  }
  return cues;
}

}  // namespace reprise::stages::speech::testing
