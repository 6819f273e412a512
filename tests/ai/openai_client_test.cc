#include "ai/openai_client.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <thread>

#include <curl/curl.h>
#include <fmt/format.h>

#include "tests/ai/ai_fakes.h"
#include "tests/support/openai_test_server.h"

namespace reprise::ai {
namespace {

using nlohmann::json;
using testing::OpenAiFault;
using testing::OpenAiFaultSpec;
using testing::OpenAiTestServer;

OpenAiFaultSpec Fault(OpenAiFault fault, std::string retry_after = "",
                      std::string retry_after_ms = "") {
  OpenAiFaultSpec spec;
  spec.fault = fault;
  spec.retry_after = std::move(retry_after);
  spec.retry_after_ms = std::move(retry_after_ms);
  return spec;
}

ServiceConfig Config(std::string base_url, std::string api_key = "test-key") {
  ServiceConfig config;
  config.base_url = std::move(base_url);
  config.api_key = std::move(api_key);
  return config;
}

OpenAiTestServer::Options ServerOptions(const Clock& clock) {
  OpenAiTestServer::Options options;
  options.clock = &clock;
  return options;
}

// The call failed with `code` and a message containing `fragment`.
template <class T>
::testing::AssertionResult FailsWith(const Result<T>& result, ErrorCode code,
                                     std::string_view fragment) {
  if (result) return ::testing::AssertionFailure() << "the call succeeded";
  if (result.error().code != code || result.error().message.find(fragment) == std::string::npos) {
    return ::testing::AssertionFailure() << result.error().ToString();
  }
  return ::testing::AssertionSuccess();
}

const json kSchema = json::parse(R"({
  "type": "object", "additionalProperties": false, "required": ["description", "tags"],
  "properties": {
    "description": {"type": "string", "minLength": 1},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}
  }
})");
const json kAnswer = {{"description", "A red ball rolls across a lawn."},
                      {"tags", {"ball", "lawn"}}};

// A client on a fake clock whose waits are recorded, against a fresh test server.
class OpenAiClientTest : public ::testing::Test {
 protected:
  OpenAiClientTest() : server_(ServerOptions(clock_)) { server_.SetChatAnswer(kAnswer); }

  OpenAiClient Client(ServiceConfig config = {}, RequestLimiter* limiter = nullptr) {
    if (config.base_url.empty()) config.base_url = server_.base_url();
    if (config.api_key.empty()) config.api_key = "test-key";
    if (limiter_ == nullptr) {
      auto created = ProcessRequestLimiter::Create(Limits(3), clock_, sleeper_);
      EXPECT_TRUE(created);
      limiter_ = std::move(*created);
    }
    auto client = OpenAiClient::Create(
        config, {clock_, sleeper_, random_, limiter != nullptr ? *limiter : *limiter_});
    EXPECT_TRUE(client) << client.error().ToString();
    return std::move(*client);
  }

  static ChatRequest Request() {
    ChatRequest request;
    request.model = "test-vision";
    request.system = "Describe scenes as JSON.";
    request.user = "Describe this scene.";
    request.images = {{MakeJpeg(64, 48), "low"}, {MakeJpeg(33, 17), "high"}};
    request.temperature = 0.2;
    request.max_tokens = 300;
    request.schema_name = "scene";
    request.schema = kSchema;
    return request;
  }

  FakeClock clock_;
  FakeSleeper sleeper_{clock_};
  SeededRandom random_{7};
  std::unique_ptr<ProcessRequestLimiter> limiter_;
  OpenAiTestServer server_;
};

TEST_F(OpenAiClientTest, ListsTheServedModels) {
  auto models = Client().ListModels();
  ASSERT_TRUE(models) << models.error().ToString();
  EXPECT_EQ(models->ids, (std::vector<std::string>{"test-vision", "test-whisper"}));
  EXPECT_EQ(models->stats.attempts, 1);
  ASSERT_EQ(server_.calls().size(), 1U);
  EXPECT_EQ(server_.calls()[0].path, "/v1/models");
  EXPECT_EQ(server_.calls()[0].authorization, "Bearer test-key");
}

