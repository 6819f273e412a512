#include "http/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <httplib.h>

#include <chrono>

namespace reprise::http {

Server::Server(Router& router, ServerOptions options, Logger log)
    : router_(router), options_(options), log_(std::move(log)) {}

Server::~Server() { Stop(); }

Result<void> Server::Start(const std::string& host, int port) {
  server_ = std::make_unique<httplib::Server>();
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second server
  // on a busy port binds too and silently shares its connections. TCP_NODELAY (inherited
  // by accepted sockets): httplib writes headers and body apart, and Nagle's algorithm
  // against the client's delayed ACK held every small answer back ~40 ms.
  listen_socket_ = -1;
  server_->set_socket_options([this](int sock) {
    listen_socket_ = sock;  // the last one offered is the one bound
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  server_->set_tcp_nodelay(true);
  int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_read_timeout(options_.read_timeout_seconds, 0);
  server_->set_write_timeout(options_.write_timeout_seconds, 0);
  server_->set_keep_alive_timeout(options_.keep_alive_seconds);
  server_->set_keep_alive_max_count(static_cast<size_t>(options_.keep_alive_max_requests));
  router_.Mount(*server_);
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ < 0) return Fail(ErrorCode::kUnavailable, "cannot bind " + host + ":0");
  } else {
    if (!server_->bind_to_port(host, port)) {
      return Fail(ErrorCode::kUnavailable, "cannot listen on " + host + ":" + std::to_string(port) +
                                               " (in use or not allowed)");
    }
    port_ = port;
  }
  // listen() again on a listening socket only changes its backlog.
  if (listen_socket_ < 0 || ::listen(listen_socket_, options_.listen_backlog) != 0) {
    log_->warn("http: could not raise the listen backlog to {}; new connections may wait",
               options_.listen_backlog);
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() does nothing until the accept loop runs, so a Stop() right after
  // Start() would hang: return only once it runs (microseconds).
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  log_->info("http listening on {}:{}", host, port_);
  return {};
}

void Server::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

Result<std::pair<std::string, int>> ParseListenAddress(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                "listen address '" + text + "' should be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string host = text.substr(0, colon);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return Fail(ErrorCode::kInvalidArgument, "listen address '" + text + "' has a bad port");
  }
  if (port < 0 || port > 65535) {
    return Fail(ErrorCode::kInvalidArgument,
                "listen port " + std::to_string(port) + " is outside 0..65535");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:8080
  }
  return std::make_pair(host, port);
}

}  // namespace reprise::http
