// Reading the Prometheus text exposition format back in tests: each sample line
// `name{a="x",b="y"} value` becomes an entry keyed by its name and labels, so a test asks
// for one series by the labels it cares about. Header-only.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace reprise::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Every sample line (comments skipped). Label values with escaped quotes are not needed
// by reprise's series and not handled.
inline std::vector<PromSample> ParsePromText(const std::string& text) {
  std::vector<PromSample> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    PromSample sample;
    size_t at = line.find_first_of("{ ");
    if (at == std::string::npos) continue;
    sample.name = line.substr(0, at);
    if (line[at] == '{') {
      ++at;
      // key="value" pairs; values may hold '{', '}' and ',' (route patterns).
      while (at < line.size() && line[at] != '}') {
        size_t eq = line.find('=', at);
        size_t open = eq + 1;
        size_t close = line.find('"', open + 1);
        if (eq == std::string::npos || close == std::string::npos) break;
        sample.labels[line.substr(at, eq - at)] = line.substr(open + 1, close - open - 1);
        at = close + 1;
        if (at < line.size() && line[at] == ',') ++at;
      }
      at = line.find(' ', at);
      if (at == std::string::npos) continue;
    }
    size_t space = at;
    sample.value = std::stod(line.substr(space + 1));
    samples.push_back(std::move(sample));
  }
  return samples;
}

// True when `sample` is a series named `name` whose labels include `labels`.
inline bool PromMatches(const PromSample& sample, const std::string& name,
                        const std::map<std::string, std::string>& labels) {
  if (sample.name != name) return false;
  for (const auto& [key, value] : labels) {
    auto it = sample.labels.find(key);
    if (it == sample.labels.end() || it->second != value) return false;
  }
  return true;
}

// The value of the series `name` whose labels include `labels`, summed over the series
// that match (0 when none does).
inline double PromValue(const std::vector<PromSample>& samples, const std::string& name,
                        const std::map<std::string, std::string>& labels = {}) {
  double sum = 0;
  for (const auto& sample : samples) {
    if (PromMatches(sample, name, labels)) sum += sample.value;
  }
  return sum;
}

// True when a series named `name` whose labels include `labels` exists.
inline bool PromHas(const std::vector<PromSample>& samples, const std::string& name,
                    const std::map<std::string, std::string>& labels = {}) {
  for (const auto& sample : samples) {
    if (PromMatches(sample, name, labels)) return true;
  }
  return false;
}

}  // namespace reprise::testing
