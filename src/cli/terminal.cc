#include "cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

namespace reprise::cli {

std::string HumanBytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string HumanSeconds(double seconds) {
  if (seconds < 60) return fmt::format("{:.2f} s", seconds);
  int minutes = static_cast<int>(seconds / 60);
  return fmt::format("{}:{:04.1f}", minutes, seconds - minutes * 60);
}

void Table::Print(std::FILE* out) const {
  std::vector<size_t> widths(header_.size(), 0);
  for (size_t i = 0; i < header_.size(); ++i) widths[i] = header_[i].size();
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < widths.size()) line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print(out, "{}\n", line);
  };
  print_row(header_);
  for (const auto& row : rows_) print_row(row);
}

ProgressBar::ProgressBar(std::FILE* out, const Logger& log)
    : out_(out), enabled_(::isatty(::fileno(out)) != 0) {
  if (enabled_) hold_ = std::make_unique<LineHold>(log, *this);
}

ProgressBar::~ProgressBar() {
  hold_.reset();  // no log line comes through the bar any more
  Clear();
}

void ProgressBar::Update(int64_t done, int64_t total, const std::string& detail) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  if (drawn_ && done < total && now - last_draw_micros_ < 100'000) return;
  last_draw_micros_ = now;
  struct winsize ws {};
  int columns = (::ioctl(::fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) ? ws.ws_col : 80;
  constexpr int kBarWidth = 30;
  double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
  int filled = static_cast<int>(fraction * kBarWidth);
  std::string bar = "[" + std::string(static_cast<size_t>(filled), '#') +
                    std::string(static_cast<size_t>(kBarWidth - filled), '.') + "]";
  line_ = fmt::format("{} {:3.0f}% {}/{} {}", bar, fraction * 100, done, total, detail);
  if (static_cast<int>(line_.size()) > columns - 1) line_.resize(static_cast<size_t>(columns - 1));
  fmt::print(out_, "\r\033[K{}", line_);
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::Clear() {
  std::lock_guard lock(mutex_);
  Erase();
  drawn_ = false;
}

void ProgressBar::PrintAbove(const std::function<void()>& print) {
  std::lock_guard lock(mutex_);
  Erase();
  print();
  if (drawn_) {
    fmt::print(out_, "{}", line_);
    std::fflush(out_);
  }
}

void ProgressBar::Erase() {
  if (!drawn_) return;
  fmt::print(out_, "\r\033[K");
  std::fflush(out_);
}

}  // namespace reprise::cli
