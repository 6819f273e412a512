#include "stages/chapters_stage.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "stages/params.h"
#include "stages/speech/captions.h"

namespace reprise::stages {
namespace {

constexpr std::string_view kLocal = "local";
constexpr std::string_view kOpenAi = "openai";
// What one scene contributes to the request at most: more adds tokens, not meaning.
constexpr size_t kMaxDescriptionBytes = 400;
constexpr size_t kMaxTagsPerScene = 16;

// Params each backend keeps in Params() besides `backend`.
constexpr std::array<std::string_view, 2> kCommonKeys = {"max_chapters", "subtitle_words"};
constexpr std::array<std::string_view, 3> kLocalKeys = {"similarity_threshold",
                                                        "min_chapter_seconds", "title_tags"};
constexpr std::array<std::string_view, 4> kOpenAiKeys = {"model", "prompt", "max_transcript_chars",
                                                         "max_title_chars"};

// The answer asked of the model (OpenAI's strict structured outputs accept this subset).
constexpr std::string_view kAnswerSchema = R"({
  "type": "object",
  "properties": {
    "chapters": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {"start_scene": {"type": "integer"}, "title": {"type": "string"}},
        "required": ["start_scene", "title"],
        "additionalProperties": false
      }
    }
  },
  "required": ["chapters"],
  "additionalProperties": false
})";

Error ParamError(std::string_view name, const std::string& what) {
  return Error{ErrorCode::kInvalidArgument,
               "stage 'chapters' param '" + std::string(name) + "' " + what, ""};
}

// --- what the inputs say ---

struct Scene {
  double start = 0;
  std::string description;
  std::vector<std::string> tags;  // lowercased, trimmed, each once
  bool answered = false;          // semantics has an answer for it (not failed)
};

struct Speech {
  double start = 0;
  std::string text;
};

struct Material {
  double duration = 0;
  std::vector<Scene> scenes;
  std::vector<Speech> speech;  // by start time
};

Error Shape(std::string_view stage, std::string_view file, const std::string& what) {
  return Error{ErrorCode::kInternal,
               "input " + std::string(stage) + ": " + std::string(file) + " " + what, ""};
}

Result<nlohmann::json> ReadJson(const StageInputs& inputs, std::string_view stage,
                                std::string_view file, int64_t max_bytes) {
  auto text = ReadInputFile(inputs, stage, file, max_bytes);
  if (!text) return Fail(text.error().Wrap("input " + std::string(stage)));
  auto parsed = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Fail(Shape(stage, file, "is not JSON"));
  return parsed;
}