TEST_F(OpenAiClientTest, ListModelsMeasuresLatencyOnTheRealClock) {
  SystemClock clock;
  RealSleeper sleeper;
  auto limiter = ProcessRequestLimiter::Create({}, clock, sleeper);
  ASSERT_TRUE(limiter);
  auto client =
      OpenAiClient::Create(Config(server_.base_url()), {clock, sleeper, random_, **limiter});
  ASSERT_TRUE(client);
  auto models = client->ListModels();
  ASSERT_TRUE(models) << models.error().ToString();
  EXPECT_GT(models->stats.latency.count(), 0);
}

TEST_F(OpenAiClientTest, ChatSendsOpenAisShapeAndReturnsTheValidatedAnswer) {
  ServiceConfig config;
  config.user_agent = "reprise-test/1";
  auto result = Client(config).ChatJson(Request());
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->value, kAnswer);
  EXPECT_EQ(result->model, "test-vision-2024-test");
  EXPECT_GT(result->usage.prompt_tokens, 0);
  EXPECT_GT(result->usage.completion_tokens, 0);
  EXPECT_EQ(result->usage.total_tokens,
            result->usage.prompt_tokens + result->usage.completion_tokens);
  EXPECT_EQ(result->stats.attempts, 1);

  auto calls = server_.calls();
  ASSERT_EQ(calls.size(), 1U);
  const testing::OpenAiCall& call = calls[0];
  EXPECT_EQ(call.path, "/v1/chat/completions");
  EXPECT_EQ(call.user_agent, "reprise-test/1");
  EXPECT_EQ(call.images, 2);  // the server checked both are real JPEGs
  EXPECT_EQ(call.image_details, (std::vector<std::string>{"low", "high"}));
  const json& body = call.body;
  EXPECT_EQ(body["model"], "test-vision");
  EXPECT_EQ(body["temperature"], 0.2);
  EXPECT_EQ(body["max_tokens"], 300);
  EXPECT_EQ(body["messages"][0],
            json({{"role", "system"}, {"content", "Describe scenes as JSON."}}));
  EXPECT_EQ(body["messages"][1]["role"], "user");
  EXPECT_EQ(body["messages"][1]["content"][0],
            json({{"type", "text"}, {"text", "Describe this scene."}}));
  EXPECT_EQ(body["response_format"]["type"], "json_schema");
  EXPECT_EQ(body["response_format"]["json_schema"]["name"], "scene");
  EXPECT_EQ(body["response_format"]["json_schema"]["strict"], true);
  EXPECT_EQ(body["response_format"]["json_schema"]["schema"], kSchema);
}

TEST_F(OpenAiClientTest, TheAnswerCanBeAFunctionOfTheRequest) {
  server_.SetChatScript([](const json& request) {
    return json{{"description", request["messages"][1]["content"][0]["text"]},
                {"tags", json::array()}};
  });
  ChatRequest request = Request();
  request.user = "scene 12";
  auto result = Client().ChatJson(request);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->value["description"], "scene 12");
}

TEST_F(OpenAiClientTest, ANonJpegImageIsRefusedByTheServerAndNotRetried) {
  ChatRequest request = Request();
  request.images[1].jpeg = request.images[1].jpeg.substr(0, 200);  // cut: no EOI
  auto result = Client().ChatJson(request);
  ASSERT_TRUE(FailsWith(result, ErrorCode::kInvalidArgument,
                        "invalid_image: does not end with an EOI marker"));
  EXPECT_EQ(result.error().origin, "http:400");
  EXPECT_EQ(server_.calls().size(), 1U);
}

TEST_F(OpenAiClientTest, AWrongKeyIsPermissionDeniedAndNotRetried) {
  ServiceConfig config;
  config.api_key = "wrong";
  auto result = Client(config).ChatJson(Request());
  ASSERT_TRUE(FailsWith(result, ErrorCode::kPermissionDenied,
                        "Incorrect API key provided. (invalid_api_key)"));
  EXPECT_EQ(result.error().origin, "http:401");
  EXPECT_EQ(server_.calls().size(), 1U);
  EXPECT_TRUE(sleeper_.waits().empty());
}

