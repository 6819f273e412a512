// Timings of hls@1 alone, for PERFORMANCE notes: wall and CPU time of audio HLS on a 60 s
// 48 kHz stereo input with the AAC encode chunked on 2 threads and continuous on 1, and
// the peak RSS of a 10-minute input. Disabled by default (slow, machine-dependent); run
// from a Release build:
//   stages_tests --gtest_also_run_disabled_tests --gtest_filter='HlsTiming*'
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <span>
#include <string>

#include <gtest/gtest.h>

#include "stages/hls_stage.h"
#include "stages/runner.h"
#include "tests/media/media_test_util.h"
#include "tests/stages/memory_sink.h"
#include "tests/support/media_suite.h"

namespace reprise::stages {
namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

class HlsTiming : public testing::MediaSuite {
 protected:
  static std::string Generate(const std::string& name, const std::vector<std::string>& args) {
    std::string path = samples_->dir().Join(name);
    std::vector<std::string> all = args;
    all.push_back(path);
    EXPECT_TRUE(testing::Ffmpeg(all));
    return path;
  }

  // Runs audio HLS on `path`; prints and returns {wall, cpu} seconds.
  static std::pair<double, double> Time(const std::string& path, int threads) {
    auto stage = HlsStage::Create({{"video", false}, {"threads", threads}});
    EXPECT_TRUE(stage.has_value());
    MemorySink sink;
    auto reader = testing::OpenOrDie(path);
    StageTask task{stage->get(), &sink};
    double cpu = CpuSeconds();
    auto start = std::chrono::steady_clock::now();
    auto report = RunStages(*reader, std::span(&task, 1));
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    cpu = CpuSeconds() - cpu;
    EXPECT_TRUE(report.has_value());
    if (report) {
      EXPECT_EQ(report->outcomes[0].state, catalog::DerivativeState::kDone);
    }
    std::cout << path << " threads=" << threads << ": wall " << wall << " s, cpu " << cpu << " s, "
              << sink.files.size() << " files\n";
    return {wall, cpu};
  }
};

TEST_F(HlsTiming, DISABLED_SixtySecondsChunkedVsContinuous) {
  // Pink noise costs the AAC encoder what full-band music does (a sine a quarter of it).
  std::string wav =
      Generate("sixty.wav", {"-f", "lavfi", "-i", "anoisesrc=c=pink:seed=7:a=0.3:d=60:r=48000",
                             "-ac", "2", "-c:a", "pcm_s16le"});
  std::string mp4 = Generate(
      "sixty.mp4", {"-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=60", "-f", "lavfi", "-i",
                    "anoisesrc=c=pink:seed=7:a=0.3:d=60:r=48000", "-ac", "2", "-c:v", "libx264",
                    "-preset", "ultrafast", "-c:a", "aac", "-b:a", "192k", "-shortest"});
  std::vector<std::string> inputs = {wav, mp4};
  if (const char* extra = std::getenv("REPRISE_HLS_TIMING_INPUT")) inputs.emplace_back(extra);
  for (const std::string& path : inputs) {
    auto continuous = Time(path, 1);
    auto chunked = Time(path, 2);
    std::cout << "speed-up (wall) " << continuous.first / chunked.first << "\n";
  }
}

TEST_F(HlsTiming, DISABLED_TenMinutesStaysSmall) {
  std::string flac = Generate(
      "ten.flac", {"-f", "lavfi", "-i", "anoisesrc=c=pink:seed=9:a=0.3:d=600:r=48000", "-ac", "2"});
  Time(flac, 2);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::cout << "peak RSS " << usage.ru_maxrss / 1024 << " MiB\n";
  EXPECT_LT(usage.ru_maxrss / 1024, 200);
}

}  // namespace
}  // namespace reprise::stages
