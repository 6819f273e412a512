// The `semantics` stage's "openai" backend: each scene's keyframe and the words spoken
// during it go to a vision model as one structured-output chat request (answer: a 1-2
// sentence description, entities {people, objects, places}, actions, tags); then the
// scene descriptions and the transcript (bounded) go to a summary model for a 3-5
// sentence summary of the video and its tags.
//
// Scenes are sent from up to `threads` threads at once (the client's limiter holds the
// service's max_concurrent across the process); results come back in scene order.
// A scene whose answer is unusable (kInternal from ChatJson: a refusal, a truncated
// answer, content that is not JSON or breaks the schema) gets an "error" naming what the
// model did and empty fields; the others go on. Any other error (the service down after
// the client's retries: kUnavailable; a bad key: kPermissionDenied; an unknown model:
// kNotFound; a request the service refuses: kInvalidArgument; a keyframe that cannot be
// read) stops sending scenes and fails the call with that code. When every scene failed,
// kInternal says so. An unusable summary answer leaves the summary "" and says why in
// summary_error; the scenes stand.
// Thread-safety: Describe may run on any thread; `load_keyframe` is called from several
// threads at once and must be safe for that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ai/openai_client.h"
#include "core/error.h"
#include "stages/semantics/semantics_inputs.h"

namespace reprise::stages::semantics {

struct ModelOptions {
  std::string scene_model;
  std::string summary_model;
  std::string scene_prompt;    // the system message of each scene request
  std::string summary_prompt;  // the system message of the summary request
  std::string image_detail = "low";
  int max_tokens = 800;
  double temperature = 0;
  size_t scene_transcript_chars = 1000;  // words spoken during a scene, per scene request
  size_t max_transcript_chars = 8000;    // transcript in the summary request
  int threads = 4;
};

struct ModelUsage {
  int64_t requests = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
  void Add(const ai::TokenUsage& usage);
};

struct ModelSemantics {
  nlohmann::ordered_json scenes = nlohmann::ordered_json::array();  // semantics.json entries
  int failed_scenes = 0;
  std::string summary;
  std::string summary_error;  // why the summary is "", when it is
  std::vector<std::string> tags;
  std::string scene_model;    // as the server reported it ("" when no scene answered)
  std::string summary_model;  // as the server reported it ("" when the summary failed)
  ModelUsage usage;
};

// The keyframe (JPEG bytes) of a scene.
using KeyframeLoader = std::function<Result<std::string>(const SceneEntry& scene)>;

// The JSON Schemas of a scene answer and of the summary answer.
nlohmann::json SceneSchema();
nlohmann::json SummarySchema();

[[nodiscard]] Result<ModelSemantics> DescribeWithModel(const ai::OpenAiClient& client,
                                                       const ModelOptions& options,
                                                       const SceneList& scenes,
                                                       const std::vector<Spoken>& spoken,
                                                       const KeyframeLoader& load_keyframe);

}  // namespace reprise::stages::semantics
