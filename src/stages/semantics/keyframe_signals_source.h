// KeyframeSignalsSource: what the `semantics` stage's "signal" backend asks of a scene's
// keyframe (dominant colours, brightness and light, frontal faces, on-screen text), behind
// an interface of the stage's own so the stage neither links nor waits for the analyzer
// that answers it.
//
// The fields mirror stages/vision/keyframe_signals.h (vision::KeyframeSignals) one for one;
// an adapter over vision::KeyframeAnalyzer implements this interface where the stage is
// wired (SemanticsStage::Create). Tests give the stage a small source of their own.
//
// Errors: Analyze fails for a keyframe it cannot read (kInvalidArgument or
// kUnsupportedMedia: that scene gets an "error", the others go on); a factory fails when
// the analyzer cannot be made (its models missing: kUnavailable, the run fails).
// Thread-safety: a source serves one thread at a time; the factory is called once per run.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace reprise::stages::semantics {

struct KeyframeColour {
  std::string name;  // "red", "dark blue": a plain colour name
  std::string hex;   // "#c01818"
  double share = 0;  // of the picture's pixels, 0..1
};

struct KeyframeSignals {
  std::vector<KeyframeColour> colours;  // dominant, at most 3, largest first
  double brightness = 0;                // mean luma 0..1
  std::string light;                    // "dark" | "dim" | "normal" | "bright"
  int faces = 0;                        // frontal faces found
  std::string text;                     // on-screen text, trimmed; "" when none
};

class KeyframeSignalsSource {
 public:
  virtual ~KeyframeSignalsSource() = default;
  // The signals of one keyframe (a JPEG file's bytes).
  [[nodiscard]] virtual Result<KeyframeSignals> Analyze(std::string_view jpeg) = 0;
};

// Makes one source for one run (an analyzer loads its models once, then serves a thread).
using KeyframeSignalsFactory = std::function<Result<std::unique_ptr<KeyframeSignalsSource>>()>;

}  // namespace reprise::stages::semantics
