// Log lines and a line held at the bottom of the terminal (a progress bar) share the
// screen: a log line must go above the held line, never into it.
//
// ConsoleSink is the sink of the console loggers (log.h): it forwards every message to
// the sink it wraps. While a HeldLine is held (LineHold), each message is written through
// HeldLine::PrintAbove instead, which takes the held line off the screen, lets the
// message be written as a whole line, and draws the held line again, so nothing else
// draws in between. Thread-safe: workers log from their threads while the owner of the
// held line redraws it from another.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/sinks/sink.h>

#include "core/log.h"

namespace reprise {

class HeldLine {
 public:
  virtual ~HeldLine() = default;
  // Erases the line, runs `print` (which writes whole lines), draws the line again.
  virtual void PrintAbove(const std::function<void()>& print) = 0;
};

class ConsoleSink final : public spdlog::sinks::sink {
 public:
  explicit ConsoleSink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}

  void log(const spdlog::details::log_msg& msg) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

  // Messages go through `line` until Hold(nullptr). The caller keeps `line` alive while
  // it is held; Hold(nullptr) returns once no message is being written through it.
  void Hold(HeldLine* line);

 private:
  std::mutex mutex_;
  spdlog::sink_ptr inner_;
  HeldLine* held_ = nullptr;
};

// Holds `line` in every ConsoleSink of `log` for its lifetime (a logger without one,
// such as MakeNullLogger's, is left alone).
class LineHold {
 public:
  LineHold(const Logger& log, HeldLine& line);
  ~LineHold();
  LineHold(const LineHold&) = delete;
  LineHold& operator=(const LineHold&) = delete;

 private:
  std::vector<std::shared_ptr<ConsoleSink>> sinks_;
};

}  // namespace reprise
