#include "stages/semantics/model_semantics.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

namespace reprise::stages::semantics {
namespace {

constexpr int kMaxListItems = 20;
constexpr int kMaxDescriptionChars = 1200;
constexpr int kMaxSummaryChars = 3000;
constexpr size_t kMaxItemChars = 80;
// The scene descriptions in the summary request, in all (a long video's hundreds of
// scenes stay within a model's context).
constexpr size_t kMaxDescriptionsChars = 24000;

nlohmann::json StringList() {
  return {{"type", "array"},
          {"items", {{"type", "string"}, {"maxLength", kMaxItemChars}}},
          {"maxItems", kMaxListItems}};
}

std::string Seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", seconds);
  return text;
}

// A list from a validated answer: trimmed, empty items and repeats dropped; tags also
// lower-cased, so "Beach" and "beach" are one tag to search.
nlohmann::ordered_json Cleaned(const nlohmann::json& items, bool lower) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& item : items) {
    std::string text = item.get<std::string>();
    auto space = [](unsigned char c) { return std::isspace(c) != 0; };
    while (!text.empty() && space(static_cast<unsigned char>(text.back()))) text.pop_back();
    size_t first = 0;
    while (first < text.size() && space(static_cast<unsigned char>(text[first]))) ++first;
    text.erase(0, first);
    if (lower) {
      std::transform(text.begin(), text.end(), text.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    if (text.empty() || std::find(out.begin(), out.end(), text) != out.end()) continue;
    out.push_back(std::move(text));
  }
  return out;
}

nlohmann::ordered_json EmptyEntities() {
  return {{"people", nlohmann::ordered_json::array()},
          {"objects", nlohmann::ordered_json::array()},
          {"places", nlohmann::ordered_json::array()}};
}

nlohmann::ordered_json SceneEntryJson(const SceneEntry& scene) {
  return {{"index", scene.index},
          {"start", scene.start},
          {"end", scene.end},
          {"description", ""},
          {"entities", EmptyEntities()},
          {"actions", nlohmann::ordered_json::array()},
          {"tags", nlohmann::ordered_json::array()}};
}

std::string SceneUserText(const SceneEntry& scene, size_t count, const std::string& words) {
  std::string text = "Scene " + std::to_string(scene.index + 1) + " of " + std::to_string(count) +
                     ", from " + Seconds(scene.start) + " s to " + Seconds(scene.end) +
                     " s. Its keyframe is attached.\n";
  if (words.empty()) return text + "Nothing is spoken during this scene.";
  return text + "Spoken during this scene (transcript): \"" + words + "\"";
}

struct SceneOutcome {
  nlohmann::ordered_json entry;
  std::optional<ai::ChatResult> answer;  // absent: the scene failed
};

class SceneWorkers {
 public:
  SceneWorkers(const ai::OpenAiClient& client, const ModelOptions& options, const SceneList& scenes,
               const std::vector<Spoken>& spoken, const KeyframeLoader& load_keyframe)
      : client_(client),
        options_(options),
        scenes_(scenes),
        spoken_(spoken),
        load_keyframe_(load_keyframe),
        outcomes_(scenes.scenes.size()),
        schema_(SceneSchema()) {}

  // Every scene, from up to options.threads threads; the first fatal error, if any.
  Result<std::vector<SceneOutcome>> Run() {
    const size_t threads = std::clamp<size_t>(static_cast<size_t>(std::max(1, options_.threads)), 1,
                                              std::max<size_t>(1, scenes_.scenes.size()));
    std::vector<std::thread> pool;
    for (size_t i = 1; i < threads; ++i) {
      try {
        pool.emplace_back([this] { Work(); });
      } catch (const std::system_error&) {
        break;  // fewer threads: this one works too
      }
    }
    Work();
    for (std::thread& thread : pool) thread.join();
    if (fatal_) return Fail(*fatal_);
    return std::move(outcomes_);
  }

  // Chat requests made (answered or not).
  int64_t requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void Work() {
    while (!stop_.load()) {
      const size_t i = next_.fetch_add(1);
      if (i >= scenes_.scenes.size()) return;
      auto done = Describe(scenes_.scenes[i]);
      if (!done) {
        std::lock_guard lock(mutex_);
        if (!fatal_) fatal_ = std::move(done.error());
        stop_.store(true);
        return;
      }
      outcomes_[i] = std::move(*done);
    }
  }

  Result<SceneOutcome> Describe(const SceneEntry& scene) const {
    const std::string at = "scene " + std::to_string(scene.index);
    SceneOutcome outcome{SceneEntryJson(scene), std::nullopt};
    auto jpeg = load_keyframe_(scene);
    if (!jpeg) return Fail(jpeg.error().Wrap(at + " keyframe " + scene.keyframe));
    ai::ChatRequest request;
    request.model = options_.scene_model;
    request.system = options_.scene_prompt;
    request.user =
        SceneUserText(scene, scenes_.scenes.size(),
                      TextDuring(spoken_, scene.start, scene.end, options_.scene_transcript_chars));
    request.images.push_back(ai::ChatImage{std::move(*jpeg), options_.image_detail});
    request.temperature = options_.temperature;
    request.max_tokens = options_.max_tokens;
    request.schema_name = "scene";
    request.schema = schema_;
    auto answer = client_.ChatJson(request);
    {
      std::lock_guard lock(mutex_);
      ++requests_;
    }
    if (!answer) {
      if (answer.error().code != ErrorCode::kInternal) return Fail(answer.error().Wrap(at));
      outcome.entry["error"] = answer.error().message;
      return outcome;
    }
    const nlohmann::json& value = answer->value;
    outcome.entry["description"] = value.at("description").get<std::string>();
    for (const char* kind : {"people", "objects", "places"}) {
      outcome.entry["entities"][kind] = Cleaned(value.at("entities").at(kind), false);
    }
    outcome.entry["actions"] = Cleaned(value.at("actions"), false);
    outcome.entry["tags"] = Cleaned(value.at("tags"), true);
    outcome.answer = std::move(*answer);
    return outcome;
  }

  const ai::OpenAiClient& client_;
  const ModelOptions& options_;
  const SceneList& scenes_;
  const std::vector<Spoken>& spoken_;
  const KeyframeLoader& load_keyframe_;
  std::vector<SceneOutcome> outcomes_;
  const nlohmann::json schema_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  mutable int64_t requests_ = 0;
  std::optional<Error> fatal_;
};

std::string SummaryUserText(const SceneList& scenes, const nlohmann::ordered_json& entries,
                            const std::vector<Spoken>& spoken, size_t max_transcript_chars) {
  std::string text = "A video of " + Seconds(scenes.duration) + " s in " +
                     std::to_string(scenes.scenes.size()) + " scenes.\nScene descriptions:\n";
  size_t shown = 0;
  for (const auto& entry : entries) {
    const std::string& description = entry.at("description").get_ref<const std::string&>();
    if (description.empty()) continue;
    std::string line = std::to_string(entry.at("index").get<int>() + 1) + ". [" +
                       Seconds(entry.at("start").get<double>()) + "-" +
                       Seconds(entry.at("end").get<double>()) + " s] " + description + "\n";
    if (text.size() + line.size() > kMaxDescriptionsChars) break;
    text += line;
    ++shown;
  }
  if (shown < entries.size()) {
    text += "(" + std::to_string(entries.size() - shown) + " scenes without a description here)\n";
  }
  const std::string transcript =
      TextDuring(spoken, -std::numeric_limits<double>::infinity(),
                 std::numeric_limits<double>::infinity(), max_transcript_chars);
  if (transcript.empty()) return text + "Nothing is spoken in the video.";
  return text + "Transcript of the speech:\n\"" + transcript + "\"";
}

}  // namespace

