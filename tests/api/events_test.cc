// GET /api/v1/events over real HTTP on loopback: the live stream (server-sent events)
// and the JSON page, owner-scoped, resumable with Last-Event-ID.

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/api_server.h"

namespace reprise {
namespace {

using testing::ApiServer;
using testing::JsonOf;

constexpr auto kPatience = std::chrono::seconds(20);  // a hang guard, not a measurement

http::Router::Options TwoOwners() {
  http::Router::Options options;
  options.authenticate = [](std::string_view token) -> Result<services::Caller> {
    if (token == "tokA") return services::Caller::Owner("a");
    if (token == "tokB") return services::Caller::Owner("b");
    if (token == "admin") return services::Caller::Admin("admin");
    return Fail(ErrorCode::kNotFound, "unknown token");
  };
  return options;
}

// A short heartbeat, so streams write often and a closed client is noticed at once.
void QuickHeartbeat(Config& config) { config.server.event_heartbeat_seconds = 0.05; }

catalog::NewAsset Asset(const std::string& id, const std::string& owner) {
  catalog::NewAsset asset;
  asset.id = id;
  asset.owner = owner;
  asset.source = catalog::AssetSource::kUpload;
  asset.sha256_hex = "sha-" + id;
  asset.cid = "cid-" + id;
  asset.size_bytes = 1;
  asset.original_key = "originals/" + id;
  asset.original_name = id + ".wav";
  asset.source_uri = id + ".wav";
  asset.media.kind = catalog::AssetKind::kAudio;
  return asset;
}

struct Frame {
  std::string id;
  std::string event;
  nlohmann::json data;
};

// Reads one event stream on its own thread and parses what arrives, frame by frame.
class SseReader {
 public:
  SseReader(const ApiServer& api, const std::string& token, const std::string& path,
            httplib::Headers headers = {})
      : client_(api.Client(token)) {
    thread_ = std::thread([this, path, headers] {
      auto result = client_->Get(
          path, headers,
          [this](const httplib::Response& response) {
            std::lock_guard lock(mutex_);
            status_ = response.status;
            content_type_ = response.get_header_value("Content-Type");
            return true;
          },
          [this](const char* data, size_t size) {
            std::lock_guard lock(mutex_);
            buffer_.append(data, size);
            Parse();
            changed_.notify_all();
            return !closing_;
          });
      std::lock_guard lock(mutex_);
      ended_ = true;
      changed_.notify_all();
    });
  }
  ~SseReader() { Close(); }

  // Waits until the stream is open (its preamble arrived); false on a hang or an error.
  bool WaitOpen() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kPatience, [&] { return opened_ || ended_; }) && opened_;
  }
  // Waits for at least `n` events and returns all seen so far.
  std::vector<Frame> WaitFrames(size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kPatience, [&] { return frames_.size() >= n || ended_; });
    return frames_;
  }
  int WaitHeartbeats(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kPatience, [&] { return heartbeats_ >= n || ended_; });
    return heartbeats_;
  }
  std::vector<Frame> frames() {
    std::lock_guard lock(mutex_);
    return frames_;
  }
  int status() {
    std::lock_guard lock(mutex_);
    return status_;
  }
  std::string content_type() {
    std::lock_guard lock(mutex_);
    return content_type_;
  }
  void Close() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Parse() {
    size_t end;
    while ((end = buffer_.find("\n\n")) != std::string::npos) {
      std::string block = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      Frame frame;
      bool has_data = false;
      size_t start = 0;
      while (start <= block.size()) {
        size_t newline = std::min(block.find('\n', start), block.size());
        std::string line = block.substr(start, newline - start);
        start = newline + 1;
        if (line.rfind("id: ", 0) == 0) frame.id = line.substr(4);
        if (line.rfind("event: ", 0) == 0) frame.event = line.substr(7);
        if (line.rfind("data: ", 0) == 0) {
          frame.data = nlohmann::json::parse(line.substr(6));
          has_data = true;
        }
        if (line == ": stream open") opened_ = true;
        if (line == ": heartbeat") ++heartbeats_;
      }
      if (has_data) frames_.push_back(std::move(frame));
    }
  }

  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string buffer_;
  std::vector<Frame> frames_;
  int heartbeats_ = 0;
  int status_ = 0;
  std::string content_type_;
  bool opened_ = false;
  bool closing_ = false;
  bool ended_ = false;
};

