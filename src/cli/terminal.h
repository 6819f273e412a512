// Terminal output helpers: aligned tables, human sizes and durations, and a one-line
// progress bar that draws only when the stream is a terminal (never into pipes or
// --json output).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/console_sink.h"
#include "core/log.h"

namespace reprise::cli {

std::string HumanBytes(int64_t bytes);     // "12.4 MB"
std::string HumanSeconds(double seconds);  // "1:02.5", "0.42 s"

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  [[nodiscard]] bool empty() const { return rows_.empty(); }
  void Print(std::FILE* out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// While drawn, the bar holds the last line of the terminal: the lines `log` writes are
// printed above it (core/console_sink.h), never into it. Thread-safe.
class ProgressBar final : public HeldLine {
 public:
  // Draws to `out` only when it is a terminal.
  ProgressBar(std::FILE* out, const Logger& log);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // done/total drive the bar; `detail` is shown after it (truncated to fit). Redraws at
  // most ten times a second, and always when done reaches total.
  void Update(int64_t done, int64_t total, const std::string& detail);
  // Erases the bar so a summary can be printed in its place.
  void Clear();

  void PrintAbove(const std::function<void()>& print) override;

 private:
  void Erase();  // with mutex_ held

  std::FILE* out_;
  bool enabled_;
  std::mutex mutex_;
  bool drawn_ = false;
  std::string line_;  // as last drawn
  int64_t last_draw_micros_ = 0;
  std::unique_ptr<LineHold> hold_;  // last: let go first
};

}  // namespace reprise::cli
