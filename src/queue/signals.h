// ShutdownSignals: SIGTERM and SIGINT as events to read, not asynchronous handlers.
//
// Watch() blocks both signals in the calling thread and reads them through a signalfd,
// so nothing ever runs in signal context and no global state is needed. Call it before
// starting any thread: threads inherit the mask, so no worker thread is interrupted and
// the signal always reaches the fd. The mask is left in place when the object goes away
// (the process is finishing; a late signal must not kill it halfway through its
// clean-up); the fd is closed.
//
// Errors: kIo when the mask or the signalfd cannot be set up. Thread-safety: one thread
// waits at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "queue/worker.h"

namespace reprise::queue {

class ShutdownSignals {
 public:
  static Result<std::unique_ptr<ShutdownSignals>> Watch();
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Waits up to `timeout_micros` (negative: without limit) for SIGTERM or SIGINT and
  // returns its number; 0 on timeout.
  int Wait(int64_t timeout_micros);

 private:
  explicit ShutdownSignals(int fd) : fd_(fd) {}
  int fd_;
};

// Runs a started worker until SIGTERM or SIGINT, then shuts it down gracefully: no new
// claims, running jobs get the worker's grace period, then they are stopped and
// released. A second signal during the grace period releases them at once.
void ServeUntilSignalled(Worker& worker, ShutdownSignals& signals, const Logger& log);

}  // namespace reprise::queue
