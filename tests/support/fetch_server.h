// A small HTTP server on 127.0.0.1 for tests of outgoing fetches (URL imports): it
// serves registered files and a set of hostile answers, and counts the requests it got.
//   /files/NAME        a registered body, with Content-Length
//   /flaky/NAME        503 (with Retry-After) for the next FailNext(NAME, n) requests,
//                      then the registered body like /files/NAME
//   /missing           404
//   /loop              302 to /loop, forever
//   /redirect?to=URL   302 to URL
//   /slow              200, chunked, one byte then a pause, until the client leaves
//   /big?bytes=N       N bytes with Content-Length
//   /big-chunked?bytes=N  N bytes, chunked (no Content-Length)
// Header-only; link cpp-httplib.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace reprise::testing {

class FetchServer {
 public:
  FetchServer() {
    server_.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
      ++requests_;
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server_.Get("/files/(.+)",
                [this](const httplib::Request& request, httplib::Response& response) {
                  std::lock_guard lock(mu_);
                  auto it = files_.find(request.matches[1]);
                  if (it == files_.end()) {
                    response.status = 404;
                    return;
                  }
                  response.set_content(it->second, "application/octet-stream");
                });
    server_.Get("/flaky/(.+)",
                [this](const httplib::Request& request, httplib::Response& response) {
                  std::lock_guard lock(mu_);
                  const std::string name = request.matches[1];
                  if (int& failures = failures_[name]; failures > 0) {
                    --failures;
                    response.status = 503;
                    response.set_header("Retry-After", "1");
                    return;
                  }
                  auto it = files_.find(name);
                  if (it == files_.end()) {
                    response.status = 404;
                    return;
                  }
                  response.set_content(it->second, "application/octet-stream");
                });
    server_.Get("/missing", [](const httplib::Request&, httplib::Response& response) {
      response.status = 404;
      response.set_content("no such thing", "text/plain");
    });
    server_.Get("/loop", [](const httplib::Request&, httplib::Response& response) {
      response.set_redirect("/loop");
    });
    server_.Get("/redirect", [](const httplib::Request& request, httplib::Response& response) {
      response.set_redirect(request.get_param_value("to"));
    });
    server_.Get("/slow", [this](const httplib::Request&, httplib::Response& response) {
      response.set_chunked_content_provider("video/mp4", [this](size_t, httplib::DataSink& sink) {
        if (!sink.write("x", 1)) return false;
        std::unique_lock lock(mu_);
        stop_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; });
        return !stopping_;
      });
    });
    server_.Get("/big", [](const httplib::Request& request, httplib::Response& response) {
      response.set_content(std::string(Bytes(request), 'b'), "video/mp4");
    });
    server_.Get("/big-chunked", [](const httplib::Request& request, httplib::Response& response) {
      size_t total = Bytes(request);
      response.set_chunked_content_provider(
          "video/mp4", [total](size_t offset, httplib::DataSink& sink) {
            if (offset >= total) {
              sink.done();
              return true;
            }
            std::string chunk(std::min<size_t>(64 * 1024, total - offset), 'c');
            return sink.write(chunk.data(), chunk.size());
          });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FetchServer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    stop_.notify_all();
    // stop() before the accept loop started would leave it running forever.
    while (port_ > 0 && !server_.is_running()) std::this_thread::yield();
    server_.stop();
    thread_.join();
  }
  FetchServer(const FetchServer&) = delete;
  FetchServer& operator=(const FetchServer&) = delete;

  void AddFile(const std::string& name, std::string body) {
    std::lock_guard lock(mu_);
    files_[name] = std::move(body);
  }
  // /flaky/NAME answers 503 to its next `times` requests.
  void FailNext(const std::string& name, int times) {
    std::lock_guard lock(mu_);
    failures_[name] = times;
  }
  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return requests_.load(); }

 private:
  static size_t Bytes(const httplib::Request& request) {
    return static_cast<size_t>(std::stoull(request.get_param_value("bytes")));
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::map<std::string, std::string> files_;
  std::map<std::string, int> failures_;
};

}  // namespace reprise::testing
