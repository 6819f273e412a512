#include "stages/semantics/signal_semantics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace reprise::stages::semantics {
namespace {

std::string Seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", seconds);
  return text;
}

double Rounded(double value, double scale) { return std::round(value * scale) / scale; }

void AddTag(nlohmann::ordered_json& tags, const std::string& tag) {
  if (tag.empty()) return;
  for (const auto& existing : tags) {
    if (existing == tag) return;
  }
  tags.push_back(tag);
}

// "a, b and c".
std::string Listed(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

// One plain sentence naming what was measured, in the order of the signals.
std::string Describe(const SceneEntry& scene, const KeyframeSignals* keyframe, bool speech,
                     const std::string& spoken, const SignalOptions& options) {
  std::vector<std::string> parts;
  if (keyframe != nullptr) {
    std::string picture =
        "a " + (keyframe->light.empty() ? std::string("normal") : keyframe->light) + " picture";
    std::vector<std::string> colours;
    for (const KeyframeColour& colour : keyframe->colours) {
      if (colour.share >= kColourTagShare) colours.push_back(colour.name);
    }
    if (!colours.empty()) picture += ", mostly " + Listed(colours);
    parts.push_back(picture);
    if (keyframe->faces > 0) {
      parts.push_back(std::to_string(keyframe->faces) +
                      (keyframe->faces == 1 ? " face" : " faces"));
    }
    if (!keyframe->text.empty()) parts.push_back("on-screen text \"" + keyframe->text + "\"");
  }
  if (speech) {
    parts.push_back(spoken.empty() ? std::string("speech") : "speech (\"" + spoken + "\")");
  } else {
    parts.push_back("no speech");
  }
  if (scene.motion) {
    if (*scene.motion < options.still_below) {
      parts.push_back("little motion");
    } else if (*scene.motion > options.high_motion_above) {
      parts.push_back("much motion");
    } else {
      parts.push_back("some motion");
    }
  }
  return "Scene " + std::to_string(scene.index + 1) + ", " + Seconds(scene.start) + " to " +
         Seconds(scene.end) + " s: " + Listed(parts) + ".";
}

}  // namespace

nlohmann::ordered_json SignalScene(const SceneEntry& scene, const KeyframeSignals* keyframe,
                                   const std::string& keyframe_error,
                                   const std::vector<Spoken>& spoken,
                                   const SignalOptions& options) {
  const bool speech = SpeechDuring(spoken, scene.start, scene.end);
  const std::string words = TextDuring(spoken, scene.start, scene.end, options.spoken_chars);
  nlohmann::ordered_json tags = nlohmann::ordered_json::array();
  nlohmann::ordered_json signals = nlohmann::ordered_json::object();
  if (keyframe != nullptr) {
    nlohmann::ordered_json colours = nlohmann::ordered_json::array();
    for (const KeyframeColour& colour : keyframe->colours) {
      colours.push_back(
          {{"name", colour.name}, {"hex", colour.hex}, {"share", Rounded(colour.share, 1000)}});
    }
    signals["colours"] = std::move(colours);
    signals["brightness"] = Rounded(keyframe->brightness, 1000);
    signals["light"] = keyframe->light;
    signals["faces"] = keyframe->faces;
    signals["text"] = keyframe->text;
    if (keyframe->light != "normal") AddTag(tags, keyframe->light);
    for (const KeyframeColour& colour : keyframe->colours) {
      if (colour.share >= kColourTagShare) AddTag(tags, colour.name);
    }
    if (keyframe->faces > 0) AddTag(tags, "faces");
    if (!keyframe->text.empty()) AddTag(tags, "text");
  }
  if (scene.motion) {
    signals["motion"] = Rounded(*scene.motion, 10000);
    if (*scene.motion < options.still_below) AddTag(tags, "still");
    if (*scene.motion > options.high_motion_above) AddTag(tags, "high-motion");
  }
  signals["speech"] = speech;
  signals["spoken"] = words;
  if (speech) AddTag(tags, "speech");

  nlohmann::ordered_json entry = {
      {"index", scene.index},
      {"start", scene.start},
      {"end", scene.end},
      {"description", Describe(scene, keyframe, speech, words, options)},
      {"entities",
       {{"people", nlohmann::ordered_json::array()},
        {"objects", nlohmann::ordered_json::array()},
        {"places", nlohmann::ordered_json::array()}}},
      {"actions", nlohmann::ordered_json::array()},
      {"tags", std::move(tags)}};
  if (!keyframe_error.empty()) entry["error"] = keyframe_error;
  entry["signals"] = std::move(signals);
  return entry;
}

std::vector<std::string> FrequentTags(const nlohmann::ordered_json& scenes, size_t max_tags) {
  std::vector<std::string> order;
  std::map<std::string, int> counts;
  for (const auto& scene : scenes) {
    auto tags = scene.find("tags");
    if (tags == scene.end() || !tags->is_array()) continue;
    for (const auto& tag : *tags) {
      if (!tag.is_string()) continue;
      const std::string& name = tag.get_ref<const std::string&>();
      if (counts[name]++ == 0) order.push_back(name);
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
    return counts[a] > counts[b];
  });
  if (order.size() > max_tags) order.resize(max_tags);
  return order;
}

std::string SignalSummary(double duration, size_t scenes, double speech_seconds,
                          const std::vector<std::string>& tags) {
  std::string summary = "A " + Seconds(duration) + " s video in " + std::to_string(scenes) +
                        (scenes == 1 ? " scene" : " scenes");
  if (speech_seconds > 0 && duration > 0) {
    const long percent = std::lround(100 * std::min(1.0, speech_seconds / duration));
    summary += " with speech over " + std::to_string(percent) + "% of its time";
  } else {
    summary += " without speech";
  }
  if (!tags.empty()) {
    std::vector<std::string> top(tags.begin(), tags.begin() + std::min<size_t>(tags.size(), 5));
    summary += "; most frequent tags: " + Listed(top);
  }
  return summary + ".";
}

}  // namespace reprise::stages::semantics
