// Milliseconds per keyframe for KeyframeAnalyzer::Analyze (stages/vision): each JPEG named
// on the command line is analysed ROUNDS times with one analyzer (Debian's models); the
// median time per file and over all files is printed, with what was found.
//
//   keyframe_signals_bench ROUNDS FILE.jpg...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "stages/vision/keyframe_signals.h"

namespace {

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ROUNDS FILE.jpg...\n", argv[0]);
    return 2;
  }
  int rounds = std::max(1, std::atoi(argv[1]));
  auto analyzer = reprise::stages::vision::KeyframeAnalyzer::Create(
      reprise::stages::vision::VisionModels::Debian());
  if (!analyzer) {
    std::fprintf(stderr, "%s\n", analyzer.error().ToString().c_str());
    return 1;
  }
  std::vector<double> all;
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::string jpeg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<double> times;
    reprise::stages::vision::KeyframeSignals last;
    for (int round = 0; round < rounds; ++round) {
      auto start = std::chrono::steady_clock::now();
      auto signals = (*analyzer)->Analyze(jpeg);
      auto end = std::chrono::steady_clock::now();
      if (!signals) {
        std::fprintf(stderr, "%s: %s\n", argv[i], signals.error().ToString().c_str());
        return 1;
      }
      last = std::move(*signals);
      times.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    }
    all.push_back(Median(times));
    std::printf("%-40s %8.1f ms  faces %d, light %s, text '%s'\n", argv[i], Median(times),
                last.faces, last.light.c_str(), last.text.c_str());
  }
  std::printf("median over %zu keyframes: %.1f ms per keyframe\n", all.size(), Median(all));
  return 0;
}