TEST_F(OpenAiClientTest, AModelTheServerLacksIsNotFound) {
  ChatRequest request = Request();
  request.model = "gpt-nonexistent";
  auto result = Client().ChatJson(request);
  ASSERT_TRUE(
      FailsWith(result, ErrorCode::kNotFound, "The model `gpt-nonexistent` does not exist"));
  EXPECT_EQ(server_.calls().size(), 1U);
}

TEST_F(OpenAiClientTest, RetryAfterSecondsIsHonoured) {
  server_.QueueFaults({Fault(OpenAiFault::kRateLimited, "7")});
  auto result = Client().ChatJson(Request());
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stats.attempts, 2);
  auto calls = server_.calls();
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].status, 429);
  EXPECT_GE(calls[1].clock_micros - calls[0].clock_micros, 7'000'000);
  EXPECT_EQ(sleeper_.waits(), std::vector<std::chrono::microseconds>{std::chrono::seconds(7)});
}

// Records how many permits were out each time the client backed off.
class PermitCountingSleeper final : public Sleeper {
 public:
  PermitCountingSleeper(FakeClock& clock, const ProcessRequestLimiter*& limiter)
      : clock_(clock), limiter_(limiter) {}
  void Sleep(std::chrono::microseconds duration) override {
    held.push_back(limiter_->in_flight());
    clock_.Advance(duration.count());
  }
  std::vector<int> held;

 private:
  FakeClock& clock_;
  const ProcessRequestLimiter*& limiter_;
};

TEST_F(OpenAiClientTest, NoPermitIsHeldWhileBackingOff) {
  const ProcessRequestLimiter* watched = nullptr;
  PermitCountingSleeper sleeper(clock_, watched);
  auto limiter = ProcessRequestLimiter::Create(Limits(1), clock_, sleeper);
  ASSERT_TRUE(limiter);
  watched = limiter->get();
  auto client =
      OpenAiClient::Create(Config(server_.base_url()), {clock_, sleeper, random_, **limiter});
  ASSERT_TRUE(client);
  server_.QueueFaults({Fault(OpenAiFault::kServerError), Fault(OpenAiFault::kRateLimited, "2")});
  ASSERT_TRUE(client->ChatJson(Request()));
  EXPECT_EQ(sleeper.held, (std::vector<int>{0, 0}));
  EXPECT_EQ(server_.calls().size(), 3U);
}

TEST_F(OpenAiClientTest, RetryAfterMsWinsOverRetryAfter) {
  server_.QueueFaults({Fault(OpenAiFault::kRateLimited, "30", "1500")});
  auto result = Client().ChatJson(Request());
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(sleeper_.waits(),
            std::vector<std::chrono::microseconds>{std::chrono::milliseconds(1500)});
}

TEST_F(OpenAiClientTest, RetryAfterAnHttpDateIsHonoured) {
  const time_t when = static_cast<time_t>(clock_.NowMicros() / 1'000'000) + 20;
  std::tm tm{};
  gmtime_r(&when, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  OpenAiFaultSpec unavailable = Fault(OpenAiFault::kServerError, date);
  unavailable.status = 503;
  server_.QueueFaults({unavailable});
  auto result = Client().ChatJson(Request());
  ASSERT_TRUE(result) << result.error().ToString();
  auto calls = server_.calls();
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].status, 503);
  EXPECT_GE(calls[1].clock_micros - calls[0].clock_micros, 20'000'000);
}

TEST_F(OpenAiClientTest, RetryAfterIsHonouredInRealTime) {
  SystemClock clock;
  RealSleeper sleeper;
  auto limiter = ProcessRequestLimiter::Create({}, clock, sleeper);
  ASSERT_TRUE(limiter);
  ServiceConfig config = Config(server_.base_url());
  config.initial_backoff = std::chrono::milliseconds(1);  // far shorter than the server asks
  auto client = OpenAiClient::Create(config, {clock, sleeper, random_, **limiter});
  ASSERT_TRUE(client);
  server_.QueueFaults({Fault(OpenAiFault::kRateLimited, "", "300")});
  auto result = client->ListModels();
  ASSERT_TRUE(result) << result.error().ToString();
  auto calls = server_.calls();
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_GE(calls[1].received - calls[0].received, std::chrono::milliseconds(300));
}