// Collapses whitespace runs (newlines included) to one space and trims: a title or a tag
// is one line, so it cannot end a WebVTT cue early.
std::string OneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x20) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string Lowercase(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

size_t CodePoints(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// At most `max_bytes` of `text`, not cutting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

Result<double> Seconds(const nlohmann::json& object, const char* key, std::string_view stage,
                       std::string_view file, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number() || !std::isfinite(it->get<double>())) {
    return Fail(Shape(stage, file, where + " has no number '" + key + "'"));
  }
  return it->get<double>();
}

Result<Material> ParseScenes(const nlohmann::json& root) {
  constexpr std::string_view kStage = "scenes";
  constexpr std::string_view kFile = "scenes.json";
  if (!root.is_object()) return Fail(Shape(kStage, kFile, "is not an object"));
  Material material;
  auto duration = Seconds(root, "duration", kStage, kFile, "the file");
  if (!duration) return Fail(duration.error());
  if (*duration <= 0) return Fail(Shape(kStage, kFile, "has a duration that is not positive"));
  material.duration = *duration;
  auto list = root.find("scenes");
  if (list == root.end() || !list->is_array() || list->empty()) {
    return Fail(Shape(kStage, kFile, "has no scenes"));
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& entry = (*list)[i];
    std::string where = "scene " + std::to_string(i);
    if (!entry.is_object()) return Fail(Shape(kStage, kFile, where + " is not an object"));
    auto start = Seconds(entry, "start", kStage, kFile, where);
    if (!start) return Fail(start.error());
    if (*start < 0 || *start >= material.duration ||
        (i > 0 && *start <= material.scenes.back().start)) {
      return Fail(Shape(kStage, kFile,
                        where + " starts at " + nlohmann::json(*start).dump() +
                            ", not after the scene before it and inside the duration"));
    }
    material.scenes.push_back(Scene{*start, "", {}, false});
  }
  return material;
}

// Descriptions and tags from semantics.json's scenes, by their "index".
Result<void> ApplySemantics(const nlohmann::json& root, std::vector<Scene>& scenes) {
  constexpr std::string_view kStage = "semantics";
  constexpr std::string_view kFile = "semantics.json";
  if (!root.is_object()) return Fail(Shape(kStage, kFile, "is not an object"));
  auto list = root.find("scenes");
  if (list == root.end() || !list->is_array()) return Fail(Shape(kStage, kFile, "has no scenes"));
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& entry = (*list)[i];
    std::string where = "scene entry " + std::to_string(i);
    auto index = entry.is_object() ? entry.find("index") : entry.end();
    if (!entry.is_object() || index == entry.end() || !index->is_number_unsigned()) {
      return Fail(Shape(kStage, kFile, where + " has no index"));
    }
    if (index->get<uint64_t>() >= scenes.size()) {
      return Fail(Shape(kStage, kFile,
                        where + " has index " + index->dump() + " but scenes.json has " +
                            std::to_string(scenes.size()) + " scenes"));
    }
    Scene& scene = scenes[index->get<size_t>()];
    if (entry.contains("error")) continue;  // failed: no tags, joins a neighbour
    auto description = entry.find("description");
    auto tags = entry.find("tags");
    if (description == entry.end() || !description->is_string() || tags == entry.end() ||
        !tags->is_array()) {
      return Fail(Shape(kStage, kFile, where + " has no description and tags"));
    }
    scene.answered = true;
    scene.description = OneLine(description->get<std::string>());
    for (const nlohmann::json& tag : *tags) {
      if (!tag.is_string()) return Fail(Shape(kStage, kFile, where + " has a tag not a string"));
      std::string clean = Lowercase(OneLine(tag.get<std::string>()));
      if (clean.empty() ||
          std::find(scene.tags.begin(), scene.tags.end(), clean) != scene.tags.end()) {
        continue;
      }
      scene.tags.push_back(std::move(clean));
    }
  }
  return {};
}

Result<std::vector<Speech>> ParseTranscript(const nlohmann::json& root) {
  constexpr std::string_view kStage = "transcript";
  constexpr std::string_view kFile = "transcript.json";
  auto list = root.is_object() ? root.find("segments") : root.end();
  if (!root.is_object() || list == root.end() || !list->is_array()) {
    return Fail(Shape(kStage, kFile, "has no segments"));
  }
  std::vector<Speech> speech;
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& entry = (*list)[i];
    std::string where = "segment " + std::to_string(i);
    if (!entry.is_object()) return Fail(Shape(kStage, kFile, where + " is not an object"));
    auto start = Seconds(entry, "start", kStage, kFile, where);
    if (!start) return Fail(start.error());
    auto text = entry.find("text");
    if (text == entry.end() || !text->is_string()) {
      return Fail(Shape(kStage, kFile, where + " has no text"));
    }
    std::string line = OneLine(text->get<std::string>());
    if (!line.empty()) speech.push_back(Speech{*start, std::move(line)});
  }
  std::stable_sort(speech.begin(), speech.end(),
                   [](const Speech& a, const Speech& b) { return a.start < b.start; });
  return speech;
}

