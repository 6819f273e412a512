// Seed 002's re-analysis, the reprise way, through the real binary and an
// OpenAI-compatible server on loopback: scene descriptions, a video summary and chapters
// from a vision model; a new prompt outdates exactly `semantics` and what consumes it
// (`chapters`); a backfill rebuilds them; a rollback brings the previous descriptions
// back, in semantics.json and in search, with no migration and no script.
#include <fstream>
#include <string>

#include "tests/cli/cli_fixture.h"
#include "tests/support/openai_test_server.h"

namespace reprise {
namespace {

class SemanticsCli : public CliTest {
 protected:
  void SetUp() override {
    // The word a scene is described with follows the prompt, so each recipe's results
    // can be told apart: "lighthouse" under the first prompt, "volcano" under the second.
    server_.SetChatScript([](const json& body) -> json {
      const std::string name = body["response_format"]["json_schema"]["name"];
      // Scene requests carry the prompt; the summary and chapters requests the descriptions.
      const std::string text = body.dump();
      const bool first = text.find("Describe plainly") != std::string::npos ||
                         text.find("lighthouse") != std::string::npos;
      const std::string word = first ? "lighthouse" : "volcano";
      if (name == "scene") {
        return {{"description", "A " + word + " on the screen."},
                {"entities",
                 {{"people", json::array()}, {"objects", {word}}, {"places", json::array()}}},
                {"actions", json::array()},
                {"tags", {word}}};
      }
      if (name == "video_summary") {
        return {{"summary", "A short video about a " + word + "."}, {"tags", {word}}};
      }
      return {{"chapters", {{{"start_scene", 0}, {"title", "The " + word}}}}};
    });
  }

  void Configure(const std::string& scene_prompt) {
    std::ofstream(data_.Join("reprise.toml"))
        << "[pipeline]\nstages = [\"scenes\", \"transcript\", \"semantics\", \"chapters\"]\n"
           "[services.openai]\nbase_url = \""
        << server_.base_url()
        << "\"\napi_key_env = \"SEMANTICS_TEST_KEY\"\nmax_attempts = 1\n"
           "[stages.semantics]\nscene_model = \"test-vision\"\nsummary_model = \"test-vision\"\n"
           "scene_prompt = \""
        << scene_prompt << "\"\n[stages.chapters]\nmodel = \"test-vision\"\n";
  }

  // The stage's current recipe on the asset, and its semantics.json.
  std::string Recipe(const std::string& asset, const std::string& stage) {
    return FindStage(RunJson({"assets", "show", asset}, 0, env_), stage)["current"]["recipe"];
  }
  json SemanticsJson(const std::string& asset) {
    json current = FindStage(RunJson({"assets", "show", asset}, 0, env_), "semantics")["current"];
    for (const auto& blob : current["blobs"]) {
      if (blob["name"] == "semantics.json") {
        return json::parse(testing::ReadFile(BlobPath(blob["key"])));
      }
    }
    ADD_FAILURE() << "no semantics.json in " << current.dump();
    return json();
  }
  std::string SearchedAsset(const std::string& word) {
    json found = RunJson({"search", word}, 0, env_);
    return found["hits"].empty() ? "" : found["hits"][0]["asset_id"].get<std::string>();
  }

  const std::vector<std::string> env_ = {"SEMANTICS_TEST_KEY=test-key"};
  testing::OpenAiTestServer server_;
};

TEST_F(SemanticsCli, ANewPromptOutdatesSemanticsAndChaptersOnlyAndRollbackBringsTheOldBack) {
  Configure("Describe plainly.");
  ASSERT_EQ(Run({"ingest", samples_->VideoOnlyMp4()}, env_).exit_code, 0);
  CommandResult processed = Run({"process"}, env_);
  ASSERT_EQ(processed.exit_code, 0) << processed.output;
  const std::string asset = RunJson({"assets", "list"}, 0, env_)[0]["id"];
  json first = SemanticsJson(asset);
  EXPECT_EQ(first["source"], "model");
  EXPECT_EQ(first["scenes"][0]["description"], "A lighthouse on the screen.");
  EXPECT_EQ(SearchedAsset("lighthouse"), asset);
  const std::string scenes_before = Recipe(asset, "scenes");
  const std::string semantics_before = Recipe(asset, "semantics");
  const std::string chapters_before = Recipe(asset, "chapters");

  // Another prompt: the dry run plans semantics and chapters, and nothing else.
  Configure("Describe with feeling.");
  json plan = RunJson({"backfill", "semantics", "chapters", "--dry-run"}, 0, env_);
  json planned = json::object();
  for (const auto& stage : plan["stages"]) planned[stage["stage"].get<std::string>()] = stage;
  EXPECT_EQ(planned["semantics"]["selected"], 1) << plan.dump(2);
  EXPECT_EQ(planned["chapters"]["selected"], 1) << plan.dump(2);
  for (const char* input : {"scenes", "transcript"}) {
    if (planned.contains(input)) {
      EXPECT_EQ(planned[input]["selected"], 0) << input;
    }
  }
  json status = RunJson({"backfill", "semantics", "chapters", "--yes"}, 0, env_);
  ASSERT_EQ(status["state"], "succeeded") << status.dump(2);
  EXPECT_EQ(Recipe(asset, "scenes"), scenes_before) << "an input is not rebuilt";
  EXPECT_NE(Recipe(asset, "semantics"), semantics_before);
  EXPECT_NE(Recipe(asset, "chapters"), chapters_before);
  EXPECT_EQ(SemanticsJson(asset)["scenes"][0]["description"], "A volcano on the screen.");
  EXPECT_EQ(SearchedAsset("volcano"), asset);
  EXPECT_EQ(SearchedAsset("lighthouse"), "") << "an outdated run's text is not found";

  // The rollback: the first prompt's descriptions are current again, and searchable.
  json rolled = RunJson({"rollback", "semantics", "--yes"}, 0, env_);
  EXPECT_EQ(rolled["rolled_back"], 1) << rolled.dump(2);
  EXPECT_EQ(Recipe(asset, "semantics"), semantics_before);
  EXPECT_EQ(SemanticsJson(asset)["scenes"][0]["description"], "A lighthouse on the screen.");
  EXPECT_EQ(SearchedAsset("lighthouse"), asset);
  json volcano = RunJson({"search", "volcano"}, 0, env_);
  EXPECT_TRUE(volcano["hits"].empty()) << volcano.dump(2);
}

}  // namespace
}  // namespace reprise
