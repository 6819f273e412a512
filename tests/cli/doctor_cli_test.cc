// `reprise doctor` through the real binary: the catalog, the blob store and every
// configured OpenAI-compatible service (the test server on loopback, and one that is down).
#include <fstream>

#include "tests/cli/cli_fixture.h"
#include "tests/support/openai_test_server.h"

namespace reprise {
namespace {

class DoctorCli : public CliTest {
 protected:
  void WriteConfig(const std::string& services) {
    std::ofstream(data_.Join("reprise.toml")) << services;
  }

  static json Find(const json& doc, const std::string& check) {
    for (const auto& item : doc["checks"]) {
      if (item["check"] == check) return item;
    }
    ADD_FAILURE() << "no check " << check << " in " << doc.dump();
    return json();
  }

  testing::OpenAiTestServer server_;
};

TEST_F(DoctorCli, ChecksTheLibraryAndEveryServiceAndFailsWhenOneIsDown) {
  ASSERT_EQ(Run({"ingest", samples_->Wav()}).exit_code, 0);
  WriteConfig("[services.vision]\nbase_url = \"" + server_.base_url() +
              "\"\napi_key_env = \"DOCTOR_TEST_KEY\"\n"
              "[services.down]\nbase_url = \"http://127.0.0.1:1/v1\"\nmax_attempts = 1\n");
  json doc = RunJson({"doctor"}, 1, {"DOCTOR_TEST_KEY=test-key"});
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(Find(doc, "catalog")["status"], "ok");
  EXPECT_EQ(Find(doc, "blob store")["status"], "ok");
  EXPECT_EQ(Find(doc, "stages")["status"], "ok");
  json vision = Find(doc, "service vision");
  EXPECT_EQ(vision["status"], "ok") << vision.dump();
  EXPECT_EQ(vision["facts"]["models"], (json{"test-vision", "test-whisper"}));
  EXPECT_GT(vision["facts"]["latency_ms"].get<double>(), 0);
  json down = Find(doc, "service down");
  EXPECT_EQ(down["status"], "failed");
  EXPECT_NE(down["detail"].get<std::string>().find("127.0.0.1:1"), std::string::npos);
  // The server saw the health check with the key from the named variable.
  ASSERT_EQ(server_.calls().size(), 1u);
  EXPECT_EQ(server_.calls()[0].path, "/v1/models");
  EXPECT_EQ(server_.calls()[0].authorization, "Bearer test-key");

  // Only the reachable one, its key variable unset: a warning, and a passing exit code...
  // unless the server refuses the call without a key, which it does.
  WriteConfig("[services.vision]\nbase_url = \"" + server_.base_url() +
              "\"\napi_key_env = \"DOCTOR_TEST_KEY\"\n");
  doc = RunJson({"doctor"}, 1);
  vision = Find(doc, "service vision");
  EXPECT_EQ(vision["status"], "failed");
  EXPECT_EQ(vision["facts"]["key_missing"], true);
  EXPECT_NE(vision["detail"].get<std::string>().find("DOCTOR_TEST_KEY is not set"),
            std::string::npos);

  CommandResult text = Run({"doctor"}, {"DOCTOR_TEST_KEY=test-key"});
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.out.find("service vision"), std::string::npos);
  EXPECT_NE(text.out.find("2 model(s)"), std::string::npos) << text.out;
}

// A stage calling a service names the model it needs: a service that does not list it
// fails the check; one that does passes, with the model among the facts. A stage table
// naming a service that is not configured fails the stages check.
TEST_F(DoctorCli, ChecksTheModelsTheConfiguredStagesAskTheirServiceFor) {
  ASSERT_EQ(Run({"ingest", samples_->Wav()}).exit_code, 0);
  const std::string service = "[services.speech]\nbase_url = \"" + server_.base_url() +
                              "\"\napi_key_env = \"DOCTOR_TEST_KEY\"\n";
  WriteConfig(
      service +
      "[stages.transcript]\nbackend = \"openai\"\nmodel = \"large-v9\"\nservice = \"speech\"\n");
  json doc = RunJson({"doctor"}, 1, {"DOCTOR_TEST_KEY=test-key"});
  json speech = Find(doc, "service speech");
  EXPECT_EQ(speech["status"], "failed") << speech.dump();
  EXPECT_NE(
      speech["detail"].get<std::string>().find("model large-v9 (a stage uses it) is not served"),
      std::string::npos)
      << speech.dump();
  EXPECT_EQ(speech["facts"]["needed_models"], (json{{"large-v9", false}}));

  WriteConfig(service +
              "[stages.transcript]\nbackend = \"openai\"\nmodel = \"test-whisper\"\nservice = "
              "\"speech\"\n");
  doc = RunJson({"doctor"}, 0, {"DOCTOR_TEST_KEY=test-key"});
  speech = Find(doc, "service speech");
  EXPECT_EQ(speech["status"], "ok") << speech.dump();
  EXPECT_EQ(speech["facts"]["needed_models"], (json{{"test-whisper", true}}));

  WriteConfig(service + "[stages.transcript]\nbackend = \"openai\"\nservice = \"whisper\"\n");
  doc = RunJson({"doctor"}, 1, {"DOCTOR_TEST_KEY=test-key"});
  json stages = Find(doc, "stages");
  EXPECT_EQ(stages["status"], "failed");
  EXPECT_NE(stages["detail"].get<std::string>().find("[services.whisper]"), std::string::npos)
      << stages.dump();
}

TEST_F(DoctorCli, AMissingLibraryFailsTheCatalogAndBlobChecks) {
  json doc = RunJson({"doctor"}, 1);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(Find(doc, "blob store")["status"], "failed");
  EXPECT_EQ(Find(doc, "stages")["status"], "ok");
}

}  // namespace
}  // namespace reprise
