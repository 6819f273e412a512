// Audio HLS with the AAC encode chunked on two threads against the continuous encode on
// one: wall and CPU seconds of the hls stage (video off) on each input, and the wall
// speed-up. Inputs are generated with the ffmpeg CLI unless given: a 60 s 48 kHz stereo
// pink-noise WAV (pink noise costs the AAC encoder what full-band music does) and a 60 s
// 1280x720 H.264 + AAC MP4 of the same noise. The peak RSS of the process is printed
// last (`--seconds 600` shows that a long input stays small).
//
// Output: one `key=value ...` line per input and thread count, then a ratio line per
// input. Run from a Release build. The whole benchmark set against one ffmpeg command is
// bench/media_derivatives.sh's, not this program's.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "core/io.h"
#include "media/ffmpeg.h"
#include "stages/hls_stage.h"
#include "stages/runner.h"

namespace reprise::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::vector<std::string> inputs;
  double seconds = 60;
  std::string dir;
};

// Counts what the stage writes and keeps none of it.
class DiscardSink final : public stages::OutputSink {
 public:
  Result<std::unique_ptr<blob::BlobWriter>> Create(std::string_view /*name*/) override {
    return std::unique_ptr<blob::BlobWriter>(std::make_unique<Writer>());
  }
  void Add(catalog::OutputBlob /*blob*/) override { ++files; }

  int files = 0;

 private:
  class Writer final : public blob::BlobWriter {
   public:
    Result<void> Write(std::span<const std::byte> data) override {
      bytes_ += static_cast<int64_t>(data.size());
      return {};
    }
    Result<blob::BlobInfo> Commit(std::string_view key) override {
      return blob::BlobInfo{std::string(key), bytes_};
    }
    int64_t BytesWritten() const override { return bytes_; }

   private:
    int64_t bytes_ = 0;
  };
};

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Timing {
  double wall = 0;
  double cpu = 0;
};

// Audio HLS of `path` with the AAC encode on `threads` threads.
Result<Timing> Time(const std::string& path, int threads) {
  auto stage = stages::HlsStage::Create({{"video", false}, {"threads", threads}});
  if (!stage) return Fail(stage.error());
  auto reader = OpenFileReader(path);
  if (!reader) return Fail(reader.error());
  DiscardSink sink;
  stages::StageTask task{stage->get(), &sink};
  double cpu = CpuSeconds();
  auto start = SteadyClock::now();
  auto report = stages::RunStages(**reader, std::span(&task, 1));
  Timing timing{std::chrono::duration<double>(SteadyClock::now() - start).count(),
                CpuSeconds() - cpu};
  if (!report) return Fail(report.error());
  const stages::StageOutcome& outcome = report->outcomes[0];
  if (outcome.state != catalog::DerivativeState::kDone) {
    return Fail(outcome.error.value_or(Error{ErrorCode::kInternal, "hls did not finish", {}}));
  }
  fmt::print("input={} threads={} wall_s={:.3f} cpu_s={:.3f} files={}\n",
             std::filesystem::path(path).filename().string(), threads, timing.wall, timing.cpu,
             sink.files);
  return timing;
}

bool Ffmpeg(const std::string& args) {
  std::string command = "ffmpeg -hide_banner -v error -y " + args;
  return std::system(command.c_str()) == 0;  // NOLINT(cert-env33-c): a bench tool
}

int Run(Options options) {
  media::InitFfmpeg(/*quiet=*/true);
  std::filesystem::path dir = options.dir;
  if (dir.empty()) {
    dir = std::filesystem::temp_directory_path() / fmt::format("hls_chunked_{}", ::getpid());
  }
  std::filesystem::create_directories(dir);
  if (options.inputs.empty()) {
    std::string noise = fmt::format("anoisesrc=c=pink:seed=7:a=0.3:d={}:r=48000", options.seconds);
    std::string wav = (dir / "noise.wav").string();
    std::string mp4 = (dir / "noise.mp4").string();
    if (!Ffmpeg(fmt::format("-f lavfi -i {} -ac 2 -c:a pcm_s16le '{}'", noise, wav)) ||
        !Ffmpeg(fmt::format("-f lavfi -i testsrc2=s=1280x720:r=30:d={} -f lavfi -i {} -ac 2 "
                            "-c:v libx264 -preset ultrafast -c:a aac -b:a 192k -shortest '{}'",
                            options.seconds, noise, mp4))) {
      fmt::print(stderr, "cannot generate the inputs with ffmpeg\n");
      return 1;
    }
    options.inputs = {wav, mp4};
  }
  for (const std::string& path : options.inputs) {
    auto continuous = Time(path, 1);
    auto chunked = continuous ? Time(path, 2) : continuous;
    if (!continuous || !chunked) {
      fmt::print(stderr, "{}: {}\n", path, (continuous ? chunked : continuous).error().ToString());
      return 1;
    }
    fmt::print("input={} speedup_wall={:.2f} cpu_ratio={:.2f}\n",
               std::filesystem::path(path).filename().string(), continuous->wall / chunked->wall,
               chunked->cpu / continuous->cpu);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  fmt::print("peak_rss_mib={}\n", usage.ru_maxrss / 1024);
  if (options.dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace reprise::bench

int main(int argc, char** argv) {
  reprise::bench::Options options;
  CLI::App app{"Audio HLS: the AAC encode chunked on 2 threads against continuous on 1."};
  app.add_option("--input", options.inputs, "input file(s) (default: generated noise WAV + MP4)");
  app.add_option("--seconds", options.seconds, "length of the generated inputs")
      ->check(CLI::Range(1.0, 3600.0));
  app.add_option("--dir", options.dir, "where to generate inputs (default: a temporary one)");
  CLI11_PARSE(app, argc, argv);
  return reprise::bench::Run(std::move(options));
}