// The inputs' results (scenes done); semantics or transcript skipped leave theirs out.
Result<Material> ReadMaterial(const StageInputs& inputs) {
  auto scenes_json = ReadJson(inputs, "scenes", "scenes.json", ChaptersStage::kMaxScenesBytes);
  if (!scenes_json) return Fail(scenes_json.error());
  auto material = ParseScenes(*scenes_json);
  if (!material) return Fail(material.error());
  auto semantics = inputs.Get("semantics");
  if (!semantics) return Fail(semantics.error().Wrap("input semantics"));
  if ((*semantics)->state == catalog::DerivativeState::kDone) {
    auto root = ReadJson(inputs, "semantics", "semantics.json", ChaptersStage::kMaxSemanticsBytes);
    if (!root) return Fail(root.error());
    REPRISE_TRY(ApplySemantics(*root, material->scenes));
  }
  auto transcript = inputs.Get("transcript");
  if (!transcript) return Fail(transcript.error().Wrap("input transcript"));
  if ((*transcript)->state == catalog::DerivativeState::kDone) {
    auto root =
        ReadJson(inputs, "transcript", "transcript.json", ChaptersStage::kMaxTranscriptBytes);
    if (!root) return Fail(root.error());
    auto speech = ParseTranscript(*root);
    if (!speech) return Fail(speech.error());
    material->speech = std::move(*speech);
  }
  return material;
}

// --- chapters ---

struct Chapter {
  size_t first = 0;  // scenes
  size_t last = 0;
  std::string title;
};

// Chapters from the scenes each starts at (ascending, the first 0).
std::vector<Chapter> FromStarts(const std::vector<size_t>& starts, size_t scene_count) {
  std::vector<Chapter> chapters;
  for (size_t k = 0; k < starts.size(); ++k) {
    size_t last = k + 1 < starts.size() ? starts[k + 1] - 1 : scene_count - 1;
    chapters.push_back(Chapter{starts[k], last, ""});
  }
  return chapters;
}

double Jaccard(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() && b.empty()) return 1;
  std::set<std::string_view> left(a.begin(), a.end());
  size_t shared = 0;
  for (const std::string& tag : b) shared += left.count(tag);
  return static_cast<double>(shared) / static_cast<double>(a.size() + b.size() - shared);
}

std::vector<size_t> LocalStarts(const Material& material, const ChaptersStage::Settings& settings) {
  const std::vector<Scene>& scenes = material.scenes;
  struct Candidate {
    size_t scene;
    double similarity;
  };
  std::vector<Candidate> candidates;
  std::optional<size_t> previous;  // the latest scene with an answer
  for (size_t i = 0; i < scenes.size(); ++i) {
    if (!scenes[i].answered) continue;
    if (previous) {
      double similarity = Jaccard(scenes[*previous].tags, scenes[i].tags);
      if (similarity < settings.similarity_threshold) candidates.push_back({i, similarity});
    }
    previous = i;
  }
  std::stable_sort(
      candidates.begin(), candidates.end(),
      [](const Candidate& a, const Candidate& b) { return a.similarity < b.similarity; });
  auto time_of = [&](size_t scene) { return scene == 0 ? 0.0 : scenes[scene].start; };
  std::set<size_t> starts = {0};
  for (const Candidate& candidate : candidates) {
    if (starts.size() >= static_cast<size_t>(settings.max_chapters)) break;
    auto next = starts.upper_bound(candidate.scene);
    double after = next == starts.end() ? material.duration : time_of(*next);
    double before = time_of(*std::prev(next));
    double at = time_of(candidate.scene);
    if (at - before >= settings.min_chapter_seconds && after - at >= settings.min_chapter_seconds) {
      starts.insert(candidate.scene);
    }
  }
  return {starts.begin(), starts.end()};
}

std::string Capitalised(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') {
    text[0] = static_cast<char>(text[0] - 'a' + 'A');
  }
  return text;
}

