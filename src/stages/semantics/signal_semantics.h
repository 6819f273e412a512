// The `semantics` stage's "signal" backend, as pure functions: a scene's entry of
// semantics.json built only from what was measured (its keyframe's signals, its motion
// from scenes.json, whether and what was spoken during it), and a plain one-sentence
// summary of the video over those entries. Nothing is invented: a signal that was not
// measured is absent, never guessed. Music is not detected (it would take a second decode
// of the audio).
//
// Tags: the keyframe's light ("dark", "dim", "bright"; "normal" gives none), the names of
// its dominant colours covering at least kColourTagShare of the picture, "faces" when a
// face was found, "text" when on-screen text was read, "speech" when a transcript segment
// overlaps the scene, "still" / "high-motion" when its motion is under / over the options'
// thresholds.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stages/semantics/keyframe_signals_source.h"
#include "stages/semantics/semantics_inputs.h"

namespace reprise::stages::semantics {

inline constexpr double kColourTagShare = 0.2;

struct SignalOptions {
  double still_below = 0.02;        // motion under this: "still"
  double high_motion_above = 0.15;  // motion over this: "high-motion"
  size_t spoken_chars = 240;        // words spoken kept per scene
};

// The scene's entry: index, start, end, description, entities (empty), actions (empty),
// tags, signals {colours, brightness, light, faces, text (when `keyframe` is given),
// motion (when known), speech, spoken}. `keyframe_error`, when not empty, says why the
// keyframe has no signals: the entry then carries it as "error" and its other signals.
nlohmann::ordered_json SignalScene(const SceneEntry& scene, const KeyframeSignals* keyframe,
                                   const std::string& keyframe_error,
                                   const std::vector<Spoken>& spoken, const SignalOptions& options);

// The tags of `scenes` (semantics.json entries) by how many scenes carry each, most
// first, ties in order of first appearance; at most `max_tags`.
std::vector<std::string> FrequentTags(const nlohmann::ordered_json& scenes, size_t max_tags);

// "A 12.0 s video in 3 scenes with speech over 40% of its time; most frequent tags: dark,
// red, speech."
std::string SignalSummary(double duration, size_t scenes, double speech_seconds,
                          const std::vector<std::string>& tags);

}  // namespace reprise::stages::semantics
