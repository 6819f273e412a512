// Change notifications on PostgreSQL (catalog.h, "Change notifications"): other
// connections' commits reach a catalog's listeners through LISTEN/NOTIFY, and the
// listening connection comes back after the server was stopped and started again.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/postgres/pg_catalog.h"
#include "catalog/postgres/pg_listener.h"
#include "tests/catalog/catalog_contract.h"
#include "tests/catalog/pg_own_server.h"
#include "tests/support/backends/postgres_test_env.h"

namespace reprise::catalog {
namespace {

// Every change a listener heard, waited for with a deadline.
class Heard {
 public:
  ChangeListener Listener() {
    return [this](const Change& change) {
      {
        std::lock_guard lock(mu_);
        changes_.push_back(change);
      }
      changed_.notify_all();
    };
  }
  // Waits until `count` changes match `match` (30 s at most).
  template <class Match>
  bool WaitFor(Match match, int count = 1) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] {
      int found = 0;
      for (const auto& change : changes_) found += match(change) ? 1 : 0;
      return found >= count;
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Change> changes_;  // guarded by mu_
};

bool Listening(const Change& change) {
  return change.topics == kAllChangeTopics && change.newest_event_id == 0;
}

TEST(PgChangePayload, RoundTripsAndRefusesWhatItCannotRead) {
  const Change change{
      static_cast<unsigned>(ChangeTopic::kJobs) | static_cast<unsigned>(ChangeTopic::kEvents),
      1234567890123};
  EXPECT_EQ(EncodePgChange(change), "3:1234567890123");
  auto decoded = DecodePgChange(EncodePgChange(change));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->topics, change.topics);
  EXPECT_EQ(decoded->newest_event_id, change.newest_event_id);
  for (const char* bad : {"", "3", "3:", ":5", "x:1", "3:1y", "3;1"}) {
    EXPECT_FALSE(DecodePgChange(bad).has_value()) << bad;
  }
}

TEST(PostgresChanges, ListenersHearTheCommitsOfOtherConnections) {
  PgTestEnv env;
  FakeClock clock;
  auto listening = Ok(env.Connect(clock));
  auto writer = Ok(env.Connect(clock));
  Heard heard;
  const int64_t id = listening->AddChangeListener(heard.Listener());
  ASSERT_TRUE(heard.WaitFor(Listening));

  NewJob job;
  job.stages = {"probe"};
  Ok(writer->InsertAssetWithJob(MakeAsset("a1"), job));
  EXPECT_TRUE(heard.WaitFor(
      [](const Change& c) { return c.topics != kAllChangeTopics && c.Has(ChangeTopic::kJobs); }));
  const int64_t created = Ok(writer->LatestEventId());
  EXPECT_TRUE(heard.WaitFor([&](const Change& c) { return c.newest_event_id == created; }));

  Ok(writer->SetAssetStatus("a1", AssetStatus::kReady));
  const int64_t ready = Ok(writer->LatestEventId());
  EXPECT_GT(ready, created);
  EXPECT_TRUE(heard.WaitFor(
      [&](const Change& c) { return c.Has(ChangeTopic::kEvents) && c.newest_event_id == ready; }));

  NewImport import;
  import.id = "imp_1";
  import.owner = "alice";
  import.url = "http://example.test/a.mp4";
  Ok(writer->InsertImport(import));
  EXPECT_TRUE(heard.WaitFor(
      [](const Change& c) { return c.topics == static_cast<unsigned>(ChangeTopic::kImports); }));
  listening->RemoveChangeListener(id);
}

// The listening connection is lost with the server; once the server is back the catalog
// listens again (telling every topic: something may have been missed) and hears the
// next commit of another connection.
TEST(PostgresChanges, TheListenerListensAgainAfterTheServerComesBack) {
  OwnServer server;
  FakeClock clock;
  PgPoolOptions options;
  options.connect_attempts = 2;
  options.first_backoff = std::chrono::milliseconds(5);
  options.max_backoff = std::chrono::milliseconds(200);
  auto listening = Ok(PostgresCatalog::Open(server.url(), clock, options));
  Heard heard;
  const int64_t id = listening->AddChangeListener(heard.Listener());
  ASSERT_TRUE(heard.WaitFor(Listening));

  server.Halt();
  server.Resume();
  ASSERT_TRUE(heard.WaitFor(Listening, 2)) << "the catalog did not listen again";

  auto writer = Ok(PostgresCatalog::Open(server.url(), clock, options));
  NewJob job;
  job.stages = {"probe"};
  Ok(writer->InsertAssetWithJob(MakeAsset("a1"), job));
  EXPECT_TRUE(heard.WaitFor([](const Change& c) {
    return c.topics == (static_cast<unsigned>(ChangeTopic::kJobs) |
                        static_cast<unsigned>(ChangeTopic::kEvents));
  }));
  listening->RemoveChangeListener(id);
}

}  // namespace
}  // namespace reprise::catalog
