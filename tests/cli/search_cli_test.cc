// `reprise search` through the real binary, on real recorded speech transcribed by the
// local PocketSphinx backend: a word the recognizer heard is found with the time it was
// said, and an owner filter that is not the asset's owner finds nothing.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_fixture.h"
#include "tests/support/spoken_clip.h"

namespace reprise {
namespace {

TEST_F(CliTest, SearchFindsAWordSpokenInAClipWithItsTimeOffset) {
  testing::WriteFile(data_.Join("reprise.toml"), "[pipeline]\nstages = [\"transcript\"]\n");
  const std::string clip = input_.Join("spoken.m4a");
  ASSERT_TRUE(testing::MakeSpokenClip(clip));
  json ingested = RunJson({"ingest", "--process", "--owner", "alice", clip});
  const std::string id = ingested["ingest"]["items"][0]["asset"]["id"];
  json detail = RunJson({"assets", "show", id});
  json transcript_files = FindStage(detail, "transcript")["current"]["blobs"];
  std::string key;
  for (const auto& file : transcript_files) {
    if (file["name"] == "transcript.json") key = file["key"];
  }
  ASSERT_FALSE(key.empty()) << detail.dump(2);
  json transcript = json::parse(testing::ReadFile(BlobPath(key)));
  auto spoken = testing::RecognizedWord(transcript);
  ASSERT_TRUE(spoken) << "the recognizer got no reference word right: " << transcript.dump();

  json found = RunJson({"search", spoken->word});
  ASSERT_EQ(found["hits"].size(), 1u) << found.dump(2);
  const json& hit = found["hits"][0];
  EXPECT_EQ(hit["asset_id"], id);
  EXPECT_EQ(hit["asset_name"], "spoken.m4a");
  EXPECT_EQ(hit["stage"], "transcript");
  EXPECT_EQ(hit["kind"], "transcript");
  EXPECT_NE(hit["text"].get<std::string>().find(spoken->word), std::string::npos) << hit.dump();
  // The hit is the segment the word was said in.
  EXPECT_LE(hit["start"].get<double>(), spoken->start) << hit.dump();
  EXPECT_GE(hit["end"].get<double>(), spoken->end) << hit.dump();
  EXPECT_GE(hit["start"].get<double>(), 0.9) << "the clip opens with a second of silence";

  // The table shows where to jump.
  CommandResult table = Run({"search", spoken->word});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  const auto at = static_cast<int>(hit["start"].get<double>());
  const std::string offset =
      std::to_string(at / 60) + ":" + (at % 60 < 10 ? "0" : "") + std::to_string(at % 60);
  for (const std::string& part : {std::string("ASSET"), std::string("AT"), id, offset}) {
    EXPECT_NE(table.out.find(part), std::string::npos) << part << " in\n" << table.out;
  }

  EXPECT_TRUE(RunJson({"search", spoken->word, "--owner", "bob"})["hits"].empty());
  EXPECT_TRUE(RunJson({"search", spoken->word, "--kind", "tag"})["hits"].empty());
  EXPECT_EQ(RunJson({"search", "spoken", "--kind", "name"})["hits"].size(), 1u);
  CommandResult blank = Run({"search", " "});
  EXPECT_EQ(blank.exit_code, 2) << blank.output;
}

}  // namespace
}  // namespace reprise
