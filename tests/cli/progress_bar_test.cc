// The progress bar and log lines on one terminal (issue 11: a warning was written into
// the bar's line). A pseudo-terminal stands in for the user's: the bar draws on it (it
// draws only on a terminal) and a console logger writes to it from worker threads; what
// the terminal shows is then rebuilt from the bytes, as a terminal would show them.
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ansicolor_sink.h>

#include "cli/terminal.h"
#include "core/console_sink.h"
#include "tests/cli/cli_fixture.h"

namespace reprise::cli {
namespace {

// The lines a terminal shows after `bytes`: carriage return, line feed, erase to the end
// of the line (ESC [ K) and overwriting; other escape sequences (colours) show nothing.
std::vector<std::string> Screen(const std::string& bytes) {
  std::vector<std::string> lines(1);
  size_t column = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    std::string& line = lines.back();
    if (c == '\r') {
      column = 0;
    } else if (c == '\n') {
      lines.emplace_back();
      column = 0;
    } else if (c == '\033' && i + 1 < bytes.size() && bytes[i + 1] == '[') {
      size_t end = i + 2;
      while (end < bytes.size() && !std::isalpha(static_cast<unsigned char>(bytes[end]))) ++end;
      if (end < bytes.size() && bytes[end] == 'K') line.resize(std::min(line.size(), column));
      i = end;
    } else {
      if (column < line.size()) {
        line[column] = c;
      } else {
        line.append(column - line.size(), ' ');
        line.push_back(c);
      }
      ++column;
    }
  }
  return lines;
}

// A pseudo-terminal whose output is collected by a thread until Close().
class Pty {
 public:
  Pty() {
    EXPECT_EQ(::openpty(&master_, &slave_, nullptr, nullptr, nullptr), 0) << errno;
    reader_ = std::thread([this] {
      char buffer[4096];
      while (true) {
        ssize_t n = ::read(master_, buffer, sizeof buffer);
        if (n <= 0) break;  // EIO once every writer has closed the terminal
        output_.append(buffer, static_cast<size_t>(n));
      }
    });
  }
  ~Pty() { Close(); }

  // A stream on the terminal (like stdout or stderr); closed by Close().
  std::FILE* Open() {
    std::FILE* file = ::fdopen(::dup(slave_), "w");
    files_.push_back(file);
    return file;
  }

  // Closes every stream and returns all that was written.
  std::string Close() {
    if (!reader_.joinable()) return output_;
    for (std::FILE* file : files_) std::fclose(file);
    ::close(slave_);
    reader_.join();
    ::close(master_);
    return output_;
  }

 private:
  int master_ = -1;
  int slave_ = -1;
  std::vector<std::FILE*> files_;
  std::thread reader_;
  std::string output_;
};

// The console logger of log.h (colours and all), writing to `out` instead of stderr.
Logger ConsoleLogger(std::FILE* out) {
  auto sink = std::make_shared<ConsoleSink>(
      std::make_shared<spdlog::sinks::ansicolor_sink<spdlog::details::console_mutex>>(
          out, spdlog::color_mode::automatic));
  Logger log = std::make_shared<spdlog::logger>("test", sink);
  log->set_pattern("%^%l%$ %v");
  return log;
}

TEST(ProgressBar, LogLinesFromOtherThreadsGoAboveTheBarNeverIntoIt) {
  Pty terminal;
  std::FILE* out = terminal.Open();
  std::FILE* err = terminal.Open();
  Logger log = ConsoleLogger(err);

  constexpr int kThreads = 3;
  constexpr int kLines = 40;
  {
    ProgressBar bar(out, log);
    std::atomic<int> running = kThreads;
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < kLines; ++i) log->warn("asset a{}-{} stage thumbnail failed", t, i);
        --running;
      });
    }
    // Redraw all along (a full bar is drawn on every update), as the workers log.
    int64_t updates = 0;
    while (running > 0 || updates < 50) {
      ++updates;
      bar.Update(10, 10, fmt::format("running 1.0/s ETA 1.39 s failed {}", updates));
    }
    for (auto& worker : workers) worker.join();
    bar.Update(10, 10, "succeeded");
  }
  std::vector<std::string> screen = Screen(terminal.Close());

  int log_lines = 0;
  for (const auto& line : screen) {
    const bool bar =
        line.find("ETA") != std::string::npos || line.find("[###") != std::string::npos;
    const bool logged = line.find("thumbnail failed") != std::string::npos;
    EXPECT_FALSE(bar && logged) << "a log line in the bar's line: " << line;
    if (logged) {
      ++log_lines;
      EXPECT_EQ(line.rfind("warning asset a", 0), 0u) << "a log line starts its line: " << line;
    }
  }
  EXPECT_EQ(log_lines, kThreads * kLines) << "every log line shows, whole";
  ASSERT_FALSE(screen.empty());
  EXPECT_EQ(screen.back(), "") << "the bar is gone once it ends";
}

TEST(ProgressBar, LogLinesWithoutABarAreWrittenAsTheyCome) {
  Pty terminal;
  std::FILE* err = terminal.Open();
  Logger log = ConsoleLogger(err);
  log->warn("one");
  {
    ProgressBar bar(err, log);  // never drawn: nothing to step around
    log->warn("two");
  }
  log->warn("three");
  EXPECT_EQ(Screen(terminal.Close()),
            (std::vector<std::string>{"warning one", "warning two", "warning three", ""}));
}

// Runs `argv` with stdout and stderr on a new pseudo-terminal, `env` added to the
// environment; returns all it wrote there.
std::string RunOnTerminal(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env) {
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    for (const auto& entry : env) ::putenv(const_cast<char*>(entry.c_str()));
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  EXPECT_GT(pid, 0) << errno;
  std::string output;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n <= 0) break;  // EIO once the command has exited
    output.append(buffer, static_cast<size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  return output;
}

class ProgressBarCliTest : public CliTest {};

TEST_F(ProgressBarCliTest, AForegroundBackfillPrintsItsLogLinesAboveItsBar) {
  std::string library = Library({samples_->H264AacMp4(), samples_->Vp9OpusWebm(),
                                 samples_->VideoOnlyMp4(), samples_->OddSizeMp4()});
  const std::vector<std::string> env = {"REPRISE_PIPELINE_STAGES=probe,thumbnail"};
  ASSERT_EQ(Run({"ingest", library}, env).exit_code, 0);
  ASSERT_EQ(Run({"process"}, env).exit_code, 0);
  // Info lines ("asset ... ran 1 stage(s)") come from the workers while the bar is drawn;
  // the delay keeps the bar up between them.
  std::string output = RunOnTerminal({REPRISE_BINARY, "--data", data_.path(), "--log-level", "info",
                                      "backfill", "thumbnail", "--all", "--yes", "--delay", "0.3"},
                                     env);
  int log_lines = 0;
  std::string bar_seen;
  for (const auto& line : Screen(output)) {
    if (line.find("/s ETA") != std::string::npos) bar_seen = line;
    const bool logged = line.find(" ran 1 stage(s)") != std::string::npos;
    if (logged) {
      ++log_lines;
      EXPECT_EQ(line.find("/s ETA"), std::string::npos) << "a log line in the bar's line: " << line;
      EXPECT_EQ(line.find('['), std::string::npos) << line;
    }
  }
  EXPECT_EQ(log_lines, 4) << output;
  EXPECT_EQ(bar_seen, "") << "the bar was erased at the end";
  EXPECT_NE(output.find("/s ETA"), std::string::npos) << "a bar was drawn: " << output;
}

}  // namespace
}  // namespace reprise::cli
