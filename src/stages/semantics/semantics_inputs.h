// What the `semantics` stage reads from its inputs, parsed and bounded: the scenes of
// scenes.json (stages/scenes_stage.h) and the spoken segments of transcript.json
// (stages/transcript_stage.h), and the words spoken during a stretch of time.
//
// Errors: kInvalidArgument naming the file and what is wrong with it (not JSON, a scene
// without times, a keyframe name that is not a plain file name). Pure functions; no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace reprise::stages::semantics {

struct SceneEntry {
  int index = 0;
  double start = 0;
  double end = 0;
  std::string keyframe;          // "scene-0000.jpg"
  std::optional<double> motion;  // scenes.json "motion" when the scenes stage wrote one
};

struct SceneList {
  double duration = 0;
  std::vector<SceneEntry> scenes;
};

struct Spoken {
  double start = 0;
  double end = 0;
  std::string text;
};

[[nodiscard]] Result<SceneList> ParseScenes(std::string_view scenes_json);
// The segments in time order; segments without text are dropped.
[[nodiscard]] Result<std::vector<Spoken>> ParseTranscript(std::string_view transcript_json);

// The text of the segments overlapping [start, end), joined with spaces and Bounded() to
// `max_chars` bytes; "" when none overlap.
std::string TextDuring(const std::vector<Spoken>& spoken, double start, double end,
                       size_t max_chars);
// Whether any segment overlaps [start, end).
bool SpeechDuring(const std::vector<Spoken>& spoken, double start, double end);
// Seconds of [0, duration] covered by at least one segment.
double SpeechSeconds(const std::vector<Spoken>& spoken, double duration);
// `text` cut to at most `max_chars` bytes, at a word boundary when one lies in the last 32
// bytes, never inside a UTF-8 sequence; an ellipsis ("...") marks a cut.
std::string Bounded(std::string_view text, size_t max_chars);

}  // namespace reprise::stages::semantics
