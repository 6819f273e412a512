#include "core/console_sink.h"

namespace reprise {

void ConsoleSink::log(const spdlog::details::log_msg& msg) {
  std::lock_guard lock(mutex_);
  if (held_ == nullptr) {
    inner_->log(msg);
    return;
  }
  held_->PrintAbove([&] { inner_->log(msg); });
}

void ConsoleSink::flush() {
  std::lock_guard lock(mutex_);
  inner_->flush();
}

void ConsoleSink::set_pattern(const std::string& pattern) {
  std::lock_guard lock(mutex_);
  inner_->set_pattern(pattern);
}

void ConsoleSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  std::lock_guard lock(mutex_);
  inner_->set_formatter(std::move(formatter));
}

void ConsoleSink::Hold(HeldLine* line) {
  std::lock_guard lock(mutex_);
  held_ = line;
}

LineHold::LineHold(const Logger& log, HeldLine& line) {
  if (!log) return;
  for (const auto& sink : log->sinks()) {
    if (auto console = std::dynamic_pointer_cast<ConsoleSink>(sink)) {
      console->Hold(&line);
      sinks_.push_back(std::move(console));
    }
  }
}

LineHold::~LineHold() {
  for (const auto& sink : sinks_) sink->Hold(nullptr);
}

}  // namespace reprise
