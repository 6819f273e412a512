// libav's own log lines ("[h264 @ 0x...] corrupted macroblock"), routed through
// reprise's logger instead of printed to stderr.
//
// libav logs through one process-wide callback, so this is the one process-wide state of
// the media layer: InitFfmpeg() installs the callback; RouteLibavLog() names the logger
// it writes to, at debug level (next to our own error reports the lines are detail; one
// broken file can print hundreds). Lines at libav's warning level or worse are kept;
// libav's info and debug chatter is dropped.
//
// A LibavLogScope says what the lines are about: while one is active on a thread, lines
// logged on that thread, and by decoders opened on it (from their own worker threads
// too), carry its context ("asset X stages Y"); those that may be about the input's data
// (all but the scaler's, the resampler's and encoders', which are about how reprise drives
// them) are counted, so the executor can record how many a run produced on its
// derivatives. Lines outside any scope are logged
// without context and counted nowhere.
//
// Thread-safe: the callback may run on any libav thread; counts are atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/log.h"

struct AVCodecContext;

namespace reprise::media {

// Where libav's lines go from now on (nullptr: nowhere).
void RouteLibavLog(Logger log);

class LibavLogScope {
 public:
  // Active on this thread until destroyed (scopes nest).
  explicit LibavLogScope(std::string context);
  ~LibavLogScope();
  LibavLogScope(const LibavLogScope&) = delete;
  LibavLogScope& operator=(const LibavLogScope&) = delete;

  const std::string& context() const { return context_; }
  // libav lines about the input, at warning level or worse, seen in this scope so far.
  int64_t warnings() const { return warnings_.load(std::memory_order_relaxed); }
  void Count() { warnings_.fetch_add(1, std::memory_order_relaxed); }

  // This thread's scope, or nullptr.
  static LibavLogScope* Current();

  // Makes `scope` (may be nullptr) this thread's for the lifetime of the Enter, so work
  // handed to another thread keeps its scope.
  class Enter {
   public:
    explicit Enter(LibavLogScope* scope);
    ~Enter();
    Enter(const Enter&) = delete;
    Enter& operator=(const Enter&) = delete;

   private:
    LibavLogScope* previous_;
  };

 private:
  std::string context_;
  std::atomic<int64_t> warnings_{0};
  LibavLogScope* previous_;
};

// Ties a codec context to this thread's scope, so lines its own threads log count there.
// The scope must outlive the context (a decoder opened during a run lives within it).
void AttachLibavLogScope(AVCodecContext& context);

// Installs the callback (called by InitFfmpeg).
void InstallLibavLogCallback();

}  // namespace reprise::media