// Events live in the catalog: every stream and page runs on each pair of ApiBackends().
class EventsApi : public ::testing::TestWithParam<testing::ApiBackend> {};
INSTANTIATE_TEST_SUITE_P(Backends, EventsApi, ::testing::ValuesIn(testing::ApiBackends()),
                         testing::ApiBackendName);

TEST_P(EventsApi, AStreamDeliversANewEventAsItHappens) {
  ApiServer api(GetParam(), QuickHeartbeat, TwoOwners());
  ASSERT_TRUE(api.ok());
  SseReader reader(api, "tokA", "/api/v1/events");
  ASSERT_TRUE(reader.WaitOpen());
  EXPECT_EQ(reader.status(), 200);
  EXPECT_EQ(reader.content_type(), "text/event-stream");

  ASSERT_TRUE(api.app().catalog().InsertAsset(Asset("a1", "a")));
  auto frames = reader.WaitFrames(1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "asset.created");
  EXPECT_EQ(frames[0].data["asset_id"], "a1");
  EXPECT_EQ(frames[0].data["owner"], "a");
  EXPECT_EQ(frames[0].id, std::to_string(frames[0].data["id"].get<int64_t>()));
}

TEST_P(EventsApi, ReconnectingWithLastEventIdReplaysExactlyTheMissedEvents) {
  ApiServer api(GetParam(), QuickHeartbeat, TwoOwners());
  ASSERT_TRUE(api.ok());
  auto& catalog = api.app().catalog();
  std::string last_seen;
  {
    SseReader first(api, "tokA", "/api/v1/events");
    ASSERT_TRUE(first.WaitOpen());
    ASSERT_TRUE(catalog.InsertAsset(Asset("a1", "a")));
    auto frames = first.WaitFrames(1);
    ASSERT_EQ(frames.size(), 1u);
    last_seen = frames[0].id;
  }
  // While disconnected: two of a's events and one of b's.
  ASSERT_TRUE(catalog.SetAssetStatus("a1", catalog::AssetStatus::kProcessing));
  ASSERT_TRUE(catalog.InsertAsset(Asset("b1", "b")));
  ASSERT_TRUE(catalog.SetAssetStatus("a1", catalog::AssetStatus::kReady));

  SseReader again(api, "tokA", "/api/v1/events", {{"Last-Event-ID", last_seen}});
  auto frames = again.WaitFrames(2);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].event, "asset.processing");
  EXPECT_EQ(frames[1].event, "asset.ready");
  EXPECT_GT(std::stoll(frames[0].id), std::stoll(last_seen));
  // And it goes on live from there.
  ASSERT_TRUE(catalog.SetAssetStatus("a1", catalog::AssetStatus::kFailed));
  frames = again.WaitFrames(3);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2].event, "asset.failed");

  // The query parameter does the same for clients that cannot set headers.
  SseReader by_query(api, "tokA", "/api/v1/events?last_event_id=" + last_seen);
  EXPECT_EQ(by_query.WaitFrames(3).size(), 3u);
}

