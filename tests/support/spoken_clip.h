// Real recorded speech for the search tests: two LibriVox utterances of Debian's
// pocketsphinx-testdata ("and mister john dashwood had then leisure to consider ..." and
// "he was not an ill disposed young man"), each after a second of silence, as 44.1 kHz
// AAC in an .m4a, and a way to pick from a run's transcript.json a word the recognizer
// got right (one of the reference words), with its times.
#pragma once

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace reprise::testing {

inline const std::string kLibrivoxDir = "/usr/share/pocketsphinx/test/data/librivox/";
inline const char* const kSpokenUtterances[] = {"sense_and_sensibility_01_austen_64kb-0870",
                                                "sense_and_sensibility_01_austen_64kb-0880"};

// Writes the clip to `path`; false (with a test failure) when ffmpeg fails.
inline bool MakeSpokenClip(const std::string& path) {
  std::vector<std::string> args;
  for (const char* utterance : kSpokenUtterances) {
    for (const char* arg : {"-f", "lavfi", "-t", "1", "-i", "anullsrc=r=16000:cl=mono", "-i"}) {
      args.emplace_back(arg);
    }
    args.push_back(kLibrivoxDir + utterance + ".wav");
  }
  for (const char* arg : {"-filter_complex", "[0][1][2][3]concat=n=4:v=0:a=1,aresample=44100",
                          "-c:a", "aac", "-b:a", "128k"}) {
    args.emplace_back(arg);
  }
  args.push_back(path);
  return Ffmpeg(args);
}

// The words of the clip's reference transcription.
inline std::set<std::string> SpokenReferenceWords() {
  std::ifstream transcription(kLibrivoxDir + "transcription");
  std::set<std::string> words;
  std::string line;
  while (std::getline(transcription, line)) {
    bool ours = false;
    for (const char* id : kSpokenUtterances) {
      ours |= line.find(std::string("(") + id + ")") != std::string::npos;
    }
    if (!ours) continue;
    std::istringstream in(line.substr(0, line.find(" </s>")));
    for (std::string word; in >> word;) {
      if (word != "<s>") words.insert(word);
    }
  }
  return words;
}

struct SpokenWord {
  std::string word;
  double start = 0;
  double end = 0;
};

// The longest word of transcript.json (at least 4 letters) that is a reference word and
// occurs once in it, with its times; nullopt when the recognizer got none right.
inline std::optional<SpokenWord> RecognizedWord(const nlohmann::json& transcript) {
  const std::set<std::string> reference = SpokenReferenceWords();
  std::multiset<std::string> heard;
  for (const auto& segment : transcript.at("segments")) {
    for (const auto& word : segment.at("words")) heard.insert(word.at("word").get<std::string>());
  }
  std::optional<SpokenWord> best;
  for (const auto& segment : transcript.at("segments")) {
    for (const auto& word : segment.at("words")) {
      std::string text = word.at("word").get<std::string>();
      if (text.size() < 4 || !reference.count(text) || heard.count(text) != 1) continue;
      if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
        continue;
      }
      if (!best || text.size() > best->word.size()) {
        best = SpokenWord{text, word.at("start").get<double>(), word.at("end").get<double>()};
      }
    }
  }
  return best;
}

}  // namespace reprise::testing
