#include "catalog/postgres/pg_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "catalog/postgres/pg_internal.h"

namespace reprise::catalog {
namespace {

// Tells the listeners each notification of the channel.
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& connection, ChangeListeners& listeners)
      : pqxx::notification_receiver(connection, std::string(kPgChangeChannel)),
        listeners_(listeners) {}

  void operator()(const std::string& payload, int /*backend_pid*/) override {
    // A payload this build cannot read (a newer writer's) still means "look".
    listeners_.Tell(DecodePgChange(payload).value_or(Change{kAllChangeTopics, 0}));
  }

 private:
  ChangeListeners& listeners_;
};

}  // namespace

std::string EncodePgChange(const Change& change) {
  return fmt::format("{}:{}", change.topics, change.newest_event_id);
}

std::optional<Change> DecodePgChange(std::string_view payload) {
  const size_t colon = payload.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Change change;
  const char* end = payload.data() + colon;
  auto topics = std::from_chars(payload.data(), end, change.topics);
  if (topics.ec != std::errc() || topics.ptr != end) return std::nullopt;
  end = payload.data() + payload.size();
  auto event = std::from_chars(payload.data() + colon + 1, end, change.newest_event_id);
  if (event.ec != std::errc() || event.ptr != end) return std::nullopt;
  return change;
}

void NotifyChange(pqxx::work& tx, const Change& change) {
  ExecPrepared(tx, "SELECT pg_notify($1, $2)", std::string(kPgChangeChannel),
               EncodePgChange(change));
}

PgListener::PgListener(std::string url, PgPoolOptions options, ChangeListeners& listeners)
    : url_(std::move(url)), options_(options), listeners_(listeners) {}

PgListener::~PgListener() {
  if (stop_fd_ < 0) return;
  const uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof one) < 0) {
    // An eventfd counter cannot overflow from one write: nothing else can fail here.
  }
  if (thread_.joinable()) thread_.join();
  close(stop_fd_);
}

void PgListener::Start() {
  std::call_once(started_, [this] {
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this] { Loop(); });
  });
}

bool PgListener::WaitFor(int fd, int timeout_ms) const {
  pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
  const nfds_t count = fd >= 0 ? 2 : 1;
  while (poll(fds, count, timeout_ms) < 0) {
    if (errno != EINTR) break;
  }
  return (fds[0].revents & POLLIN) == 0;
}

void PgListener::Loop() {
  int failures = 0;
  while (true) {
    std::unique_ptr<pqxx::connection> connection;
    std::unique_ptr<Receiver> receiver;
    try {
      connection = std::make_unique<pqxx::connection>(url_);
      receiver = std::make_unique<Receiver>(*connection, listeners_);  // LISTEN
    } catch (const std::exception&) {
      receiver.reset();
      connection.reset();
      const auto backoff = std::min(options_.first_backoff * (int64_t{1} << std::min(failures, 20)),
                                    options_.max_backoff);
      ++failures;
      if (!WaitFor(-1, static_cast<int>(backoff.count()))) return;
      continue;
    }
    failures = 0;
    // Whatever was committed while nobody listened is found by looking.
    listeners_.Tell(Change{kAllChangeTopics, 0});
    try {
      while (connection->is_open()) {
        if (!WaitFor(connection->sock(), -1)) return;
        connection->get_notifs();
      }
    } catch (const std::exception&) {
      // The server went away: connect again.
    }
    receiver.reset();
    connection.reset();
    if (!WaitFor(-1, static_cast<int>(options_.first_backoff.count()))) return;
  }
}

}  // namespace reprise::catalog