// The chapter's `count` most frequent tags (ties: the first seen), or "Chapter N".
std::string TagTitle(const std::vector<Scene>& scenes, const Chapter& chapter, size_t number,
                     int count) {
  std::vector<std::pair<std::string_view, int>> seen;  // in first-seen order
  for (size_t i = chapter.first; i <= chapter.last; ++i) {
    for (const std::string& tag : scenes[i].tags) {
      auto it = std::find_if(seen.begin(), seen.end(),
                             [&](const auto& entry) { return entry.first == tag; });
      if (it == seen.end()) {
        seen.emplace_back(tag, 1);
      } else {
        ++it->second;
      }
    }
  }
  if (seen.empty()) return "Chapter " + std::to_string(number);
  std::stable_sort(seen.begin(), seen.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string title;
  for (size_t i = 0; i < seen.size() && i < static_cast<size_t>(count); ++i) {
    title += (i > 0 ? ", " : "") + std::string(seen[i].first);
  }
  return Capitalised(std::move(title));
}

// The first `words` words of the speech starting in [start, end), as transcribed.
std::string Subtitle(const std::vector<Speech>& speech, double start, double end, int words) {
  std::string out;
  int taken = 0;
  auto it = std::lower_bound(speech.begin(), speech.end(), start,
                             [](const Speech& s, double at) { return s.start < at; });
  for (; it != speech.end() && it->start < end && taken < words; ++it) {
    size_t at = 0;
    const std::string& text = it->text;  // one line, single spaces
    while (at < text.size() && taken < words) {
      size_t space = text.find(' ', at);
      if (space == std::string::npos) space = text.size();
      out += (out.empty() ? "" : " ") + text.substr(at, space - at);
      ++taken;
      at = space + 1;
    }
  }
  return out;
}

// --- the model ---

std::string Tenths(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", seconds);
  return text;
}

std::string UserMessage(const Material& material, const ChaptersStage::Settings& settings) {
  std::string out = "Video: " + Tenths(material.duration) + " s, " +
                    std::to_string(material.scenes.size()) + " scenes. Make at most " +
                    std::to_string(settings.max_chapters) + " chapters, titles of at most " +
                    std::to_string(settings.max_title_chars) + " characters.\n\nScenes:\n";
  for (size_t i = 0; i < material.scenes.size(); ++i) {
    const Scene& scene = material.scenes[i];
    double end = i + 1 < material.scenes.size() ? material.scenes[i + 1].start : material.duration;
    out += "[" + std::to_string(i) + "] " + Tenths(i == 0 ? 0 : scene.start) + "-" + Tenths(end) +
           " s: ";
    out += scene.description.empty()
               ? "(no description)"
               : std::string(CutUtf8(scene.description, kMaxDescriptionBytes));
    if (!scene.tags.empty()) {
      out += " Tags: ";
      for (size_t t = 0; t < scene.tags.size() && t < kMaxTagsPerScene; ++t) {
        out += (t > 0 ? ", " : "") + scene.tags[t];
      }
      out += ".";
    }
    out += "\n";
  }
  if (material.speech.empty() || settings.max_transcript_chars == 0) {
    return out + "\nTranscript: none given.\n";
  }
  std::string transcript;
  for (const Speech& segment : material.speech) {
    transcript += "[" + Tenths(segment.start) + "] " + segment.text + "\n";
    if (transcript.size() > static_cast<size_t>(settings.max_transcript_chars)) break;
  }
  if (transcript.size() > static_cast<size_t>(settings.max_transcript_chars)) {
    return out + "\nTranscript (its first " + std::to_string(settings.max_transcript_chars) +
           " characters):\n" +
           std::string(CutUtf8(transcript, static_cast<size_t>(settings.max_transcript_chars))) +
           "\n";
  }
  return out + "\nTranscript:\n" + transcript;
}

Error Unusable(const std::string& what) {
  return Error{ErrorCode::kInternal, "chapters: the model's answer is unusable: " + what, ""};
}

// The chapters of a schema-valid answer, or why they cannot be used.
Result<std::vector<Chapter>> ChaptersOfAnswer(const nlohmann::json& answer, size_t scene_count,
                                              const ChaptersStage::Settings& settings) {
  const nlohmann::json& list = answer.at("chapters");
  if (list.empty()) return Fail(Unusable("no chapters"));
  if (list.size() > static_cast<size_t>(settings.max_chapters)) {
    return Fail(Unusable(std::to_string(list.size()) + " chapters, more than max_chapters " +
                         std::to_string(settings.max_chapters)));
  }
  std::vector<size_t> starts;
  std::vector<std::string> titles;
  for (size_t k = 0; k < list.size(); ++k) {
    const int64_t start = list[k].at("start_scene").get<int64_t>();
    const std::string chapter =
        "chapter " + std::to_string(k) + " starts at scene " + std::to_string(start);
    if (k == 0 && start != 0) return Fail(Unusable(chapter + ", not at scene 0"));
    if (k > 0 && start <= static_cast<int64_t>(starts.back())) {
      return Fail(Unusable(chapter + ", not after scene " + std::to_string(starts.back()) +
                           " (start_scene must strictly increase)"));
    }
    if (start >= static_cast<int64_t>(scene_count)) {
      return Fail(
          Unusable(chapter + ", but the video has scenes 0.." + std::to_string(scene_count - 1)));
    }
    std::string title = OneLine(list[k].at("title").get<std::string>());
    if (title.empty()) return Fail(Unusable("chapter " + std::to_string(k) + " has no title"));
    if (CodePoints(title) > static_cast<size_t>(settings.max_title_chars)) {
      return Fail(Unusable(
          "chapter " + std::to_string(k) + "'s title has " + std::to_string(CodePoints(title)) +
          " characters, more than max_title_chars " + std::to_string(settings.max_title_chars)));
    }
    starts.push_back(static_cast<size_t>(start));
    titles.push_back(std::move(title));
  }
  std::vector<Chapter> chapters = FromStarts(starts, scene_count);
  for (size_t k = 0; k < chapters.size(); ++k) chapters[k].title = std::move(titles[k]);
  return chapters;
}

// --- the run ---

double Millis(double seconds) { return std::round(seconds * 1000) / 1000; }

class ChaptersRun final : public StageRun {
 public:
  ChaptersRun(ChaptersStage::Settings settings, const ai::OpenAiClient* client,
              const StageInputs& inputs)
      : settings_(std::move(settings)), client_(client), inputs_(inputs) {}

  Result<StageResult> Finish(OutputSink& sink, bool /*input_ended*/) override {
    auto scenes = inputs_.Get("scenes");
    if (!scenes) return Fail(scenes.error().Wrap("input scenes"));
    StageResult result;
    result.metadata = {{"source", Source()}, {"backend", Backend()}};
    if ((*scenes)->state == catalog::DerivativeState::kSkipped) {
      result.skip_reason = (*scenes)->skip_reason;
      return result;
    }
    auto material = ReadMaterial(inputs_);
    if (!material) return Fail(material.error());
    nlohmann::ordered_json document = {{"source", Source()}};
    std::vector<Chapter> chapters;
    if (client_ != nullptr) {
      auto from_model = FromModel(*material, document, result.metadata);
      if (!from_model) return Fail(from_model.error());
      chapters = std::move(*from_model);
    } else {
      chapters = FromTags(*material);
    }
    REPRISE_TRY(Publish(sink, *material, chapters, document));
    result.metadata["chapters"] = chapters.size();
    result.metadata["scenes"] = material->scenes.size();
    result.metadata["duration"] = Millis(material->duration);
    return result;
  }

 private:
  std::string Source() const { return client_ != nullptr ? "model" : "local"; }
  std::string Backend() const { return std::string(client_ != nullptr ? kOpenAi : kLocal); }

  // The model's chapters; its model name and usage go into `document` and `metadata`.
  Result<std::vector<Chapter>> FromModel(const Material& material, nlohmann::ordered_json& document,
                                         nlohmann::json& metadata) const {
    auto answer = Ask(material);
    if (!answer) return Fail(answer.error());
    auto chapters = ChaptersOfAnswer(answer->value, material.scenes.size(), settings_);
    if (!chapters) return Fail(chapters.error());
    const ai::TokenUsage& used = answer->usage;
    const std::pair<const char*, int64_t> counts[] = {{"requests", 1},
                                                      {"prompt_tokens", used.prompt_tokens},
                                                      {"completion_tokens", used.completion_tokens},
                                                      {"total_tokens", used.total_tokens}};
    nlohmann::ordered_json usage = nlohmann::ordered_json::object();
    for (const auto& [key, count] : counts) {
      usage[key] = count;
      metadata[key] = count;
    }
    document["model"] = answer->model;
    metadata["model"] = answer->model;
    if (settings_.token_price) {
      metadata["cost"] = static_cast<double>(used.total_tokens) / 1000 * *settings_.token_price;
    }
    document["chapters"] = nullptr;  // keeps "chapters" before "usage"
    document["usage"] = std::move(usage);
    return chapters;
  }

  // Scenes grouped where their tags change, titled by their tags.
  std::vector<Chapter> FromTags(const Material& material) const {
    std::vector<Chapter> chapters =
        FromStarts(LocalStarts(material, settings_), material.scenes.size());
    for (size_t k = 0; k < chapters.size(); ++k) {
      chapters[k].title = TagTitle(material.scenes, chapters[k], k + 1, settings_.title_tags);
    }
    return chapters;
  }

  Result<ai::ChatResult> Ask(const Material& material) const {
    ai::ChatRequest request;
    request.model = settings_.model;
    request.system = settings_.prompt;
    request.user = UserMessage(material, settings_);
    // Room for every chapter's index and title, so a long answer is not cut ("length").
    request.max_tokens = 256 + settings_.max_chapters * (16 + settings_.max_title_chars / 2);
    request.schema_name = "chapters";
    request.schema = nlohmann::json::parse(kAnswerSchema);
    auto answer = client_->ChatJson(request);
    if (!answer) return Fail(answer.error().Wrap("chapters: service '" + settings_.service + "'"));
    return answer;
  }

  Result<void> Publish(OutputSink& sink, const Material& material,
                       const std::vector<Chapter>& chapters,
                       nlohmann::ordered_json& document) const {
    auto start_of = [&](size_t k) {
      return k == 0 ? 0.0 : material.scenes[chapters[k].first].start;
    };
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    std::string vtt = speech::VttHeader();
    for (size_t k = 0; k < chapters.size(); ++k) {
      double start = start_of(k);
      double end = k + 1 < chapters.size() ? start_of(k + 1) : material.duration;
      nlohmann::ordered_json entry = {{"index", k},
                                      {"start", Millis(start)},
                                      {"end", Millis(end)},
                                      {"title", chapters[k].title}};
      std::string subtitle = Subtitle(material.speech, start, end, settings_.subtitle_words);
      if (!subtitle.empty()) entry["subtitle"] = std::move(subtitle);
      entry["scenes"] = {chapters[k].first, chapters[k].last};
      list.push_back(std::move(entry));
      vtt += speech::VttCue(speech::Cue{start, end, {chapters[k].title}});
    }
    document["chapters"] = std::move(list);
    auto json = WriteOutput(sink, ChaptersStage::kJsonName, "application/json", document.dump(2));
    if (!json) return Fail(json.error());
    auto written = WriteOutput(sink, ChaptersStage::kVttName, "text/vtt; charset=utf-8", vtt);
    if (!written) return Fail(written.error());
    return {};
  }

  ChaptersStage::Settings settings_;
  const ai::OpenAiClient* client_;
  const StageInputs& inputs_;
};

// Every param of both backends, with `backend` given.
nlohmann::json Defaults(std::string_view backend) {
  return {{"backend", std::string(backend)},
          {"max_chapters", 20},
          {"subtitle_words", 8},
          {"similarity_threshold", 0.2},
          {"min_chapter_seconds", 30.0},
          {"title_tags", 3},
          {"model", std::string(ChaptersStage::kDefaultModel)},
          {"prompt", std::string(ChaptersStage::kDefaultPrompt)},
          {"max_transcript_chars", 8000},
          {"max_title_chars", 80}};
}

// The backend the table asks for, else "openai" when its service is configured.
Result<std::string> ChooseBackend(const nlohmann::json& overrides, const StageTable& table,
                                  const StageServices& services) {
  const bool service_named = overrides.is_object() && overrides.contains("service");
  if (table.params.is_object()) {
    if (auto it = table.params.find("backend"); it != table.params.end() && it->is_string()) {
      std::string backend = it->get<std::string>();
      if (backend != kLocal && backend != kOpenAi) {
        return Fail(
            ParamError("backend", "must be \"local\" or \"openai\", got \"" + backend + "\""));
      }
      if (backend == kLocal && service_named) {
        return Fail(ParamError("service", "is used by backend \"openai\" only"));
      }
      return backend;
    }
  }
  // A service named outright must exist: falling back to "local" would hide a typo.
  return std::string(service_named || services.HasService(table.service) ? kOpenAi : kLocal);
}

// A numeric param: its range and the setting it goes to.
template <class T>
struct NumericKey {
  const char* name;
  T min;
  T max;
  T ChaptersStage::Settings::*field;
};

Result<ChaptersStage::Settings> ReadSettings(const nlohmann::json& params) {
  using Settings = ChaptersStage::Settings;
  constexpr NumericKey<int> kInts[] = {
      {"max_chapters", 1, 500, &Settings::max_chapters},
      {"subtitle_words", 0, 100, &Settings::subtitle_words},
      {"title_tags", 1, 10, &Settings::title_tags},
      {"max_transcript_chars", 0, 1'000'000, &Settings::max_transcript_chars},
      {"max_title_chars", 8, 200, &Settings::max_title_chars}};
  constexpr NumericKey<double> kNumbers[] = {
      {"similarity_threshold", 0, 1, &Settings::similarity_threshold},
      {"min_chapter_seconds", 0, 86400, &Settings::min_chapter_seconds}};
  Settings settings;
  auto read = [&](const auto& keys, auto param) -> Result<void> {
    for (const auto& key : keys) {
      auto value = param(ChaptersStage::kName, params, key.name, key.min, key.max);
      if (!value) return Fail(value.error());
      settings.*key.field = *value;
    }
    return {};
  };
  REPRISE_TRY(read(kInts, IntParam));
  REPRISE_TRY(read(kNumbers, NumberParam));
  settings.model = params.at("model").get<std::string>();
  if (settings.model.empty()) return Fail(ParamError("model", "must name the service's model"));
  settings.prompt = params.at("prompt").get<std::string>();
  if (OneLine(settings.prompt).empty()) return Fail(ParamError("prompt", "must not be empty"));
  return settings;
}

}  // namespace

