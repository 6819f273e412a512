#include "queue/signals.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace reprise::queue {

Result<std::unique_ptr<ShutdownSignals>> ShutdownSignals::Watch() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0) {
    return Fail(ErrnoError(ErrorCode::kIo, "cannot block SIGTERM/SIGINT", rc));
  }
  int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return Fail(ErrnoError(ErrorCode::kIo, "cannot create a signalfd", errno));
  return std::unique_ptr<ShutdownSignals>(new ShutdownSignals(fd));
}

ShutdownSignals::~ShutdownSignals() { ::close(fd_); }

int ShutdownSignals::Wait(int64_t timeout_micros) {
  int timeout_ms = -1;
  if (timeout_micros >= 0) {
    // Round up so a short positive wait does not become a busy poll of 0 ms.
    int64_t ms = (timeout_micros + 999) / 1000;
    timeout_ms = ms > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(ms);
  }
  struct pollfd pfd = {fd_, POLLIN, 0};
  int ready = ::poll(&pfd, 1, timeout_ms);
  if (ready <= 0) return 0;  // timeout, or EINTR (nothing of ours arrived)
  struct signalfd_siginfo info {};
  ssize_t n = ::read(fd_, &info, sizeof info);
  if (n != static_cast<ssize_t>(sizeof info)) return 0;
  return static_cast<int>(info.ssi_signo);
}

void ServeUntilSignalled(Worker& worker, ShutdownSignals& signals, const Logger& log) {
  int signal = 0;
  while (signal == 0) signal = signals.Wait(-1);
  const double grace = static_cast<double>(worker.options().grace_micros) / 1e6;
  log->info("worker {}: {} received, taking no new jobs; {} running job(s) get {:.1f}s",
            worker.options().worker_id, signal == SIGINT ? "SIGINT" : "SIGTERM",
            worker.running_jobs(), grace);
  // A second signal during the grace period releases the running jobs at once.
  worker.Shutdown([&] { return signals.Wait(0) != 0; });
}

}  // namespace reprise::queue
