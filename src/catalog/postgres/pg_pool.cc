#include "catalog/postgres/pg_pool.h"

#include <poll.h>

#include <algorithm>
#include <thread>

namespace reprise::catalog {
namespace {

ErrorCode CodeOf(std::string_view sqlstate) {
  if (sqlstate.rfind("23", 0) == 0) return ErrorCode::kConflict;
  if (sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0 ||
      sqlstate.rfind("53", 0) == 0 || sqlstate.rfind("40", 0) == 0) {
    return ErrorCode::kUnavailable;
  }
  if (sqlstate.rfind("22", 0) == 0) return ErrorCode::kInvalidArgument;
  return ErrorCode::kInternal;
}

// libpq messages end with a newline and may hold several lines.
std::string Trim(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  std::replace(message.begin(), message.end(), '\n', ' ');
  return message;
}

// An idle connection the server wrote to has been ended by it (a restart, an
// administrator's terminate): no query is pending, and the pool LISTENs on nothing, so
// the only unsolicited message is the notice of its end. Such a connection is dropped
// before use rather than failing the caller's first statement (which libpqxx 6.4 also
// answers with a leaked result).
bool Alive(pqxx::connection& connection) {
  if (!connection.is_open()) return false;
  pollfd socket{connection.sock(), POLLIN, 0};
  return socket.fd >= 0 && poll(&socket, 1, 0) == 0;
}

}  // namespace

Error PgError(const std::exception& e) {
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    return Error{CodeOf(sql->sqlstate()), "postgres: " + Trim(sql->what()),
                 "sqlstate:" + sql->sqlstate()};
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return Error{ErrorCode::kUnavailable, "postgres connection lost: " + Trim(e.what()),
                 "sqlstate:08006"};
  }
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr) {
    return Error{ErrorCode::kUnavailable, "postgres: " + Trim(e.what()), "sqlstate:40P01"};
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return Error{ErrorCode::kUnavailable, "postgres: " + Trim(e.what()), "sqlstate:40001"};
  }
  return Error{ErrorCode::kInternal, "postgres: " + Trim(e.what()), ""};
}

std::string RedactPgUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t at = url.find('@', scheme + 3);
  const size_t slash = url.find('/', scheme + 3);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) {
    return std::string(url);
  }
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon)) + std::string(url.substr(at));
}

PgPool::PgPool(std::string url, PgPoolOptions options) : url_(std::move(url)), options_(options) {}

PgPool::~PgPool() = default;

int PgPool::open_connections() {
  std::lock_guard lock(mu_);
  return open_;
}

void PgPool::Backoff(int attempt) const {
  auto delay = options_.first_backoff;
  for (int i = 1; i < attempt && delay < options_.max_backoff; ++i) delay *= 2;
  std::this_thread::sleep_for(std::min(delay, options_.max_backoff));
}

Result<std::unique_ptr<pqxx::connection>> PgPool::Connect() {
  std::string last;
  for (int attempt = 1; attempt <= options_.connect_attempts; ++attempt) {
    try {
      return std::make_unique<pqxx::connection>(url_);
    } catch (const std::exception& e) {
      last = Trim(e.what());
    }
    if (attempt < options_.connect_attempts) Backoff(attempt);
  }
  return Fail(ErrorCode::kUnavailable,
              "cannot connect to " + RedactPgUrl(url_) + " (tried " +
                  std::to_string(options_.connect_attempts) + " times): " + last,
              "sqlstate:08001");
}

Result<PgPool::Lease> PgPool::Acquire() {
  std::vector<std::unique_ptr<pqxx::connection>> dropped;  // closed after the lock is let go
  {
    std::unique_lock lock(mu_);
    while (true) {
      const bool got = freed_.wait_for(lock, options_.acquire_timeout, [&] {
        return !idle_.empty() || open_ < options_.max_connections;
      });
      if (!got) {
        return Fail(ErrorCode::kUnavailable, "all " + std::to_string(options_.max_connections) +
                                                 " connections to the catalog stayed busy for " +
                                                 std::to_string(options_.acquire_timeout.count()) +
                                                 " ms");
      }
      if (idle_.empty()) break;
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      if (Alive(*connection)) return Lease(this, std::move(connection));
      --open_;
      dropped.push_back(std::move(connection));
    }
    ++open_;  // reserved: connect outside the lock
  }
  auto connection = Connect();
  if (!connection) {
    std::lock_guard lock(mu_);
    --open_;
    freed_.notify_one();
    return Fail(std::move(connection.error()));
  }
  return Lease(this, std::move(*connection));
}

void PgPool::Return(std::unique_ptr<pqxx::connection> connection, bool broken) {
  std::lock_guard lock(mu_);
  if (broken || connection == nullptr || !connection->is_open()) {
    --open_;
  } else {
    idle_.push_back(std::move(connection));
  }
  freed_.notify_one();
}

}  // namespace reprise::catalog