Result<std::unique_ptr<ChaptersStage>> ChaptersStage::Create(const nlohmann::json& overrides) {
  return Create(overrides, StageServices());
}

Result<std::unique_ptr<ChaptersStage>> ChaptersStage::Create(const nlohmann::json& overrides,
                                                             const StageServices& services) {
  auto table = SplitServiceKey(kName, overrides, kDefaultService);
  if (!table) return Fail(table.error());
  auto backend = ChooseBackend(overrides, *table, services);
  if (!backend) return Fail(backend.error());
  auto merged = MergeParams(kName, Defaults(*backend), table->params);
  if (!merged) return Fail(merged.error());
  auto settings = ReadSettings(*merged);
  if (!settings) return Fail(settings.error());
  // The recipe holds the backend's own params only.
  const bool remote = *backend == kOpenAi;
  nlohmann::json params = {{"backend", *backend}};
  for (std::string_view key : kCommonKeys) params[std::string(key)] = merged->at(std::string(key));
  if (remote) {
    for (std::string_view key : kOpenAiKeys)
      params[std::string(key)] = merged->at(std::string(key));
  } else {
    for (std::string_view key : kLocalKeys) params[std::string(key)] = merged->at(std::string(key));
  }
  const ai::OpenAiClient* client = nullptr;
  if (remote) {
    auto found = services.Service(table->service);
    if (!found) return Fail(found.error().Wrap("stage 'chapters' (backend \"openai\")"));
    client = *found;
    settings->service = table->service;
    settings->token_price = services.TokenPrice(kName);
  }
  return std::unique_ptr<ChaptersStage>(
      new ChaptersStage(std::move(params), std::move(*settings), client));
}

std::vector<ServiceUse> ChaptersStage::Services() const {
  if (client_ == nullptr) return {};
  return {ServiceUse{settings_.service, {settings_.model}}};
}

Result<std::unique_ptr<StageRun>> ChaptersStage::Start(const media::MediaInfo& /*info*/) const {
  return Fail(ErrorCode::kInternal, "stage chapters works from its inputs and was run without");
}

Result<std::unique_ptr<StageRun>> ChaptersStage::StartWith(const media::MediaInfo& /*info*/,
                                                           const StageInputs& inputs) const {
  return std::unique_ptr<StageRun>(std::make_unique<ChaptersRun>(settings_, client_, inputs));
}

}  // namespace reprise::stages
