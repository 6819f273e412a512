#include "http/server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "http/error_response.h"

namespace reprise::http {
namespace {

void SendJson(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

void SendError(httplib::Response& response, int status, const Error& error,
               nlohmann::json details = nlohmann::json::object()) {
  SendJson(response, status, ErrorBody(error, std::move(details)));
}

}  // namespace

Server::Server(catalog::Catalog& catalog, blob::BlobStore& blobs, Logger log)
    : catalog_(catalog), blobs_(blobs), log_(std::move(log)) {}

Server::~Server() { Stop(); }

void Server::Routes() {
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    SendJson(response, 200, {{"status", "ok"}});
  });

  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
    auto version = catalog_.SchemaVersion();
    if (!version) {
      SendError(response, 503, version.error().Wrap("catalog " + catalog_.Describe()),
                {{"component", "catalog"}});
      return;
    }
    if (auto probed = blob::CheckReadWrite(blobs_, "health/readyz"); !probed) {
      SendError(response, 503, probed.error().Wrap("blob store " + blobs_.Describe()),
                {{"component", "blob_store"}});
      return;
    }
    SendJson(response, 200,
             {{"status", "ready"},
              {"catalog", {{"backend", catalog_.Describe()}, {"schema_version", *version}}},
              {"blob_store", {{"backend", blobs_.Describe()}}}});
  });

  server_->set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (response.status == 404) {
      SendError(
          response, 404,
          Error{ErrorCode::kNotFound, "no route for " + request.method + " " + request.path, ""});
    }
  });
  server_->set_exception_handler(
      [this](const httplib::Request&, httplib::Response& response, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        log_->error("http handler threw: {}", what);
        SendError(response, HttpStatus(ErrorCode::kInternal),
                  Error{ErrorCode::kInternal, "internal error", ""});
      });
}

Result<void> Server::Start(const std::string& host, int port) {
  server_ = std::make_unique<httplib::Server>();
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second server
  // on a busy port binds too and silently shares its connections.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  Routes();
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
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  log_->info("http listening on {}:{}", host, port_);
  return {};
}

void Server::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
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
