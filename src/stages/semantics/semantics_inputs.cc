#include "stages/semantics/semantics_inputs.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

namespace reprise::stages::semantics {
namespace {

Error Bad(std::string_view file, const std::string& what) {
  return Error{ErrorCode::kInvalidArgument, "input " + std::string(file) + ": " + what, ""};
}

bool Overlaps(const Spoken& spoken, double start, double end) {
  return spoken.start < end && spoken.end > start;
}

// A keyframe name the scenes stage writes: a plain file name, nothing that walks a path.
bool PlainName(const std::string& name) {
  return !name.empty() && name.size() <= 255 && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name != "." && name != "..";
}

}  // namespace

Result<SceneList> ParseScenes(std::string_view scenes_json) {
  constexpr std::string_view kFile = "scenes.json";
  nlohmann::json doc = nlohmann::json::parse(scenes_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("scenes") || !doc["scenes"].is_array()) {
    return Fail(Bad(kFile, "not a JSON object with a \"scenes\" array"));
  }
  SceneList list;
  if (auto it = doc.find("duration"); it != doc.end() && it->is_number()) {
    list.duration = std::max(0.0, it->get<double>());
  }
  for (const nlohmann::json& scene : doc["scenes"]) {
    const std::string at = "scene " + std::to_string(list.scenes.size());
    if (!scene.is_object()) return Fail(Bad(kFile, at + " is not an object"));
    auto number = [&](const char* key) -> const nlohmann::json* {
      auto it = scene.find(key);
      return it != scene.end() && it->is_number() ? &*it : nullptr;
    };
    const nlohmann::json* start = number("start");
    const nlohmann::json* end = number("end");
    auto keyframe = scene.find("keyframe");
    if (start == nullptr || end == nullptr || keyframe == scene.end() || !keyframe->is_string()) {
      return Fail(Bad(kFile, at + " lacks start, end or keyframe"));
    }
    SceneEntry entry;
    entry.index = static_cast<int>(list.scenes.size());
    if (const nlohmann::json* index = number("index")) entry.index = index->get<int>();
    entry.start = start->get<double>();
    entry.end = end->get<double>();
    entry.keyframe = keyframe->get<std::string>();
    if (!(entry.end >= entry.start)) return Fail(Bad(kFile, at + " ends before it starts"));
    if (!PlainName(entry.keyframe)) {
      return Fail(Bad(kFile, at + " names keyframe \"" + Bounded(entry.keyframe, 64) +
                                 "\", not a plain file name"));
    }
    if (const nlohmann::json* motion = number("motion")) entry.motion = motion->get<double>();
    list.duration = std::max(list.duration, entry.end);
    list.scenes.push_back(std::move(entry));
  }
  return list;
}

Result<std::vector<Spoken>> ParseTranscript(std::string_view transcript_json) {
  constexpr std::string_view kFile = "transcript.json";
  nlohmann::json doc = nlohmann::json::parse(transcript_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("segments") || !doc["segments"].is_array()) {
    return Fail(Bad(kFile, "not a JSON object with a \"segments\" array"));
  }
  std::vector<Spoken> spoken;
  for (const nlohmann::json& segment : doc["segments"]) {
    if (!segment.is_object()) return Fail(Bad(kFile, "a segment is not an object"));
    auto start = segment.find("start");
    auto end = segment.find("end");
    auto text = segment.find("text");
    if (start == segment.end() || !start->is_number() || end == segment.end() ||
        !end->is_number() || text == segment.end() || !text->is_string()) {
      return Fail(
          Bad(kFile, "segment " + std::to_string(spoken.size()) + " lacks start, end or text"));
    }
    if (text->get_ref<const std::string&>().empty()) continue;
    spoken.push_back(Spoken{start->get<double>(), end->get<double>(), text->get<std::string>()});
  }
  std::stable_sort(spoken.begin(), spoken.end(),
                   [](const Spoken& a, const Spoken& b) { return a.start < b.start; });
  return spoken;
}

std::string Bounded(std::string_view text, size_t max_chars) {
  if (text.size() <= max_chars) return std::string(text);
  constexpr std::string_view kEllipsis = "...";
  if (max_chars <= kEllipsis.size()) return std::string(kEllipsis.substr(0, max_chars));
  size_t cut = max_chars - kEllipsis.size();
  // Back to a word boundary when there is one in the last kWordSlack bytes, then off any
  // UTF-8 continuation byte so no character is split.
  constexpr size_t kWordSlack = 32;
  size_t space = text.rfind(' ', cut);
  if (space != std::string_view::npos && space + kWordSlack >= cut) cut = space;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + std::string(kEllipsis);
}

std::string TextDuring(const std::vector<Spoken>& spoken, double start, double end,
                       size_t max_chars) {
  std::string text;
  for (const Spoken& segment : spoken) {
    if (!Overlaps(segment, start, end)) continue;
    if (!text.empty()) text += ' ';
    text += segment.text;
    if (text.size() > max_chars) break;  // enough to cut; the rest would be dropped
  }
  return Bounded(text, max_chars);
}

bool SpeechDuring(const std::vector<Spoken>& spoken, double start, double end) {
  return std::any_of(spoken.begin(), spoken.end(),
                     [&](const Spoken& segment) { return Overlaps(segment, start, end); });
}

double SpeechSeconds(const std::vector<Spoken>& spoken, double duration) {
  double covered = 0;
  double reach = 0;  // segments are in start order: count each stretch once
  for (const Spoken& segment : spoken) {
    double from = std::clamp(std::max(segment.start, reach), 0.0, duration);
    double to = std::clamp(segment.end, 0.0, duration);
    if (to > from) covered += to - from;
    reach = std::max(reach, segment.end);
  }
  return covered;
}

}  // namespace reprise::stages::semantics
