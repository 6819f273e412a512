// A real `reprise serve` API in the test process: an App on a fresh data directory
// (by default a SQLite catalog and a blob directory under it; or the backends an
// ApiBackend names: a fresh PostgreSQL database and a fresh S3 bucket), every route of
// AddApiRoutes on a Router, and a Server listening on 127.0.0.1 at a free port. Requests
// go over real HTTP on loopback with cpp-httplib's client. Link reprise_http and
// reprise_test_backends (for ApiBackends()).

#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/app.h"
#include "core/config.h"
#include "http/api.h"
#include "http/server.h"
#include "tests/support/api_backends.h"
#include "tests/support/test_support.h"

namespace reprise::testing {

class ApiServer {
 public:
  // `configure` adjusts the Config before the App opens; `router_options` sets the
  // authenticator and limits (default: no tokens, every request is an admin).
  explicit ApiServer(std::function<void(Config&)> configure = {},
                     http::Router::Options router_options = {})
      : ApiServer(ApiBackend{"sqlite_fs", {}, {}}, std::move(configure),
                  std::move(router_options)) {}
  ApiServer(const ApiBackend& backend, std::function<void(Config&)> configure,
            http::Router::Options router_options = {}) {
    config_.data_dir = dir_.Join("data");
    config_.server.workers = false;
    if (backend.catalog) {
      catalog_env_ = backend.catalog();
      config_.catalog_url = catalog_env_->Url();
    }
    if (backend.blobs) {
      blob_harness_ = backend.blobs();
      if (!blob_harness_) {
        ADD_FAILURE() << "no " << backend.name << " blob store";
        return;
      }
      config_.blob_url = blob_harness_->Url();
      config_.blob = blob_harness_->Settings();
    }
    if (configure) configure(config_);
    auto app = app::App::Open(config_, MakeNullLogger());
    if (!app) {
      ADD_FAILURE() << app.error().ToString();
      return;
    }
    app_ = std::move(*app);
    router_ = std::make_unique<http::Router>(std::move(router_options), MakeNullLogger());
    auto context = http::MakeApiContext(*app_);
    if (!context) {
      ADD_FAILURE() << context.error().ToString();
      return;
    }
    context_ = std::make_unique<http::ApiContext>(std::move(*context));
    http::AddApiRoutes(*router_, *context_);
    server_ = std::make_unique<http::Server>(*router_, http::ServerOptions{}, MakeNullLogger());
    if (auto started = server_->Start("127.0.0.1", 0); !started) {
      ADD_FAILURE() << started.error().ToString();
    }
  }
  ~ApiServer() {
    if (server_) server_->Stop();
    // The App lets go of the database and the bucket before they are removed.
    server_.reset();
    context_.reset();
    router_.reset();
    app_.reset();
  }
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  bool ok() const { return server_ && server_->port() > 0; }
  // The store of the blob backend as a test sees it (another handle on the App's bucket);
  // the App's own store when the backend is the default.
  blob::BlobStore& blobs() { return blob_harness_ ? blob_harness_->store() : app_->blobs(); }
  app::App& app() { return *app_; }
  http::Router& router() { return *router_; }
  http::ApiContext& context() { return *context_; }
  const Config& config() const { return config_; }
  const TempDir& dir() const { return dir_; }
  int port() const { return server_->port(); }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

  // GET of a URL an answer handed out: a path of this server ("/blobs/…"), or an absolute
  // URL of another (an S3 presigned GET), sent as it is (no re-encoding) without a token.
  httplib::Result Fetch(const std::string& url) const {
    if (url.rfind("http://", 0) != 0) return Client()->Get(url);
    const size_t path = url.find('/', 7);
    httplib::Client other(url.substr(0, path));
    other.set_url_encode(false);
    other.set_connection_timeout(5);
    other.set_read_timeout(30);
    return other.Get(path == std::string::npos ? "/" : url.substr(path));
  }

  // A client for this server; with a token, every request carries it as a bearer token.
  std::unique_ptr<httplib::Client> Client(const std::string& token = {}) const {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port());
    client->set_connection_timeout(5);
    client->set_read_timeout(30);
    if (!token.empty()) client->set_bearer_token_auth(token.c_str());
    return client;
  }

 private:
  TempDir dir_;
  std::unique_ptr<catalog::CatalogTestEnv> catalog_env_;
  std::unique_ptr<blob::BlobStoreHarness> blob_harness_;
  Config config_;
  std::unique_ptr<app::App> app_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::ApiContext> context_;
  std::unique_ptr<http::Server> server_;
};

// The body of a response parsed as JSON (a test failure and null when it is not).
inline nlohmann::json JsonOf(const httplib::Result& response) {
  if (!response) {
    ADD_FAILURE() << "no response: " << httplib::to_string(response.error());
    return nullptr;
  }
  try {
    return nlohmann::json::parse(response->body);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON (" << e.what() << "): " << response->body;
    return nullptr;
  }
}

}  // namespace reprise::testing
