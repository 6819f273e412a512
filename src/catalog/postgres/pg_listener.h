// How the PostgreSQL catalog hears other connections' commits (catalog.h, "Change
// notifications"). Internal to the PostgreSQL backend.
//
// Writers NOTIFY the channel kPgChangeChannel inside their transaction (NotifyChange in
// pg_internal.h) with the Change encoded by EncodePgChange: PostgreSQL delivers it at
// commit, to every connection that LISTENs, and never for a rolled-back transaction.
// PgListener LISTENs on a connection of its own from a thread of its own, waiting in
// poll() on that connection's socket and on an eventfd that stops it. When the server
// goes away it reconnects with exponential backoff (PgPoolOptions' first_backoff doubling
// up to max_backoff, for as long as it runs); once listening, the first time and after
// every reconnect, it tells every topic (a change may have been missed meanwhile).
//
// Thread-safety: Start() may be called from any thread; the destructor stops and joins.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "catalog/change_types.h"
#include "catalog/postgres/pg_pool.h"

namespace reprise::catalog {

inline constexpr std::string_view kPgChangeChannel = "reprise_changes";

// "TOPICS:NEWEST_EVENT_ID", decimal; nullopt for anything else.
std::string EncodePgChange(const Change& change);
std::optional<Change> DecodePgChange(std::string_view payload);

class PgListener final {
 public:
  // Does no I/O.
  PgListener(std::string url, PgPoolOptions options, ChangeListeners& listeners);
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Starts listening (the thread connects); later calls do nothing.
  void Start();

 private:
  void Loop();
  // Waits up to timeout_ms (-1: for ever) for `fd` to be readable or the stop signal;
  // false when stopping.
  bool WaitFor(int fd, int timeout_ms) const;

  const std::string url_;
  const PgPoolOptions options_;
  ChangeListeners& listeners_;
  int stop_fd_ = -1;  // an eventfd, written to stop the thread
  std::once_flag started_;
  std::thread thread_;
};

}  // namespace reprise::catalog
