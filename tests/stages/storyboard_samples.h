// Videos for storyboard tests whose colour changes at known times, and a reader of the
// storyboard's WebVTT. Header-only, shared by tests/stages and tests/interop.
//
// ColourSteps(...) is solid colour StepColour(k) during [k * step, (k + 1) * step),
// generated with lavfi's geq from the frame time, so the frame at exactly k * step is
// the first of colour k: a tile taken "at or after" k * step shows colour k, one taken
// before it shows colour k - 1.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/media_samples.h"
#include "tests/support/test_support.h"

namespace reprise::testing {

// Eight colours, the bits of k: red, green, blue.
inline Rgb StepColour(int64_t k) {
  return Rgb{k % 2 != 0 ? 255 : 0, (k / 2) % 2 != 0 ? 255 : 0, (k / 4) % 2 != 0 ? 255 : 0};
}

struct ColourStepsSpec {
  int width = 64;
  int height = 36;
  int frame_rate = 5;
  double seconds = 3;
  double step = 1;
  double audio_seconds = 0;       // > 0: add AAC audio this long (may outlast the video)
  bool unknown_duration = false;  // Matroska written to a pipe: no duration anywhere
};

// Writes the video to `path` (.mp4, or .mkv when unknown_duration); false on failure.
inline bool ColourSteps(const std::string& path, const ColourStepsSpec& spec) {
  std::ostringstream graph;
  graph << "color=c=black:s=" << spec.width << "x" << spec.height << ":r=" << spec.frame_rate
        << ":d=" << spec.seconds << ",format=rgb24,geq=r='255*mod(floor(T/" << spec.step
        << "),2)':g='255*mod(floor(T/" << spec.step * 2 << "),2)':b='255*mod(floor(T/"
        << spec.step * 4 << "),2)'";
  std::vector<std::string> args = {"-f", "lavfi", "-i", graph.str()};
  if (spec.audio_seconds > 0) {
    args.insert(args.end(), {"-f", "lavfi", "-i",
                             "sine=frequency=440:sample_rate=48000:duration=" +
                                 std::to_string(spec.audio_seconds),
                             "-c:a", "aac"});
  }
  args.insert(args.end(), {"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"});
  if (!spec.unknown_duration) {
    args.push_back(path);
    return Ffmpeg(args);
  }
  // Matroska written to a pipe cannot seek back to store its duration.
  std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-loglevel", "error"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"-f", "matroska", "pipe:1"});
  CommandResult result = RunCommand(argv);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  if (result.exit_code != 0) return false;
  WriteFile(path, result.out);
  return true;
}

// One cue of storyboard.vtt.
struct StoryboardCue {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string sheet;
  int x = 0;
  int y = 0;
  int w = 0;
  int h = 0;
};

inline int64_t VttMillis(const std::string& h, const std::string& m, const std::string& s,
                         const std::string& ms) {
  return ((std::stoll(h) * 60 + std::stoll(m)) * 60 + std::stoll(s)) * 1000 + std::stoll(ms);
}

// The cues of a storyboard VTT in the exact form the stage writes; nullopt (with a test
// failure naming the line) when any line is out of form.
inline std::optional<std::vector<StoryboardCue>> ParseStoryboardVtt(const std::string& vtt) {
  static const std::regex kTiming(
      R"((\d{2,}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2,}):(\d{2}):(\d{2})\.(\d{3}))");
  static const std::regex kTarget(R"((sheet-\d{3,}\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+))");
  std::istringstream in(vtt);
  std::string line;
  if (!std::getline(in, line) || line != "WEBVTT") {
    ADD_FAILURE() << "the VTT does not start with WEBVTT: " << line;
    return std::nullopt;
  }
  std::vector<StoryboardCue> cues;
  std::smatch match;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    StoryboardCue cue;
    if (!std::regex_match(line, match, kTiming)) {
      ADD_FAILURE() << "not a cue timing line: " << line;
      return std::nullopt;
    }
    cue.start_ms = VttMillis(match[1], match[2], match[3], match[4]);
    cue.end_ms = VttMillis(match[5], match[6], match[7], match[8]);
    if (!std::getline(in, line) || !std::regex_match(line, match, kTarget)) {
      ADD_FAILURE() << "not a sheet#xywh line: " << line;
      return std::nullopt;
    }
    cue.sheet = match[1];
    cue.x = std::stoi(match[2]);
    cue.y = std::stoi(match[3]);
    cue.w = std::stoi(match[4]);
    cue.h = std::stoi(match[5]);
    cues.push_back(cue);
  }
  return cues;
}

}  // namespace reprise::testing