TEST_F(OpenAiClientTest, ServerErrorsAreRetriedABoundedNumberOfTimesWithBackoff) {
  server_.QueueFaults(std::vector<OpenAiFaultSpec>(10, Fault(OpenAiFault::kServerError)));
  ServiceConfig config;
  config.max_attempts = 4;
  config.initial_backoff = std::chrono::milliseconds(1000);
  config.max_backoff = std::chrono::milliseconds(3000);
  auto result = Client(config).ChatJson(Request());
  ASSERT_TRUE(FailsWith(result, ErrorCode::kUnavailable,
                        "gave up after 4 attempt(s); the last: http 500: The "
                        "server had an error"));
  EXPECT_EQ(result.error().origin, "http:500");
  EXPECT_EQ(server_.calls().size(), 4U);
  auto waits = sleeper_.waits();
  ASSERT_EQ(waits.size(), 3U);  // none after the last attempt
  const int64_t full[] = {1'000'000, 2'000'000, 3'000'000};
  for (size_t i = 0; i < waits.size(); ++i) {
    EXPECT_GE(waits[i].count(), full[i] / 2) << i;
    EXPECT_LE(waits[i].count(), full[i]) << i;
  }
}

TEST_F(OpenAiClientTest, ARetryAfterBeyondTheLimitIsNotWaitedFor) {
  server_.QueueFaults({Fault(OpenAiFault::kRateLimited, "3600")});
  auto result = Client().ChatJson(Request());
  ASSERT_TRUE(FailsWith(result, ErrorCode::kUnavailable,
                        "asked to retry after 3600.0 s, more than the 120.0 s"));
  EXPECT_EQ(server_.calls().size(), 1U);
  EXPECT_TRUE(sleeper_.waits().empty());
}

TEST_F(OpenAiClientTest, AMalformedBodyIsTriedOnceMore) {
  server_.QueueFaults({Fault(OpenAiFault::kMalformedBody)});
  auto result = Client().ChatJson(Request());
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stats.attempts, 2);
}

TEST_F(OpenAiClientTest, AMalformedBodyTwiceIsAClearErrorAfterTwoRequests) {
  server_.QueueFaults(std::vector<OpenAiFaultSpec>(5, Fault(OpenAiFault::kMalformedBody)));
  auto result = Client().ChatJson(Request());
  ASSERT_TRUE(FailsWith(result, ErrorCode::kUnavailable, "http 200 with a body that is not JSON"));
  EXPECT_NE(result.error().message.find("twice in a row"), std::string::npos);
  EXPECT_EQ(server_.calls().size(), 2U);
}

struct ModelFailureCase {
  OpenAiFault fault;
  std::string message;
};

class ModelFailureTest : public OpenAiClientTest,
                         public ::testing::WithParamInterface<ModelFailureCase> {};

TEST_P(ModelFailureTest, IsAPreciseErrorAndNotRetried) {
  server_.QueueFaults({Fault(GetParam().fault)});
  auto result = Client().ChatJson(Request());
  ASSERT_TRUE(FailsWith(result, ErrorCode::kInternal, GetParam().message));
  EXPECT_EQ(server_.calls().size(), 1U);
}

std::string FaultName(const ::testing::TestParamInfo<ModelFailureCase>& param) {
  const std::array<const char*, 4> names{"Refusal", "Truncated", "Empty", "NotJson"};
  return names.at(param.index);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, ModelFailureTest,
    ::testing::Values(
        ModelFailureCase{OpenAiFault::kRefusal,
                         "the model refused: I'm sorry, I can't help with that."},
        ModelFailureCase{OpenAiFault::kTruncated,
                         "cut off by the token limit (finish_reason \"length\", max_tokens 300)"},
        ModelFailureCase{OpenAiFault::kEmptyContent,
                         "the model returned no content (finish_reason \"stop\")"},
        ModelFailureCase{OpenAiFault::kNotJsonContent, "the model's content is not JSON"}),
    FaultName);

