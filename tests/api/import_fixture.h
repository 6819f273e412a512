// What the import API tests share: an ApiServer whose imports may reach loopback (the
// local FetchServer), with tokens for two owners and an admin, an import runner and a
// worker pool to start on demand, and waiting for a media document's status.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "services/caller.h"
#include "tests/support/api_server.h"
#include "tests/support/fetch_server.h"
#include "tests/support/media_suite.h"
#include "tests/support/wait_until.h"

namespace reprise::testing {

// Tokens: "alice-token" and "bob-token" act for those owners, "admin-token" for all.
inline http::Router::Options ImportTestAuth() {
  http::Router::Options options;
  options.authenticate = [](std::string_view token) -> Result<services::Caller> {
    if (token == "alice-token") return services::Caller::Owner("alice", "alice");
    if (token == "bob-token") return services::Caller::Owner("bob", "bob");
    if (token == "admin-token") return services::Caller::Admin("admin");
    return Fail(ErrorCode::kNotFound, "unknown token");
  };
  return options;
}

class ImportApiTest : public MediaSuite {
 protected:
  void TearDown() override {
    if (runner_) runner_->Stop();
    if (worker_) worker_->Shutdown();
  }

  // The server of this test; it outlives the runner and worker (stopped in TearDown).
  ApiServer& Serve(const std::function<void(Config&)>& configure = Configure) {
    api_ = std::make_unique<ApiServer>(configure, ImportTestAuth());
    EXPECT_TRUE(api_->ok());
    return *api_;
  }

  // Imports downloaded and their stages (probe, thumbnail) run in the background.
  void StartBackground(ApiServer& api) {
    runner_ = api.app().NewImportRunner();
    runner_->Start();
    auto options = api.app().WorkerDefaults();
    options.concurrency = 1;
    worker_ = api.app().NewWorker(options);
    auto started = worker_->Start();
    ASSERT_TRUE(started) << started.error().ToString();
  }

  // GETs `path` until its "status" is `status` (or a minute passes); the last body.
  static nlohmann::json WaitForStatus(ApiServer& api, const std::string& token,
                                      const std::string& path, const std::string& status) {
    nlohmann::json last;
    bool reached = WaitUntil([&] {
      auto response = api.Client(token)->Get(path);
      if (!response || response->status != 200) return false;
      last = nlohmann::json::parse(response->body);
      return last.value("status", "") == status;
    });
    EXPECT_TRUE(reached) << path << " never became " << status << ": " << last.dump();
    return last;
  }

  static void Configure(Config& config) {
    config.pipeline_stages = {"probe", "thumbnail"};
    config.import.allow_private_addresses = true;  // the FetchServer is on loopback
    config.queue.poll_seconds = 0.05;
  }

  FetchServer files_;
  std::unique_ptr<ApiServer> api_;
  std::unique_ptr<services::ImportRunner> runner_;
  std::unique_ptr<queue::Worker> worker_;
};

}  // namespace reprise::testing
