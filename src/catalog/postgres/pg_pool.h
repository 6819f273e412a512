// A bounded pool of PostgreSQL connections (libpqxx 6.4) and the one way the PostgreSQL
// catalog talks to the server: PgPool::Transact() runs a body in one transaction on a
// pooled connection. Internal to the PostgreSQL backend.
//
// Connections are opened lazily, at most `max_connections` at once; a caller that finds
// every one busy waits up to `acquire_timeout` (then kUnavailable). A connection that
// breaks (server restarted, network cut) is dropped, and the next use opens a new one,
// retrying with exponential backoff (first_backoff doubling up to max_backoff) for
// `connect_attempts` tries before kUnavailable: workers and servers outlive a database
// that goes away for a while.
//
// Transact() commits when the body returns a value and rolls back when it returns an
// error or throws. A transaction that failed before its commit because the connection
// broke, or that the server rolled back (serialization failure, deadlock), is run again
// from the start on another connection, up to `transaction_attempts` times, unless the
// caller said the body must not run twice (a scan that has called its visitor). A commit
// whose outcome is unknown (the connection broke while committing) is never retried: it
// is kUnavailable, and the caller must not assume it happened.
//
// Errors carry "sqlstate:XXXXX" as their origin: integrity violations (class 23) are
// kConflict; lost connections, shutdowns, too many connections, serialization failures
// and deadlocks kUnavailable; the rest kInternal. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "core/error.h"

namespace reprise::catalog {

struct PgPoolOptions {
  int max_connections = 8;
  int connect_attempts = 8;
  std::chrono::milliseconds first_backoff{25};
  std::chrono::milliseconds max_backoff{2000};
  std::chrono::milliseconds acquire_timeout{30000};
  int transaction_attempts = 5;
};

// Whether Transact() may run the body again after a retryable failure.
enum class PgRetry { kYes, kNo };

// The error a libpqxx exception stands for (see the file comment).
Error PgError(const std::exception& e);

// "postgres://user@host:port/db" without a password, for messages and Describe().
std::string RedactPgUrl(std::string_view url);

class PgPool final {
 public:
  // Does no I/O: connections open on first use.
  PgPool(std::string url, PgPoolOptions options);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  const std::string& url() const { return url_; }

  // Runs `body(pqxx::work&)`, which returns a Result, in one transaction (see above).
  template <class Body>
  auto Transact(PgRetry retry, Body&& body) -> decltype(body(std::declval<pqxx::work&>()));

  // Connections open now (for tests and metrics).
  int open_connections();

 private:
  class Lease;
  [[nodiscard]] Result<Lease> Acquire();
  void Return(std::unique_ptr<pqxx::connection> connection, bool broken);
  [[nodiscard]] Result<std::unique_ptr<pqxx::connection>> Connect();
  void Backoff(int attempt) const;

  const std::string url_;
  const PgPoolOptions options_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // guarded by mu_
  int open_ = 0;                                         // guarded by mu_
};

// A connection borrowed from the pool; given back (or dropped when broken) on destruction.
class PgPool::Lease {
 public:
  Lease(PgPool* pool, std::unique_ptr<pqxx::connection> connection)
      : pool_(pool), connection_(std::move(connection)) {}
  Lease(Lease&& other) noexcept
      : pool_(std::exchange(other.pool_, nullptr)),
        connection_(std::move(other.connection_)),
        broken_(other.broken_) {}
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() {
    if (pool_ != nullptr) pool_->Return(std::move(connection_), broken_);
  }
  pqxx::connection& get() { return *connection_; }
  void MarkBroken() { broken_ = true; }

 private:
  PgPool* pool_;
  std::unique_ptr<pqxx::connection> connection_;
  bool broken_ = false;
};

template <class Body>
auto PgPool::Transact(PgRetry retry, Body&& body) -> decltype(body(std::declval<pqxx::work&>())) {
  using R = decltype(body(std::declval<pqxx::work&>()));
  for (int attempt = 1;; ++attempt) {
    auto lease = Acquire();
    if (!lease) return R(Fail(std::move(lease.error())));
    Error error;
    bool again = false;
    try {
      pqxx::work tx(lease->get());
      R result = body(tx);
      if (result) tx.commit();
      return result;
    } catch (const pqxx::in_doubt_error& e) {
      lease->MarkBroken();
      return R(Fail(ErrorCode::kUnavailable,
                    std::string("the database went away while committing; the change may or may "
                                "not have been stored: ") +
                        e.what(),
                    "sqlstate:08007"));
    } catch (const pqxx::broken_connection& e) {
      lease->MarkBroken();
      error = PgError(e);
      again = true;
    } catch (const pqxx::transaction_rollback& e) {
      error = PgError(e);
      again = true;
    } catch (const pqxx::sql_error& e) {
      error = PgError(e);
      // The server shutting down, or the connection lost mid-statement.
      if (e.sqlstate().rfind("57P", 0) == 0 || e.sqlstate().rfind("08", 0) == 0) {
        lease->MarkBroken();
        again = true;
      }
    } catch (const std::exception& e) {
      error = PgError(e);
    }
    if (!lease->get().is_open()) lease->MarkBroken();
    if (!again || retry == PgRetry::kNo || attempt >= options_.transaction_attempts) {
      return R(Fail(std::move(error)));
    }
    Backoff(attempt);
  }
}

}  // namespace reprise::catalog