TEST_P(EventsApi, AnOwnerNeverSeesAnotherOwnersEventsAndAnAdminSeesAll) {
  ApiServer api(GetParam(), QuickHeartbeat, TwoOwners());
  ASSERT_TRUE(api.ok());
  auto& catalog = api.app().catalog();
  SseReader b(api, "tokB", "/api/v1/events");
  SseReader admin(api, "admin", "/api/v1/events?types=asset.created");
  ASSERT_TRUE(b.WaitOpen());
  ASSERT_TRUE(admin.WaitOpen());
  ASSERT_TRUE(catalog.InsertAsset(Asset("a1", "a")));
  ASSERT_TRUE(catalog.SetAssetStatus("a1", catalog::AssetStatus::kReady));
  ASSERT_TRUE(catalog.InsertAsset(Asset("b1", "b")));
  auto seen_by_admin = admin.WaitFrames(2);
  ASSERT_EQ(seen_by_admin.size(), 2u);
  EXPECT_EQ(seen_by_admin[0].data["asset_id"], "a1");
  EXPECT_EQ(seen_by_admin[1].data["asset_id"], "b1");
  // b's stream holds b1's event; a's events came before it, so had b seen them they
  // would be here already.
  auto seen_by_b = b.WaitFrames(1);
  ASSERT_EQ(seen_by_b.size(), 1u);
  EXPECT_EQ(seen_by_b[0].data["asset_id"], "b1");
  // Replaying everything from the start shows b nothing of a's either.
  SseReader replay(api, "tokB", "/api/v1/events", {{"Last-Event-ID", "0"}});
  ASSERT_EQ(replay.WaitFrames(1).size(), 1u);
  EXPECT_EQ(replay.WaitHeartbeats(2), 2);
  EXPECT_EQ(replay.frames().size(), 1u);
}

TEST_P(EventsApi, TheJsonPageIsScopedFilteredAndPaged) {
  ApiServer api(GetParam(), {}, TwoOwners());
  ASSERT_TRUE(api.ok());
  auto& catalog = api.app().catalog();
  ASSERT_TRUE(catalog.InsertAsset(Asset("a1", "a")));
  ASSERT_TRUE(catalog.InsertAsset(Asset("b1", "b")));
  ASSERT_TRUE(catalog.SetAssetStatus("a1", catalog::AssetStatus::kReady));

  auto a = JsonOf(api.Client("tokA")->Get("/api/v1/events?format=json"));
  ASSERT_EQ(a["events"].size(), 2u);
  EXPECT_EQ(a["events"][0]["type"], "asset.created");
  EXPECT_EQ(a["events"][1]["type"], "asset.ready");
  EXPECT_EQ(a["last_id"], a["events"][1]["id"]);

  auto first = JsonOf(api.Client("admin")->Get("/api/v1/events?format=json&limit=1"));
  ASSERT_EQ(first["events"].size(), 1u);
  auto rest = JsonOf(
      api.Client("admin")->Get("/api/v1/events?format=json&after=" + first["last_id"].dump()));
  ASSERT_EQ(rest["events"].size(), 2u);
  EXPECT_EQ(rest["events"][0]["asset_id"], "b1");

  auto ready = JsonOf(api.Client("admin")->Get("/api/v1/events?format=json&types=asset.ready"));
  ASSERT_EQ(ready["events"].size(), 1u);
  auto only_b = JsonOf(api.Client("admin")->Get("/api/v1/events?format=json&owner=b"));
  ASSERT_EQ(only_b["events"].size(), 1u);

  auto denied = api.Client("tokA")->Get("/api/v1/events?format=json&owner=b");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  auto unknown = api.Client("tokA")->Get("/api/v1/events?types=asset.exploded");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  EXPECT_NE(unknown->body.find("asset.exploded"), std::string::npos);
  auto bad_cursor = api.Client("tokA")->Get("/api/v1/events", {{"Last-Event-ID", "-3"}});
  ASSERT_TRUE(bad_cursor);
  EXPECT_EQ(bad_cursor->status, 400);
  auto anonymous = api.Client()->Get("/api/v1/events?format=json");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

TEST(EventsStream, AStreamThatWentQuietSendsHeartbeatsAndTheServerStopsWithStreamsOpen) {
  auto api = std::make_unique<ApiServer>(QuickHeartbeat, TwoOwners());
  ASSERT_TRUE(api->ok());
  SseReader reader(*api, "tokA", "/api/v1/events");
  ASSERT_TRUE(reader.WaitOpen());
  EXPECT_EQ(reader.WaitHeartbeats(2), 2);
  SseReader abandoned(*api, "tokB", "/api/v1/events");
  ASSERT_TRUE(abandoned.WaitOpen());
  abandoned.Close();  // the client goes away; the server's next write finds out
  api.reset();        // stops the server: every stream ends, nothing hangs
  reader.Close();
}

}  // namespace
}  // namespace reprise