TEST_F(OpenAiClientTest, ASchemaViolationNamesThePath) {
  server_.SetChatAnswer({{"description", "x"}, {"tags", {"a", 2}}});
  auto result = Client().ChatJson(Request());
  ASSERT_TRUE(
      FailsWith(result, ErrorCode::kInternal,
                "does not match the schema 'scene': /tags/1: integer is not of type \"string\""));
}

TEST_F(OpenAiClientTest, AnUnsupportedSchemaIsRefusedBeforeSending) {
  ChatRequest request = Request();
  request.schema["properties"]["tags"]["uniqueItems"] = true;
  auto result = Client().ChatJson(request);
  ASSERT_TRUE(FailsWith(result, ErrorCode::kInvalidArgument, "unsupported keyword 'uniqueItems'"));
  EXPECT_TRUE(server_.calls().empty());
}

TEST_F(OpenAiClientTest, ABadAnswerFailsOnlyItsOwnRequest) {
  server_.SetChatScript([](const json& request) {
    const std::string text = request["messages"][1]["content"][0]["text"];
    if (text == "scene 3") return json{{"description", ""}, {"tags", json::array()}};
    return json{{"description", text}, {"tags", json::array()}};
  });
  OpenAiClient client = Client();
  std::vector<Result<ChatResult>> results(8, Fail(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      ChatRequest request = Request();
      request.user = fmt::format("scene {}", i);
      results[i] = client.ChatJson(request);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < 8; ++i) {
    if (i == 3) {
      ASSERT_FALSE(results[i]);
      EXPECT_NE(
          results[i].error().message.find("/description: 0 characters, fewer than minLength 1"),
          std::string::npos)
          << results[i].error().message;
    } else {
      ASSERT_TRUE(results[i]) << i << ": " << results[i].error().ToString();
      EXPECT_EQ(results[i]->value["description"], fmt::format("scene {}", i));
    }
  }
  EXPECT_EQ(server_.calls().size(), 8U);
}

TEST_F(OpenAiClientTest, ASlowAnswerTimesOutAndIsRetried) {
  OpenAiFaultSpec slow = Fault(OpenAiFault::kSlow);
  slow.delay = std::chrono::milliseconds(3000);
  server_.QueueFaults({slow});
  ServiceConfig config;
  config.request_timeout = std::chrono::milliseconds(300);
  auto result = Client(config).ListModels();
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->stats.attempts, 2);
  EXPECT_EQ(sleeper_.waits().size(), 1U);
}

TEST_F(OpenAiClientTest, AnUnreachableServerGivesUpAfterMaxAttempts) {
  // A port that was just free: nothing listens on it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);
  ServiceConfig config;
  config.base_url = fmt::format("http://127.0.0.1:{}/v1", ntohs(address.sin_port));
  config.max_attempts = 3;
  auto result = Client(config).ListModels();
  ASSERT_TRUE(FailsWith(result, ErrorCode::kUnavailable, "gave up after 3 attempt(s)"));
  EXPECT_EQ(result.error().origin, fmt::format("curl:{}", static_cast<int>(CURLE_COULDNT_CONNECT)));
  EXPECT_EQ(sleeper_.waits().size(), 2U);
}

TEST_F(OpenAiClientTest, CreateRefusesABadConfig) {
  auto limiter = ProcessRequestLimiter::Create({}, clock_, sleeper_);
  ASSERT_TRUE(limiter);
  ClientDependencies deps{clock_, sleeper_, random_, **limiter};
  auto ftp = OpenAiClient::Create(Config("ftp://example.com/v1"), deps);
  ASSERT_FALSE(ftp);
  EXPECT_EQ(ftp.error().code, ErrorCode::kInvalidArgument);
  ServiceConfig no_attempts = Config("http://example.com/v1");
  no_attempts.max_attempts = 0;
  auto zero = OpenAiClient::Create(no_attempts, deps);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::kInvalidArgument);
  auto slash = OpenAiClient::Create(Config(server_.base_url() + "/"), deps);
  ASSERT_TRUE(slash);
  EXPECT_TRUE(slash->ListModels());
}

