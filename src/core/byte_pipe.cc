#include "core/byte_pipe.h"

#include <algorithm>

namespace reprise {

bool BytePipe::Write(std::span<const std::byte> data) {
  std::unique_lock lock(mu_);
  while (!data.empty()) {
    changed_.wait(lock, [&] { return reader_closed_ || buffer_.size() < capacity_; });
    if (reader_closed_) return false;
    size_t take = std::min(data.size(), capacity_ - buffer_.size());
    buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
    peak_ = std::max(peak_, buffer_.size());
    data = data.subspan(take);
    changed_.notify_all();
  }
  return true;
}

void BytePipe::Finish(std::optional<Error> error) {
  std::lock_guard lock(mu_);
  finished_ = true;
  error_ = std::move(error);
  changed_.notify_all();
}

Result<size_t> BytePipe::Read(std::span<std::byte> buffer) {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return !buffer_.empty() || finished_; });
  if (buffer_.empty()) {
    if (error_) return Fail(*error_);
    return size_t{0};
  }
  size_t take = std::min(buffer.size(), buffer_.size());
  std::copy_n(buffer_.begin(), take, buffer.begin());
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(take));
  changed_.notify_all();
  return take;
}

void BytePipe::CloseReader() {
  std::lock_guard lock(mu_);
  reader_closed_ = true;
  buffer_.clear();
  changed_.notify_all();
}

size_t BytePipe::peak() const {
  std::lock_guard lock(mu_);
  return peak_;
}

}  // namespace reprise
