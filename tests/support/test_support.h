// Shared test helpers: scoped temporary directories, running a command, and generating
// real media with FFmpeg's lavfi sources (deterministic: fixed seeds, fixed encoders).
#pragma once

#include <string>
#include <vector>

namespace reprise::testing {

// A fresh directory under $TMPDIR removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;     // standard output
  std::string err;     // standard error
  std::string output;  // both, stdout first (for messages)
};

// Runs argv (no shell) with stdin from /dev/null and captures its output. `env` entries
// ("NAME=value") are added to the inherited environment.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {});

// Runs `ffmpeg -hide_banner -loglevel error -y <args...>`; fails the test (ADD_FAILURE)
// and returns false when ffmpeg exits non-zero.
bool Ffmpeg(const std::vector<std::string>& args);

void WriteFile(const std::string& path, const std::string& data);
std::string ReadFile(const std::string& path);

}  // namespace reprise::testing