TEST_F(OpenAiClientTest, TheConcurrencyCapHoldsAndIsReachedUnderLoad) {
  auto limiter = ProcessRequestLimiter::Create(Limits(3), clock_, sleeper_);
  ASSERT_TRUE(limiter);
  // Each request waits for a fourth to join it (which a working cap never lets happen) or
  // for 200 ms, so requests pile up to the cap, and one past it would be seen.
  server_.HoldUntilInFlight(4, std::chrono::milliseconds(200));
  const ChatRequest request = Request();
  // Two clients (as two stages would be) sharing one limiter, twelve threads.
  OpenAiClient scenes = Client({}, limiter->get());
  OpenAiClient summary = Client({}, limiter->get());
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 2; ++j) {
        if (!(i % 2 == 0 ? scenes : summary).ChatJson(request)) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(server_.calls().size(), 24U);
  EXPECT_EQ(server_.max_in_flight(), 3);
  EXPECT_EQ((*limiter)->in_flight(), 0);
}

TEST_F(OpenAiClientTest, TheRequestsPerMinuteCapHolds) {
  auto limiter = ProcessRequestLimiter::Create(Limits(3, 5), clock_, sleeper_);
  ASSERT_TRUE(limiter);
  OpenAiClient client = Client({}, limiter->get());
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(client.ListModels());
  auto calls = server_.calls();
  ASSERT_EQ(calls.size(), 12U);
  for (size_t i = 5; i < calls.size(); ++i) {  // any six in a row span a minute or more
    EXPECT_GE(calls[i].clock_micros - calls[i - 5].clock_micros, 60'000'000) << i;
  }
}

TEST_F(OpenAiClientTest, TranscribesAWavIntoSegments) {
  TranscribeRequest request;
  request.model = "test-whisper";
  request.wav = MakeWav(5.0);
  request.language = "en";
  auto result = Client().Transcribe(request);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->language, "english");
  EXPECT_DOUBLE_EQ(result->duration, 5.0);
  EXPECT_EQ(result->text, " segment 0 segment 1 segment 2");
  ASSERT_EQ(result->segments.size(), 3U);
  EXPECT_DOUBLE_EQ(result->segments[2].start, 4.0);
  EXPECT_DOUBLE_EQ(result->segments[2].end, 5.0);
  EXPECT_EQ(result->segments[1].text, " segment 1");
  auto calls = server_.calls();
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].path, "/v1/audio/transcriptions");
  EXPECT_EQ(calls[0].wav_bytes, static_cast<int64_t>(request.wav.size()));
  EXPECT_EQ(calls[0].body, json({{"model", "test-whisper"},
                                 {"language", "en"},
                                 {"response_format", "verbose_json"},
                                 {"timestamp_granularities[]", "segment"}}));
}

TEST_F(OpenAiClientTest, ANonWavIsRefusedByTheServer) {
  TranscribeRequest request;
  request.model = "test-whisper";
  request.wav = MakeJpeg(16, 16);
  auto result = Client().Transcribe(request);
  ASSERT_TRUE(FailsWith(result, ErrorCode::kInvalidArgument, "invalid_file: not a RIFF WAVE file"));
}

TEST_F(OpenAiClientTest, ATranscriptionWithoutSegmentsIsMalformed) {
  server_.SetTranscriptionScript([](const json&, double) { return json{{"text", "hello there"}}; });
  TranscribeRequest request;
  request.model = "test-whisper";
  request.wav = MakeWav(1.0);
  auto result = Client().Transcribe(request);
  ASSERT_TRUE(FailsWith(result, ErrorCode::kUnavailable, "text but no \"segments\""));
  EXPECT_EQ(server_.calls().size(), 2U);
}

TEST_F(OpenAiClientTest, SegmentsRunningBackwardsAreMalformed) {
  server_.SetTranscriptionScript([](const json&, double) {
    return json{{"text", "a"}, {"segments", {{{"start", 2.0}, {"end", 1.0}, {"text", "a"}}}}};
  });
  TranscribeRequest request;
  request.model = "test-whisper";
  request.wav = MakeWav(1.0);
  auto result = Client().Transcribe(request);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("segment 0 runs from 2 to 1 s"), std::string::npos)
      << result.error().message;
}

}  // namespace
}  // namespace reprise::ai
