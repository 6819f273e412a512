// The HTTP front end of `reprise serve`. For now it answers the health endpoints that
// load balancers and orchestrators poll; the /api/v1 surface comes with the API issue and
// plugs its routes in here.
//
//   GET /healthz  200 {"status":"ok"} while the process serves requests (liveness)
//   GET /readyz   200 {"status":"ready","catalog":..,"blob_store":..} when the catalog
//                 answers and the blob store can be written and read back; otherwise
//                 503 with the one error shape {"error":{"code","message","details"}}
//
// Start() binds before returning (so port 0 picks a free port, reported by port()) and
// serves on a background thread until Stop() or destruction. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "core/error.h"
#include "core/log.h"

namespace httplib {
class Server;
}

namespace reprise::http {

class Server {
 public:
  Server(catalog::Catalog& catalog, blob::BlobStore& blobs, Logger log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (port 0: any free port) and starts serving. kUnavailable when the
  // address cannot be bound.
  [[nodiscard]] Result<void> Start(const std::string& host, int port);
  void Stop();
  [[nodiscard]] int port() const { return port_; }

 private:
  void Routes();

  catalog::Catalog& catalog_;
  blob::BlobStore& blobs_;
  Logger log_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// "127.0.0.1:8080" -> host, port; kInvalidArgument otherwise.
Result<std::pair<std::string, int>> ParseListenAddress(const std::string& text);

}  // namespace reprise::http
