// The answers of a real session against the API (two owners' media processed, a backfill
// started, paused, resumed and cancelled, tokens and webhook subscriptions made, errors
// provoked), each judged against the response schema the OpenAPI document gives for its
// route and status by an independent JSON Schema validator (Ajv from npm, pinned in
// tests/interop/openapi). A field renamed, dropped or retyped in a view, or an answer with
// a status the document does not list, fails here: the document is a contract, not prose.
#include <httplib.h>

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/api/api_fixture.h"
#include "tests/support/test_support.h"

namespace reprise::testing {
namespace {

using nlohmann::json;

class OpenApiResponsesTest : public ApiTest {
 protected:
  // Records `response`, the answer to METHOD at the document's path `route`.
  json Record(const std::string& method, const std::string& route,
              const httplib::Result& response) {
    if (!response) {
      ADD_FAILURE() << method << " " << route << ": no response";
      return json();
    }
    json body = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(body.is_discarded()) << method << " " << route << ": " << response->body;
    answers_.push_back(
        {{"method", method}, {"route", route}, {"status", response->status}, {"body", body}});
    return body;
  }
  json RecordGet(const std::string& route, const std::string& path,
                 const std::string& token = "admin") {
    return Record("GET", route, Get(path, token));
  }
  json RecordPost(const std::string& route, const std::string& path, const std::string& body,
                  const std::string& token = "admin") {
    return Record("POST", route, Post(path, body, token));
  }

  // Every recorded answer judged by the validator: the lines it printed, one per answer.
  std::string Judge() {
    json answers = json::array();
    for (const auto& answer : answers_) {
      answers.push_back({{"method", answer["method"]},
                         {"path", answer["route"]},
                         {"status", answer["status"]},
                         {"body", answer["body"]}});
    }
    WriteFile(dir_.Join("answers.json"), answers.dump());
    auto result = RunCommand({"node", std::string(kValidatorDir) + "/validate_responses.js",
                              kDocument, dir_.Join("answers.json")});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.out;
  }

  static constexpr const char* kValidatorDir = REPRISE_OPENAPI_VALIDATOR_DIR;
  static constexpr const char* kDocument = REPRISE_OPENAPI_DOCUMENT;
  json answers_ = json::array();
  TempDir dir_;
};

TEST_P(OpenApiResponsesTest, EveryAnswerOfASessionMatchesItsDocumentedSchema) {
  auto a = Ingest({samples_->H264AacMp4(), samples_->Wav()}, "a", /*process=*/true);
  auto b = Ingest({samples_->Mp3WithCover()}, "b", /*process=*/true);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 1u);

  RecordGet("/healthz", "/healthz");
  RecordGet("/readyz", "/readyz");
  RecordGet("/api/v1/openapi.json", "/api/v1/openapi.json");

  // The library, as an owner and as the admin.
  json assets = RecordGet("/api/v1/assets", "/api/v1/assets", "tokA");
  EXPECT_EQ(assets["items"].size(), 2u);
  RecordGet("/api/v1/assets", "/api/v1/assets?limit=1");
  RecordGet("/api/v1/assets/{id}", "/api/v1/assets/" + a[0], "tokA");
  RecordGet("/api/v1/assets/{id}/derivatives/{stage}",
            "/api/v1/assets/" + a[0] + "/derivatives/thumbnail", "tokA");
  RecordGet("/api/v1/assets/{id}/derivatives/{stage}",
            "/api/v1/assets/" + a[1] + "/derivatives/probe", "tokA");
  RecordGet("/api/v1/duplicates", "/api/v1/duplicates");
  json found = RecordGet("/api/v1/search", "/api/v1/search?q=mp4&limit=1", "tokA");
  EXPECT_EQ(found["hits"].size(), 1u);
  RecordGet("/api/v1/search", "/api/v1/search?q=mp4&cursor=" + found.value("next_cursor", ""),
            "tokA");
  RecordGet("/api/v1/media", "/api/v1/media", "tokA");
  RecordGet("/api/v1/media/{id}", "/api/v1/media/" + a[0], "tokA");