void ModelUsage::Add(const ai::TokenUsage& usage) {
  prompt_tokens += usage.prompt_tokens;
  completion_tokens += usage.completion_tokens;
  total_tokens += usage.total_tokens;
}

nlohmann::json SceneSchema() {
  return {{"type", "object"},
          {"properties",
           {{"description",
             {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxDescriptionChars}}},
            {"entities",
             {{"type", "object"},
              {"properties",
               {{"people", StringList()}, {"objects", StringList()}, {"places", StringList()}}},
              {"required", {"people", "objects", "places"}},
              {"additionalProperties", false}}},
            {"actions", StringList()},
            {"tags", StringList()}}},
          {"required", {"description", "entities", "actions", "tags"}},
          {"additionalProperties", false}};
}

nlohmann::json SummarySchema() {
  return {{"type", "object"},
          {"properties",
           {{"summary", {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxSummaryChars}}},
            {"tags", StringList()}}},
          {"required", {"summary", "tags"}},
          {"additionalProperties", false}};
}

Result<ModelSemantics> DescribeWithModel(const ai::OpenAiClient& client,
                                         const ModelOptions& options, const SceneList& scenes,
                                         const std::vector<Spoken>& spoken,
                                         const KeyframeLoader& load_keyframe) {
  SceneWorkers workers(client, options, scenes, spoken, load_keyframe);
  auto outcomes = workers.Run();
  if (!outcomes) return Fail(outcomes.error());
  ModelSemantics semantics;
  semantics.usage.requests = workers.requests();
  std::string first_error;
  for (SceneOutcome& outcome : *outcomes) {
    if (outcome.answer) {
      semantics.usage.Add(outcome.answer->usage);
      if (semantics.scene_model.empty()) semantics.scene_model = outcome.answer->model;
    } else {
      ++semantics.failed_scenes;
      if (first_error.empty()) first_error = outcome.entry.value("error", "");
    }
    semantics.scenes.push_back(std::move(outcome.entry));
  }
  if (!scenes.scenes.empty() && semantics.failed_scenes == static_cast<int>(scenes.scenes.size())) {
    return Fail(ErrorCode::kInternal, "every scene's answer was unusable (" +
                                          std::to_string(semantics.failed_scenes) +
                                          " scenes); the first: " + first_error);
  }

  ai::ChatRequest request;
  request.model = options.summary_model;
  request.system = options.summary_prompt;
  request.user = SummaryUserText(scenes, semantics.scenes, spoken, options.max_transcript_chars);
  request.temperature = options.temperature;
  request.max_tokens = options.max_tokens;
  request.schema_name = "video_summary";
  request.schema = SummarySchema();
  auto answer = client.ChatJson(request);
  ++semantics.usage.requests;
  if (!answer) {
    if (answer.error().code != ErrorCode::kInternal) return Fail(answer.error().Wrap("summary"));
    semantics.summary_error = answer.error().message;
    return semantics;
  }
  semantics.usage.Add(answer->usage);
  semantics.summary_model = answer->model;
  semantics.summary = answer->value.at("summary").get<std::string>();
  for (const auto& tag : Cleaned(answer->value.at("tags"), true)) {
    semantics.tags.push_back(tag.get<std::string>());
  }
  return semantics;
}

}  // namespace reprise::stages::semantics
