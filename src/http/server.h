// The HTTP server of `reprise serve`: a cpp-httplib listener with the Router's routes
// mounted, on a pool of worker threads (long-lived requests such as server-sent events
// each hold one, so the pool is larger than the core count).
//
// Start() binds before returning (so port 0 picks a free port, reported by port()) and
// serves on a background thread until Stop() or destruction. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "http/router.h"

namespace httplib {
class Server;
}

namespace reprise::http {

struct ServerOptions {
  int threads = 64;               // concurrent requests served
  int read_timeout_seconds = 30;  // a client that sends nothing for this long is dropped
  int write_timeout_seconds = 30;
  int keep_alive_seconds = 5;
  // Requests one connection may carry (httplib's default of 5 made clients reconnect
  // all the time).
  int keep_alive_max_requests = 1000;
  // Connections the kernel holds for accept(). httplib listens with a backlog of 5: a
  // burst of new connections (clients opening a pool, reconnecting after their 1000th
  // request) overflowed it, and each dropped handshake cost that client a retransmit of
  // 0.2-1 s, seen as a p99 of half a second under wrk. The kernel caps it at somaxconn.
  int listen_backlog = 1024;
};

class Server {
 public:
  // `router` must outlive the server.
  Server(Router& router, ServerOptions options, Logger log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (port 0: any free port) and starts serving. kUnavailable when the
  // address cannot be bound.
  [[nodiscard]] Result<void> Start(const std::string& host, int port);
  void Stop();
  [[nodiscard]] int port() const { return port_; }

 private:
  Router& router_;
  ServerOptions options_;
  Logger log_;
  std::unique_ptr<httplib::Server> server_;
  int listen_socket_ = -1;  // the socket httplib bound, seen in its socket-options hook
  std::thread thread_;
  int port_ = 0;
};

// "127.0.0.1:8080" -> host, port; kInvalidArgument otherwise.
Result<std::pair<std::string, int>> ParseListenAddress(const std::string& text);
// True for loopback hosts: "127.x.y.z", "::1", "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace reprise::http