  // The queue.
  json jobs = RecordGet("/api/v1/jobs", "/api/v1/jobs");
  ASSERT_FALSE(jobs["items"].empty());
  RecordGet("/api/v1/jobs/{id}", "/api/v1/jobs/" + jobs["items"][0]["id"].dump());
  RecordPost("/api/v1/jobs/retry", "/api/v1/jobs/retry", R"({"stage": "thumbnail"})");
  RecordGet("/api/v1/queue", "/api/v1/queue");
  json stages = RecordGet("/api/v1/stages", "/api/v1/stages", "tokA");
  EXPECT_EQ(stages.size(), 2u);

  // A backfill from plan to cancellation, and the other planning calls.
  RecordPost("/api/v1/backfills", "/api/v1/backfills",
             R"({"stages": ["thumbnail"], "mode": "all", "dry_run": true})", "tokA");
  json backfill = RecordPost("/api/v1/backfills", "/api/v1/backfills",
                             R"({"stages": ["thumbnail"], "mode": "all"})", "tokA");
  const std::string path = "/api/v1/backfills/" + backfill["id"].dump();
  RecordPost("/api/v1/backfills/{id}/pause", path + "/pause", "", "tokA");
  RecordGet("/api/v1/backfills/{id}", path, "tokA");
  RecordGet("/api/v1/backfills/{id}/diff", path + "/diff", "tokA");
  RecordPost("/api/v1/backfills/{id}/resume", path + "/resume", "", "tokA");
  RecordPost("/api/v1/backfills/{id}/cancel", path + "/cancel", "", "tokA");
  RecordGet("/api/v1/backfills", "/api/v1/backfills");
  RecordPost("/api/v1/rollbacks", "/api/v1/rollbacks", R"({"stage": "thumbnail", "dry_run": true})",
             "tokA");
  RecordPost("/api/v1/process", "/api/v1/process", R"({"stages": ["probe"]})", "tokB");
  RecordPost("/api/v1/samples/reprocess", "/api/v1/samples/reprocess", R"({"dry_run": true})",
             "tokB");

  // Tokens and webhook subscriptions.
  json token = RecordPost("/api/v1/tokens", "/api/v1/tokens", R"({"owner": "c"})");
  RecordGet("/api/v1/tokens", "/api/v1/tokens");
  Record("DELETE", "/api/v1/tokens/{id}", Delete("/api/v1/tokens/" + token["id"].dump()));
  json subscription = RecordPost(
      "/api/v1/webhooks/subscriptions", "/api/v1/webhooks/subscriptions",
      R"({"url": "https://hooks.example.com/reprise", "events": ["asset.ready"]})", "tokA");
  const std::string hook = "/api/v1/webhooks/subscriptions/" + subscription["id"].dump();
  RecordGet("/api/v1/webhooks/subscriptions", "/api/v1/webhooks/subscriptions", "tokA");
  RecordGet("/api/v1/webhooks/subscriptions/{id}", hook, "tokA");
  RecordGet("/api/v1/webhooks/subscriptions/{id}/deliveries", hook + "/deliveries", "tokA");
  RecordGet("/api/v1/events", "/api/v1/events?format=json", "tokA");

  // Errors carry the one error shape, under the statuses the document lists.
  RecordGet("/api/v1/assets/{id}", "/api/v1/assets/" + b[0], "tokA");  // another owner's
  RecordGet("/api/v1/backfills/{id}", "/api/v1/backfills/abc", "tokA");
  RecordGet("/api/v1/backfills", "/api/v1/backfills?owner=b", "tokA");
  RecordGet("/api/v1/search", "/api/v1/search?q=", "tokA");
  RecordGet("/api/v1/jobs", "/api/v1/jobs", "no-such-token");
  RecordPost("/api/v1/backfills", "/api/v1/backfills", "{not json", "tokA");

  Record("DELETE", "/api/v1/assets/{id}", Delete("/api/v1/assets/" + a[1], "tokA"));

  // The validator judged every answer (it does not stop at the first) and passed each.
  std::string lines = Judge();
  size_t passed = 0;
  for (size_t at = 0; (at = lines.find("ok ", at)) != std::string::npos; at += 3) {
    if (at == 0 || lines[at - 1] == '\n') ++passed;
  }
  EXPECT_EQ(passed, answers_.size()) << lines;
}

INSTANTIATE_TEST_SUITE_P(Backends, OpenApiResponsesTest, ::testing::ValuesIn(ApiBackends()),
                         ApiBackendName);

}  // namespace
}  // namespace reprise::testing
